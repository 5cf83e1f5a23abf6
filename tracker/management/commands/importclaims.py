from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

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
            raise CommandError(_("%(file)s: no such file.") % {"file": file})
        try:
            rows = imports.read_rows(path.read_bytes(), path.name)
        except imports.ImportFileError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(_("read %(count)s rows") % {"count": f"{len(rows):,}"})
        plan = imports.plan(
            rows,
            progress=lambda n: self.stdout.write(_("checked %(count)s rows") % {"count": f"{n:,}"}),
        )
        self.stdout.write(plan.summary())
        if not plan.ok:
            for error in plan.errors:
                self.stderr.write(str(error))
            if plan.more_errors:
                self.stderr.write(
                    _("... and %(count)s more errors") % {"count": f"{plan.more_errors:,}"}
                )
            raise CommandError(
                _("%(count)s error(s): nothing was imported.") % {"count": f"{plan.error_count:,}"}
            )
        if dry_run:
            self.stdout.write(_("dry run: nothing was written"))
            return
        keys = imports.apply(plan, progress=self.stdout.write)
        self.stdout.write(
            _("imported; checks requested for %(count)s partition(s): %(keys)s")
            % {"count": len(keys), "keys": ", ".join(sorted(keys))}
        )
