"""Signal receivers: thin hooks into ``sending``, connected in ``apps.ReportsConfig.ready``."""

from django.dispatch import receiver

from tracker.services import made_confidential

from . import sending


@receiver(made_confidential)
def conceal_in_stored_summaries(sender, concealment, **kwargs) -> None:
    """A source, report or claim was made confidential (a claim: restricted): the stored
    summaries stop naming it."""
    sending.summaries_conceal(concealment)
