from django.core.management.base import BaseCommand, CommandError

from tracker import documents
from tracker.models import ReportDocument


class Command(BaseCommand):
    help = (
        "Read every stored document and compare the SHA-256 of its bytes with the one recorded "
        "when it was added. Lists each document altered or missing, and exits with an error if "
        "any is; prints nothing else but the count."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--report", type=int, help="only the documents of this report (id)")

    def handle(self, *args, report: int | None, **options):
        queryset = ReportDocument.objects.order_by("pk")
        if report is not None:
            queryset = queryset.filter(report_id=report)
        checked = 0
        problems = []
        for document, found in documents.documents_verify(queryset):
            checked += 1
            if found != document.sha256:
                problems.append(document)
                self.stderr.write(documents.verification_problem(document, found))
        self.stdout.write(f"Documents: {checked:,} checked, {len(problems):,} not as stored.")
        if problems:
            raise CommandError(
                f"{len(problems)} document(s) no longer hold the bytes they were added with."
            )
