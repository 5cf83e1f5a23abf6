from django.core.management.base import BaseCommand

from tracker.demo import demo_load


class Command(BaseCommand):
    help = "Load the demo reports and claims (the two seed articles). Safe to run again."

    def handle(self, *args, **options) -> None:
        created = demo_load()
        summary = ", ".join(f"{n} {what}" for what, n in created.items())
        self.stdout.write(f"Demo data: created {summary}.")
