"""Signal receivers: thin hooks into ``services``, connected in ``apps.TrackerConfig.ready``."""

from django.db.models.signals import pre_delete, pre_save
from django.dispatch import Signal, receiver

from . import services
from .models import Claim, Flag, Obligation, Place, Report, Source


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


# Sent once a source or report about to be saved as confidential has been concealed in the
# flags, with ``instance`` and ``replaced`` (the flag texts changed, old to new): the
# summaries app conceals what its stored summaries quote.
made_confidential = Signal()


@receiver(pre_save, sender=Source)
@receiver(pre_save, sender=Report)
def conceal_what_is_made_confidential(sender, instance, raw=False, **kwargs) -> None:
    """A source or report stored as not confidential is saved as confidential: first take its
    names out of the flags' public texts (``services.flags_conceal_source``,
    ``flags_conceal_report``), in the save's transaction, then say so (``made_confidential``).
    A queryset ``update()`` sends no signal, and must not make anything confidential."""
    if raw or instance._state.adding or not instance.confidential:
        return
    if not sender.objects.filter(pk=instance.pk, confidential=False).exists():
        return
    if sender is Source:
        replaced = services.flags_conceal_source(instance)
    else:
        replaced = services.flags_conceal_report(instance)
    made_confidential.send(sender=sender, instance=instance, replaced=replaced)
