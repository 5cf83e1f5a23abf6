from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tracker import imports


class Command(BaseCommand):
    help = (
        "Import claims from a CSV (UTF-8) or XLSX file, one row a claim, columns by header "
        "name (see the README). The whole file lands, or nothing: a file with errors writes "
        "nothing and lists each bad row."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="check, and write nothing")

    def handle(self, *args, file: str, dry_run: bool, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file.")
        try:
            rows = imports.read_rows(path.read_bytes(), path.name)
        except imports.ImportFileError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"read {len(rows):,} rows")
        plan = imports.plan(rows, progress=lambda n: self.stdout.write(f"checked {n:,} rows"))
        self.stdout.write(plan.summary())
        if not plan.ok:
            for error in plan.errors:
                self.stderr.write(str(error))
            if plan.more_errors:
                self.stderr.write(f"... and {plan.more_errors:,} more errors")
            raise CommandError(f"{plan.error_count:,} error(s): nothing was imported.")
        if dry_run:
            self.stdout.write("dry run: nothing was written")
            return
        keys = imports.apply(plan, progress=self.stdout.write)
        self.stdout.write(
            f"imported; checks requested for {len(keys)} partition(s): {', '.join(sorted(keys))}"
        )
