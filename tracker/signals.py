"""Signal receivers: thin hooks into ``services``, connected in ``apps.TrackerConfig.ready``."""

from django.core.signals import setting_changed
from django.db.models.signals import post_delete, pre_delete
from django.dispatch import receiver

from . import documents, services
from .models import Claim, Flag, Obligation, Place, ReportDocument, reset_document_storage


@receiver(pre_delete, sender=Claim)
@receiver(pre_delete, sender=Flag)
def wait_for_writers_of_links(sender, **kwargs) -> None:
    """A claim or flag is deleted (its links and events with it, which Django deletes after
    this signal): first wait for the checks writing links, and keep new ones out until the
    deletion commits (``services.links_lock``). Any deletion through the ORM sends it; raw
    SQL does not, and must not delete claims or flags."""
    services.links_lock(exclusive=True)


@receiver(pre_delete, sender=Place)
@receiver(pre_delete, sender=Obligation)
def protect_by_flags_written_meanwhile(sender, instance, **kwargs) -> None:
    """A place or obligation is deleted, which no flag may be about (PROTECT, which Django
    checked before this signal): wait for the checks writing flags, as for a claim, then
    refuse if one of them wrote a flag about it meanwhile (``services.flags_protect``)."""
    services.links_lock(exclusive=True)
    services.flags_protect(instance)


@receiver(post_delete, sender=ReportDocument)
def remove_deleted_document_file(sender, instance, **kwargs) -> None:
    """A document deleted, alone or with its report: its stored file goes once that commits
    (``documents.file_remove_on_commit``)."""
    if instance.file.name:
        documents.file_remove_on_commit(instance.file.name)


@receiver(setting_changed)
def documents_storage_changed(setting, **kwargs) -> None:
    """A test that moves the documents' storage (``STORAGES``) is heard by the model's field."""
    if setting == "STORAGES":
        reset_document_storage()
