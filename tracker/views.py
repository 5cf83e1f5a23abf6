"""The claim and flag pages: filtered, paginated, sortable, exportable lists for logged-in
staff (the dashboard and the country pages are in ``reports.pages``); a report's documents."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import i18n
from django.views.decorators.http import require_POST

from . import exports, languages, selectors, services, visibility
from .filters import ClaimPageFilter, FlagPageFilter
from .flags.page import flag_page
from .flags.render import FlagText
from .models import LANGUAGE_CHOICES, Claim, Flag, ReportDocument

PAGE_SIZE = 50


def _filtered(filter_class, request, queryset):
    """(filterset, rows): an invalid filter shows its errors and no rows, never everything."""
    filterset = filter_class(request.GET or None, queryset=queryset, request=request)
    if filterset.is_bound and not filterset.is_valid():
        return filterset, queryset.none()
    return filterset, filterset.qs


def _export(request, rows, what: str):
    fmt = request.GET.get("format")
    if fmt == "csv":
        return exports.download(exports.as_csv(rows), what, "csv")
    if fmt == "xlsx":
        return exports.download(exports.as_xlsx(rows), what, "xlsx")
    return HttpResponseBadRequest(
        _("There is no export as “%(format)s”: ask for csv or xlsx.") % {"format": fmt},
        content_type="text/plain; charset=utf-8",
    )


@login_required
@permission_required("tracker.view_claim", raise_exception=True)
def claim_list(request):
    queryset = Claim.objects.select_related(*visibility.CLAIM_RELATED).order_by("-as_of", "-pk")
    filterset, claims = _filtered(ClaimPageFilter, request, queryset)
    if request.GET.get("format"):
        return _export(request, exports.claim_export_rows(claims, request.user), "claims")
    sees = visibility.sees_confidential(request.user)
    page = selectors.EstimatedCountPaginator(claims, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [visibility.shown(claim, sees=sees) for claim in page]
    return render(
        request,
        "tracker/claim_list.html",
        {"filter": filterset, "page": page, "rows": rows, "query": _query(request)},
    )


@login_required
@permission_required("tracker.view_flag", raise_exception=True)
def flag_list(request):
    queryset = Flag.objects.select_related("place", "country").order_by(
        "-severity", "-last_seen", "pk"
    )
    filterset, flags = _filtered(FlagPageFilter, request, queryset)
    if request.GET.get("format"):
        return _export(request, exports.flag_export_rows(flags, request.user), "flags")
    page = Paginator(flags, PAGE_SIZE).get_page(request.GET.get("page"))
    said = FlagText(page.object_list, request.user)
    rows = [
        (
            flag,
            said.sentence(flag),
            [o for pk in said.obligations_of(flag) if (o := said.obligations.get(pk))],
        )
        for flag in page
    ]
    return render(
        request,
        "tracker/flag_list.html",
        {"filter": filterset, "page": page, "rows": rows, "query": _query(request)},
    )


class NoteForm(forms.Form):
    """Acknowledge or re-open: a note, if the monitor has something to say."""

    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Optional. Kept with the flag and shown to every reader."),
    )


class DismissForm(forms.Form):
    """Dismiss: the reason is required, kept, and shown to every reviewer."""

    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Why this flag is not a problem. Kept with the flag and shown to every reader; "
            "the flag stays dismissed while the evidence it rests on is the same."
        ),
    )


FLAG_FORMS = {"acknowledge": NoteForm, "dismiss": DismissForm, "reopen": NoteForm}
FLAG_DONE = {
    "acknowledge": gettext_lazy("Flag #%(id)s acknowledged."),
    "dismiss": gettext_lazy("Flag #%(id)s dismissed."),
    "reopen": gettext_lazy("Flag #%(id)s re-opened."),
}


@login_required
@permission_required("tracker.view_flag", raise_exception=True)
def flag_detail(request, pk: int):
    """One flag: what it found, the claims it rests on, its timeline; for Editors (who may
    change flags, as in the admin), the actions its status allows, posted back here."""
    if request.method == "POST" and not request.user.has_perm("tracker.change_flag"):
        raise PermissionDenied
    try:
        shown = flag_page(flag_id=pk, user=request.user)
    except Flag.DoesNotExist:
        raise Http404 from None
    posted = request.POST.get("action") if request.method == "POST" else None
    if posted is not None and posted not in FLAG_FORMS:
        return HttpResponseBadRequest()
    forms_ = {
        name: FLAG_FORMS[name](request.POST if name == posted else None, prefix=name)
        for name in shown.actions
    }
    if posted is not None:
        if posted not in forms_:  # the page was read before the flag moved
            messages.warning(
                request, str(services.FlagActionRefused(flag=shown.flag, action=posted))
            )
            return redirect("flag", pk=pk)
        form = forms_[posted]
        if form.is_valid():
            field = "reason" if posted == "dismiss" else "note"
            try:
                services.flag_act(
                    flag=shown.flag, user=request.user, action=posted, note=form.cleaned_data[field]
                )
            except ValidationError as error:
                form.add_error(field, error.messages)
            except services.FlagActionRefused as refused:
                messages.warning(request, str(refused))
                return redirect("flag", pk=pk)
            else:
                messages.success(request, FLAG_DONE[posted] % {"id": pk})
                return redirect("flag", pk=pk)
    return render(request, "tracker/flag_detail.html", {"page": shown, "forms": forms_})


def _query(request) -> str:
    """The filters without the page and format, to build page and export links."""
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("format", None)
    return params.urlencode()


@login_required
@permission_required(["tracker.view_report", "tracker.view_reportdocument"], raise_exception=True)
def document_download(request, pk: int):
    """A report's document, always as a download: never shown in the browser, whatever it
    holds (a saved page's scripts included). A document of a report the user may not see
    answers 404, as one that does not exist."""
    documents = ReportDocument.objects.select_related("report__publisher")
    document = get_object_or_404(visibility.documents(request.user, documents), pk=pk)
    try:
        stored = document.file.storage.open(document.file.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        stored,
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Should a browser render it all the same: no script, no plugin, no request out.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


# --- the reader's language ----------------------------------------------------------------------


@require_POST
def switch_language(request):
    """The switcher on every page: Django's ``set_language`` (the language cookie, then back to
    ``next`` if it is on this site), and for a logged-in user their preference, kept."""
    response = i18n.set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in languages.codes():
        languages.language_set(user=request.user, language=language)
        languages.remember(request, language)
    return response


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        choices=[("", gettext_lazy("The browser's language")), *LANGUAGE_CHOICES],
        required=False,
        help_text=gettext_lazy(
            "The language of the pages and the admin. With the browser's language, a browser "
            "set to Korean reads Korean, any other English."
        ),
    )


@login_required
def preferences(request):
    """The user's own preferences: their language."""
    form = PreferencesForm(
        request.POST or None,
        initial={"language": languages.preferred_language(request.user)},
    )
    if request.method == "POST" and form.is_valid():
        language = form.cleaned_data["language"]
        languages.language_set(user=request.user, language=language)
        languages.remember(request, language)
        if language:
            translation.activate(language)
        response = redirect("preferences")
        # The browser's language again: a choice made before logging in (the language cookie)
        # no longer stands in front of it.
        if not language:
            response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
        messages.success(request, _("Your preferences are saved."))
        return response
    return render(request, "tracker/preferences.html", {"form": form})
