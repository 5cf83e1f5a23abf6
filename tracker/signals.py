"""Signal receivers: thin hooks into ``services``, connected in ``apps.TrackerConfig.ready``."""

from django.core.signals import setting_changed
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from . import documents, services
from .models import (
    Claim,
    Flag,
    Obligation,
    Place,
    Report,
    ReportDocument,
    Source,
    reset_document_storage,
)


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


@receiver(pre_save, sender=Source)
@receiver(pre_save, sender=Report)
def note_what_becomes_confidential(sender, instance, raw=False, **kwargs) -> None:
    """Before a source or report is saved: whether it becomes confidential (a source), or
    restricted (a report: confidential, or moved to a confidential publisher), and what it
    was called until now. ``conceal_what_became_confidential`` acts on it once saved. A
    queryset ``update()`` sends no signal, and must not make anything confidential."""
    instance._becomes_confidential = None
    if raw or instance._state.adding:
        return
    if sender is Source:
        if instance.confidential:
            instance._becomes_confidential = (
                Source.objects.filter(pk=instance.pk, confidential=False)
                .values_list("name", flat=True)
                .first()
            )
    elif instance.confidential or instance.publisher.confidential:
        instance._becomes_confidential = (
            Report.objects.filter(pk=instance.pk, confidential=False, publisher__confidential=False)
            .values_list("title", flat=True)
            .first()
        )


@receiver(post_save, sender=Source)
@receiver(post_save, sender=Report)
def conceal_what_became_confidential(sender, instance, raw=False, **kwargs) -> None:
    """A source or report saved as confidential (or restricted) that was not: conceal it in
    the flags' public texts and the stored summaries (``services.conceal_made_confidential``).
    After the save, so that a check starting meanwhile reads it as confidential already."""
    was_called = getattr(instance, "_becomes_confidential", None)
    instance._becomes_confidential = None
    if raw or was_called is None:
        return
    services.conceal_made_confidential(instance, was_called=was_called)


_RESTRICTING_FIELDS = frozenset({"report", "report_id", "attributed_to", "attributed_to_id"})


@receiver(pre_save, sender=Claim)
def note_claim_unrestricted(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """Before a stored claim is saved: whether it is not restricted, and how the texts written
    until now name it (``services.unrestricted_attributions``), in case the save restricts it
    (moves it into a restricted report, or attributes it to a confidential source). Imports,
    which update claims without saving them one by one, do the same themselves."""
    instance._unrestricted = ()
    if raw or instance._state.adding:
        return
    if update_fields is not None and not update_fields & _RESTRICTING_FIELDS:
        return  # the save leaves its report and source as they are
    instance._unrestricted = services.unrestricted_attributions([instance.pk])


@receiver(post_save, sender=Claim)
def conceal_claim_made_restricted(sender, instance, raw=False, **kwargs) -> None:
    """A claim saved as restricted that was not: its stored attribution is concealed in the
    flags' public texts and the stored summaries (``services.conceal_claims_made_restricted``).
    """
    before = getattr(instance, "_unrestricted", ())
    instance._unrestricted = ()
    if not raw and before:
        services.conceal_claims_made_restricted(before)


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
