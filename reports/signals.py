"""Signal receivers: thin hooks into ``sending``, connected in ``apps.ReportsConfig.ready``."""

from django.dispatch import receiver

from tracker import services as tracker_services
from tracker.models import Source
from tracker.signals import made_confidential

from . import sending


@receiver(made_confidential)
def conceal_in_stored_summaries(sender, instance, replaced, **kwargs) -> None:
    """A source or report was made confidential: the stored summaries stop naming it."""
    if sender is Source:
        names = tracker_services.source_names([instance.pk])[instance.pk] | {instance.name}
        reports = list(instance.published_reports.all())
    else:
        names, reports = set(), [instance]
    sending.summaries_conceal(texts=replaced, names=names, reports=reports)
