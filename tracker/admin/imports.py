"""The admin's two-step spreadsheet import: upload -> preview (what would change, every
error) -> confirm. The uploaded file waits on the server under a random token bound to the
user's session, so the confirmation imports exactly the file that was previewed."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import imports

SESSION_KEY = "tracker_imports"


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"), help_text=_("CSV (UTF-8) or XLSX, one row a claim; see the README.")
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.TRACKER_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                gettext("The file is %(size)s MB; the limit is %(limit)s MB.")
                % {"size": f"{upload.size / 1e6:.1f}", "limit": f"{limit / 1e6:.0f}"}
            )
        if Path(upload.name).suffix.lower() not in (".csv", ".xlsx"):
            raise forms.ValidationError(gettext("Only .csv and .xlsx files can be imported."))
        return upload


# An upload never confirmed is deleted after this long: evidence files do not linger.
UPLOAD_LIFETIME_SECONDS = 24 * 3600


def _folder() -> Path:
    folder = Path(settings.VAR_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - UPLOAD_LIFETIME_SECONDS
    for stale in folder.iterdir():
        if stale.is_file() and stale.stat().st_mtime < cutoff:
            stale.unlink(missing_ok=True)
    return folder


class ImportClaimsMixin:
    """Adds *Import claims* to the claim admin (needs the add and change permissions)."""

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="{}_{}_import".format(*info),
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Import claims"),
            "columns": imports.COLUMNS,
            "required": imports.REQUIRED,
        }
        pending = request.session.setdefault(SESSION_KEY, {})
        if request.method == "POST" and "token" in request.POST:
            return self._confirm(request, context, pending)
        form = UploadForm(request.POST or None, request.FILES or None)
        context["form"] = form
        if request.method != "POST" or not form.is_valid():
            return TemplateResponse(request, "admin/tracker/claim/import.html", context)
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            plan = imports.plan(imports.read_rows(data, upload.name), user=request.user)
        except imports.ImportFileError as error:
            form.add_error("file", str(error))
            return TemplateResponse(request, "admin/tracker/claim/import.html", context)
        if plan.ok:
            token = secrets.token_urlsafe(24)
            (_folder() / token).write_bytes(data)
            pending[token] = upload.name
            request.session.modified = True
            context["token"] = token
        context["plan"] = plan
        return TemplateResponse(request, "admin/tracker/claim/import.html", context)

    def _confirm(self, request, context, pending):
        token = request.POST["token"]
        name = pending.pop(token, None)
        request.session.modified = True
        stored = _folder() / token
        if name is None or not stored.is_file():
            messages.error(
                request, gettext("That upload has expired or is not yours: upload it again.")
            )
            return redirect("admin:tracker_claim_import")
        data = stored.read_bytes()
        stored.unlink()
        plan = imports.plan(imports.read_rows(data, name), user=request.user)
        if not plan.ok:  # the database changed since the preview
            context.update(form=UploadForm(), plan=plan)
            return TemplateResponse(request, "admin/tracker/claim/import.html", context)
        keys = imports.apply(plan, user=request.user)
        messages.success(
            request,
            gettext(
                "Imported %(file)s: %(added)s claims added, %(updated)s updated; "
                "checks requested for %(countries)s."
            )
            % {
                "file": name,
                "added": len(plan.to_add),
                "updated": len(plan.to_update),
                "countries": ", ".join(sorted(keys)) or gettext("no country"),
            },
        )
        return redirect("admin:tracker_claim_changelist")
