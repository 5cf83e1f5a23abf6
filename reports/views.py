"""The archive of summaries and the preview of a subscription's next one."""

from __future__ import annotations

import base64

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from tracker import visibility

from . import summaries
from .models import Subscription, Summary, last_complete_period


def _inner_html(html: str):
    """The body of an email this application rendered from its own autoescaped templates
    (never user input as such): what lies inside <body>, so that the email's own document and
    styles do not restyle the page around it (tracker/pages.css styles it)."""
    inner = html.split("<body>", 1)[-1].rsplit("</body>", 1)[0]
    return mark_safe(inner)  # noqa: S308


def _said(summary: Summary, request) -> summaries.Said:
    """The summary said for the reader: in their language, with what they may see now."""
    return summaries.render(
        summary,
        language=translation.get_language() or "en",
        sees=visibility.sees_confidential(request.user),
    )


def readable_summaries(user):
    """The summaries ``user`` may read: those sent to them, and all for staff holding the view
    permission; confidential ones only with the permission to see confidential material."""
    queryset = Summary.objects.select_related("subscription")
    if not user.has_perm("reports.view_summary"):
        queryset = queryset.filter(recipient_users=user)
    if not visibility.sees_confidential(user):
        queryset = queryset.filter(confidential=False)
    return queryset.distinct()


def _readable(request, pk: int) -> Summary:
    summary = readable_summaries(request.user).filter(pk=pk).first()
    if summary is None:
        raise Http404("No summary you may read has this number.")
    return summary


@login_required
def summary_list(request):
    page = Paginator(
        readable_summaries(request.user).defer("content").order_by("-period_end", "-id"), 50
    ).get_page(request.GET.get("page"))
    return render(request, "reports/summary_list.html", {"page": page})


@login_required
def summary_detail(request, pk: int):
    summary = _readable(request, pk)
    said = _said(summary, request)
    chart = reverse("reports:chart", args=[summary.pk])
    html = said.html.replace(f'src="cid:{summaries.CHART_CID}"', f'src="{chart}"')
    return render(
        request,
        "reports/summary_detail.html",
        {"summary": summary, "subject": said.subject, "body": _inner_html(html)},
    )


@login_required
def summary_chart(request, pk: int):
    summary = _readable(request, pk)
    said = _said(summary, request)
    if not said.chart_png:
        raise Http404("This summary has no chart.")
    return HttpResponse(said.chart_png, content_type="image/png")


@login_required
@permission_required("reports.view_subscription", raise_exception=True)
def subscription_preview(request, pk: int):
    """What the subscription would send now for its last complete period, without sending or
    storing anything."""
    subscription = get_object_or_404(Subscription, pk=pk)
    if subscription.include_confidential and not visibility.sees_confidential(request.user):
        raise Http404("No subscription you may preview has this number.")
    start, end = last_complete_period(subscription.cadence, timezone.localdate())
    previous = subscription.summaries.filter(period_end__lt=start).order_by("-period_end").first()
    unsaved = Summary(
        subscription=subscription,
        period_start=start,
        period_end=end,
        confidential=subscription.include_confidential,
        content=summaries.build(subscription, start, end, previous=previous),
    )
    said = _said(unsaved, request)
    html = said.html
    if said.chart_png:
        data = base64.b64encode(said.chart_png).decode()
        html = html.replace(
            f'src="cid:{summaries.CHART_CID}"', f'src="data:image/png;base64,{data}"'
        )
    return render(
        request,
        "reports/summary_detail.html",
        {
            "preview": True,
            "subject": said.subject,
            "body": _inner_html(html),
            "subscription": subscription,
        },
    )
