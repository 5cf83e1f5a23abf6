"""*Documents*: every document the user may see, each with its page and its history (who added
it, changed its note, deleted it). Documents are added on their report's page; nothing here
changes a stored file."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import documents, visibility
from ..models import ReportDocument
from .documents import DELETE_PERMISSION
from .evidence import HiddenWhenConfidentialMixin, TrackerAdmin


@admin.register(ReportDocument)
class ReportDocumentAdmin(HiddenWhenConfidentialMixin, TrackerAdmin):
    list_display = ["original_name", "report_short", "content_type", "size_display", "added_at",
                    "added_by"]  # fmt: skip
    list_filter = ["content_type"]
    list_select_related = ["report__publisher", "added_by"]
    search_fields = ["original_name", "=sha256"]
    date_hierarchy = "added_at"
    fields = ["download", "report_link", "content_type", "size_display", "sha256", "added_by",
              "added_at", "note"]  # fmt: skip
    readonly_fields = ["download", "report_link", "content_type", "size_display", "sha256",
                       "added_by", "added_at"]  # fmt: skip
    show_full_result_count = False

    def is_restricted(self, obj: ReportDocument) -> bool:
        return obj.report.is_restricted

    def get_queryset(self, request):
        return visibility.documents(request.user, super().get_queryset(request)).select_related(
            "report__publisher", "added_by"
        )

    def has_add_permission(self, request) -> bool:
        return False  # on the report's page, with the report it is evidence for

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(DELETE_PERMISSION) and super().has_delete_permission(
            request, obj
        )

    @admin.display(description=gettext_lazy("size"), ordering="size")
    def size_display(self, obj: ReportDocument) -> str:
        return documents.size_display(obj.size)

    @admin.display(description=gettext_lazy("report"), ordering="report__title")
    def report_short(self, obj: ReportDocument) -> str:
        return Truncator(obj.report.title).chars(70)

    @admin.display(description=gettext_lazy("file"))
    def download(self, obj: ReportDocument) -> str:
        url = reverse("document-download", args=[obj.pk])
        return format_html('<a href="{}">{}</a> ({})', url, obj.original_name, _("download"))

    @admin.display(description=gettext_lazy("report"))
    def report_link(self, obj: ReportDocument) -> str:
        url = reverse("admin:tracker_report_change", args=[obj.report_id])
        return format_html('<a href="{}">{}</a>', url, obj.report)
