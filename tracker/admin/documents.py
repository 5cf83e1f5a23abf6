"""Documents on the report's page: an inline that lists the report's documents (each a link
to its download) and takes new files; a stored file cannot be replaced, only its note edited.

Adding and deleting go through ``tracker.documents`` (type and size checked, the SHA-256 of
the upload kept, the file removed once a deletion commits). Deleting needs the permission to
delete reports.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import documents, visibility
from ..dossier import MOMENT
from ..models import ReportDocument

DELETE_PERMISSION = "tracker.delete_report"


class DownloadLink(forms.Widget):
    """A stored document's file, as a link to its download (it cannot be replaced)."""

    def __init__(self, document: ReportDocument) -> None:
        super().__init__()
        self.document = document

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        url = reverse("document-download", args=[self.document.pk])
        return format_html('<a href="{}">{}</a>', url, self.document.original_name)


class DocumentForm(forms.ModelForm):
    """A new row takes a file (checked by ``documents.accepted_kind``); a stored one shows
    its file as a download link, disabled, so that no upload can replace it."""

    class Meta:
        model = ReportDocument
        fields = ["file", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 2, "cols": 40})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("file")
        if field is None:
            return  # read-only (a Viewer's): the inline shows the download link instead
        # The original name is cut to fit; the stored name is ours.
        field.max_length = None  # type: ignore[attr-defined]  # a FileField's form field
        if self.instance.pk:
            field.disabled = True
            field.required = False
            field.widget = DownloadLink(self.instance)

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if self.instance.pk is None and upload is not None:
            documents.accepted_kind(upload)
        return upload


class DocumentFormSet(BaseInlineFormSet):
    """Saves through ``tracker.documents``: ``user`` is who adds, set by the inline."""

    user = None

    def clean(self) -> None:
        super().clean()
        added: set[str] = set()
        for form in self.extra_forms:
            upload = form.cleaned_data.get("file") if form.has_changed() else None
            if upload is None or form.errors:
                continue
            sha256 = documents.sha256_of(upload)
            same = documents.duplicate_of(self.instance, sha256) if self.instance.pk else None
            if same is not None:
                form.add_error(
                    "file",
                    _("This file is already attached to this report, as %(name)s.")
                    % {"name": same},
                )
            elif sha256 in added:
                form.add_error("file", _("The same file is in another row."))
            added.add(sha256)

    def save_new(self, form, commit=True) -> ReportDocument:
        return documents.document_add(
            report=self.instance,
            upload=form.cleaned_data["file"],
            added_by=self.user,
            note=form.cleaned_data.get("note", ""),
        )

    def delete_existing(self, obj, commit=True) -> None:
        if commit:
            documents.document_delete(document=obj)


class DocumentInline(admin.TabularInline):
    model = ReportDocument
    form = DocumentForm
    formset = DocumentFormSet
    fields = ["file", "details", "note"]
    readonly_fields = ["download", "details"]
    extra = 1
    show_change_link = True  # its own page, with its history
    verbose_name = gettext_lazy("document")
    verbose_name_plural = gettext_lazy(
        "documents (kept as evidence: a stored file is never replaced)"
    )

    def get_fields(self, request, obj=None):
        if self.has_add_permission(request, obj) or self.has_change_permission(request, obj):
            return self.fields
        # Read-only, Django would show the file with its storage URL (with S3, a signed link
        # that skips the visibility rule): the download link instead.
        return ["download", "details", "note"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        return type(formset.__name__, (formset,), {"user": request.user})

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("added_by")
        # The report is visible, so are its documents: the rule all the same.
        return visibility.documents(request.user, queryset)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(DELETE_PERMISSION) and super().has_view_permission(
            request, obj
        )

    @admin.display(description=gettext_lazy("file"))
    def download(self, document: ReportDocument) -> str:
        return DownloadLink(document).render("file", None) if document.pk else ""

    @admin.display(description=gettext_lazy("stored"))
    def details(self, document: ReportDocument) -> str:
        if document.pk is None:
            return ""
        added = date_format(localtime(document.added_at), str(MOMENT))  # in the reader's order
        return format_html(
            "{} · {}<br>SHA-256 <code title='{}'>{}…</code><br>{}",
            document.content_type,
            documents.size_display(document.size),
            document.sha256,
            document.sha256[:16],
            _("added %(moment)s by %(user)s") % {"moment": added, "user": document.added_by}
            if document.added_by
            else _("added %(moment)s") % {"moment": added},
        )
