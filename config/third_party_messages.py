"""Names that installed packages show in the admin's index and sidebar without a Korean
translation of their own (django-axes, django-celery-beat). Never imported: listed here so that
``make messages`` puts them into the project's catalogue, which Django reads before the
packages' own (``LOCALE_PATHS`` comes first)."""

from django.utils.translation import gettext_noop

MESSAGES = [
    # django-axes
    gettext_noop("access attempts"),
    gettext_noop("access failures"),
    gettext_noop("access logs"),
    # django-celery-beat
    gettext_noop("clocked"),
    gettext_noop("crontabs"),
    gettext_noop("intervals"),
    gettext_noop("periodic tasks"),
    gettext_noop("solar events"),
]
