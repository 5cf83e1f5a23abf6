"""The archive of summaries and the preview of a subscription's next one."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from tracker import visibility

from . import summaries
from .models import Subscription, Summary, last_complete_period


def _stored_html(html: str):
    """The body of an email this application rendered from its own autoescaped templates
    (never user input as such): what lies inside <body>, so that the email's own document and
    styles do not restyle the page around it (tracker/pages.css styles it)."""
    inner = html.split("<body>", 1)[-1].rsplit("</body>", 1)[0]
    return mark_safe(inner)  # noqa: S308


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
        readable_summaries(request.user)
        .defer("body_text", "body_html", "chart_png")
        .order_by("-period_end", "-id"),
        50,
    ).get_page(request.GET.get("page"))
    return render(request, "reports/summary_list.html", {"page": page})


@login_required
def summary_detail(request, pk: int):
    summary = _readable(request, pk)
    chart = reverse("reports:chart", args=[summary.pk])
    html = summary.body_html.replace(f'src="cid:{summaries.CHART_CID}"', f'src="{chart}"')
    return render(
        request,
        "reports/summary_detail.html",
        {"summary": summary, "body": _stored_html(html)},
    )


@login_required
def summary_chart(request, pk: int):
    summary = _readable(request, pk)
    if not summary.chart_png:
        raise Http404("This summary has no chart.")
    return HttpResponse(bytes(summary.chart_png), content_type="image/png")


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
    content = summaries.build(subscription, start, end, previous=previous)
    subject, _, html = summaries.render(content, summary_id=0)
    if content.chart_png:
        import base64

        data = base64.b64encode(content.chart_png).decode()
        html = html.replace(
            f'src="cid:{summaries.CHART_CID}"', f'src="data:image/png;base64,{data}"'
        )
    return render(
        request,
        "reports/summary_detail.html",
        {
            "preview": True,
            "subject": subject,
            "body": _stored_html(html),
            "subscription": subscription,
        },
    )
