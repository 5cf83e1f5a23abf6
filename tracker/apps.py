from django.apps import AppConfig


class TrackerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tracker"
    verbose_name = "Evidence"

    def ready(self) -> None:
        from . import languages, signals  # noqa: F401  (connects the receivers)
