"""Signal receivers: thin hooks into ``sending``, connected in ``apps.ReportsConfig.ready``."""

from django.dispatch import receiver

from tracker.signals import made_confidential

from . import sending


@receiver(made_confidential)
def conceal_in_stored_summaries(sender, instance, concealment, **kwargs) -> None:
    """A source or report was made confidential: the stored summaries stop naming it."""
    sending.summaries_conceal(concealment)
