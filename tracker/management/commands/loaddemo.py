from django.core.management.base import BaseCommand

from tracker import checks as engine
from tracker.demo import demo_load


class Command(BaseCommand):
    help = (
        "Load the demo reports and claims (the two seed articles). Safe to run again. With "
        "--checks, then run the checks in this process, so that their flags and statuses show "
        "at once (make run does)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--checks", action="store_true", help="then check every country in this process"
        )

    def handle(self, *args, checks: bool = False, **options) -> None:
        created = demo_load()
        summary = ", ".join(f"{n} {what}" for what, n in created.items())
        self.stdout.write(f"Demo data: created {summary}.")
        if not checks:
            return
        outcome = engine.sweep(processes=1)
        self.stdout.write(
            f"Checked {len(outcome.partitions)} partitions: {outcome.total('opened')} flags "
            f"opened, {outcome.total('found')} found."
        )
