import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reports import sending
from reports.models import Subscription, Summary, period_ending


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--period-end {value!r} is not a date: write it as YYYY-MM-DD."
        ) from None


class Command(BaseCommand):
    help = (
        "Build, store and send the due summaries in this process (no broker needed): each "
        "active subscription's last complete period, or the period ending on --period-end. "
        "A summary already sent is never sent again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--subscription", type=int, help="only this subscription (its id)")
        parser.add_argument("--period-end", type=_date, help="the last day of the period")
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would be sent; store nothing"
        )

    def handle(self, *args, subscription, period_end, dry_run: bool, **options):
        subscriptions = Subscription.objects.filter(active=True).order_by("pk")
        if subscription is not None:
            subscriptions = Subscription.objects.filter(pk=subscription)
            if not subscriptions.exists():
                raise CommandError(f"--subscription {subscription}: no such subscription.")
        today = timezone.localdate()
        for sub in subscriptions:
            if period_end is not None:
                start, end = period_ending(sub.cadence, period_end)
            else:
                start, end = sending.last_complete_period(sub.cadence, today)
            label = f"{sub.name}, {start} to {end}"
            existing = Summary.objects.filter(subscription=sub, period_start=start, period_end=end)
            if dry_run:
                state = existing.values_list("status", flat=True).first() or "not built yet"
                self.stdout.write(f"{label}: {state}; recipients {sending.recipients_of(sub)}")
                continue
            try:
                summary = sending.summary_create(
                    subscription=sub, period_start=start, period_end=end, enqueue=False
                )
            except sending.ConfidentialRecipientsError as error:
                self.stderr.write(f"{label}: not sent: {error}")
                continue
            summary = summary or existing.get()
            outcome = sending.summary_deliver(summary.pk)
            summary.refresh_from_db()
            detail = f" ({summary.last_error})" if summary.last_error else ""
            self.stdout.write(f"{label}: {outcome}, now {summary.status}{detail}")
