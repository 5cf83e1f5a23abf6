from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrackerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tracker"
    verbose_name = _("Evidence")

    def ready(self) -> None:
        from . import languages, signals  # noqa: F401  (connects the receivers)
