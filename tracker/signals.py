"""Signal receivers: thin hooks into ``services``, connected in ``apps.TrackerConfig.ready``."""

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from . import services
from .models import Claim, Flag


@receiver(pre_delete, sender=Claim)
@receiver(pre_delete, sender=Flag)
def wait_for_writers_of_links(sender, **kwargs) -> None:
    """A claim or flag is deleted (its links and events with it, which Django deletes after
    this signal): first wait for the checks writing links, and keep new ones out until the
    deletion commits (``services.links_lock``). Any deletion through the ORM sends it; raw
    SQL does not, and must not delete claims or flags."""
    services.links_lock(exclusive=True)
