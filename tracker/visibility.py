"""Who may see which source, report and claim: the one visibility rule, applied at every edge.

A user holding ``tracker.view_confidential`` sees everything. Anyone else:

1. does not see a *confidential source*: it does not exist for them;
2. does not see a *restricted report*: one marked confidential, or published by a
   confidential source;
3. does not see a *document* of a restricted report (``documents``): it does not exist;
4. sees a *restricted claim* (made by a confidential source, or recorded from a restricted
   report) only in lists of claims, redacted alike everywhere (``ClaimShown``): its source,
   report, publisher and publication date replaced, its reference and summary blank, and no
   id of its source or report. Wherever an id can be given (a form, an autocomplete, a filter,
   an API field, a URL) it does not exist.

Every edge asks this module, never the models' flags directly: the querysets
(``sources``, ``reports``, ``claims``, ``queryset_for``), the predicates
(``source_is_hidden``, ``report_is_hidden``, ``claim_is_hidden``) and the redacted reading of
a claim (``ClaimShown``). docs/confidentiality.md lists the edges.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Model, Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Claim, Report, ReportDocument, Source

PERMISSION = "tracker.view_confidential"
SOURCE_LABEL = _("confidential source")
REPORT_LABEL = _("confidential report")


def sees_confidential(user) -> bool:
    """Whether ``user`` may see confidential sources and reports (the dedicated permission)."""
    return bool(user and user.is_active and user.has_perm(PERMISSION))


# --- which rows are hidden, as conditions (``prefix`` reaches them from another model) ---------


def hidden_source_q(prefix: str = "") -> Q:
    """The confidential sources."""
    return Q(**{f"{prefix}confidential": True})


def hidden_report_q(prefix: str = "") -> Q:
    """The restricted reports: confidential, or published by a confidential source."""
    return Q(**{f"{prefix}confidential": True}) | Q(**{f"{prefix}publisher__confidential": True})


def restricted_claim_q(prefix: str = "") -> Q:
    """The restricted claims: made by a confidential source or in a restricted report."""
    return hidden_source_q(f"{prefix}attributed_to__") | hidden_report_q(f"{prefix}report__")


# --- what a user may see, as querysets ----------------------------------------------------------


def sources(user, queryset: QuerySet | None = None) -> QuerySet:
    """The sources ``user`` may see (and name, pick, open)."""
    queryset = Source.objects.all() if queryset is None else queryset
    return queryset if sees_confidential(user) else queryset.exclude(hidden_source_q())


def reports(user, queryset: QuerySet | None = None) -> QuerySet:
    """The reports ``user`` may see (and name, pick, open)."""
    queryset = Report.objects.all() if queryset is None else queryset
    return queryset if sees_confidential(user) else queryset.exclude(hidden_report_q())


def claims_counted(user) -> Count:
    """The number of a source's or report's claims as ``user`` may count them: a restricted
    claim names neither its source nor its report to whoever may not see them, so it is not
    counted as theirs either."""
    if sees_confidential(user):
        return Count("claims")
    return Count("claims", filter=~restricted_claim_q("claims__"))


def claims(user, queryset: QuerySet | None = None) -> QuerySet:
    """The claims ``user`` may open, pick or change. A list of claims shows the others too,
    redacted (``ClaimShown``)."""
    queryset = Claim.objects.all() if queryset is None else queryset
    return queryset if sees_confidential(user) else queryset.exclude(restricted_claim_q())


def documents(user, queryset: QuerySet | None = None) -> QuerySet:
    """The documents ``user`` may see and download: those of the reports they may see."""
    queryset = ReportDocument.objects.all() if queryset is None else queryset
    return queryset if sees_confidential(user) else queryset.exclude(hidden_report_q("report__"))


_BY_MODEL = {Source: sources, Report: reports, Claim: claims, ReportDocument: documents}


def queryset_for(model: type[Model], user, queryset: QuerySet | None = None) -> QuerySet:
    """The rows of ``model`` that ``user`` may pick or name: the choices of a form field, an
    autocomplete, an API field. Models with nothing confidential are returned whole."""
    queryset = model._default_manager.all() if queryset is None else queryset
    narrow = _BY_MODEL.get(model)
    return queryset if narrow is None else narrow(user, queryset)


def guards(model: type[Model]) -> bool:
    """Whether some rows of ``model`` may be hidden from a user."""
    return model in _BY_MODEL


# --- predicates on one row ----------------------------------------------------------------------


def source_is_hidden(source: Source, user) -> bool:
    return source.confidential and not sees_confidential(user)


def report_is_hidden(report: Report, user) -> bool:
    return report.is_restricted and not sees_confidential(user)


def claim_is_hidden(claim: Claim, user) -> bool:
    """Needs the claim's source, report and publisher (``select_related``)."""
    return claim.is_restricted and not sees_confidential(user)


def document_is_hidden(document: ReportDocument, user) -> bool:
    """Needs the document's report and its publisher (``select_related``)."""
    return report_is_hidden(document.report, user)


def is_hidden(obj: Model, user) -> bool:
    """Whether ``user`` may not open ``obj`` (a source, a report, a claim, a report's document;
    never anything else)."""
    if isinstance(obj, ReportDocument):
        return document_is_hidden(obj, user)
    if isinstance(obj, Source):
        return source_is_hidden(obj, user)
    if isinstance(obj, Report):
        return report_is_hidden(obj, user)
    if isinstance(obj, Claim):
        return claim_is_hidden(obj, user)
    return False


# --- a claim as a reader may read it ------------------------------------------------------------


CLAIM_RELATED = ("attributed_to__country", "place", "obligation", "report__publisher")


@dataclass(frozen=True)
class ClaimShown:
    """One claim as ``user`` may read it: a restricted claim, for a user without the
    permission, with its source, report, publisher and publication date replaced, its
    reference and summary blank and no id of its source or report. Every list of claims
    (pages, exports, the API, the admin, the dossier, summaries) reads claims through this.

    Build it with ``shown``; the claim needs ``CLAIM_RELATED`` loaded."""

    claim: Claim
    hidden: bool

    @property
    def source_name(self) -> str:
        source = self.claim.attributed_to
        return str(SOURCE_LABEL) if self.hidden else source.name

    @property
    def source_id(self) -> int | None:
        return None if self.hidden else self.claim.attributed_to_id

    @property
    def source_kind(self) -> str:
        return self.claim.attributed_to.kind

    @property
    def source_country(self) -> str:
        country = self.claim.attributed_to.country
        return "" if self.hidden or country is None else country.iso_code

    @property
    def reliability(self) -> str:
        return self.claim.attributed_to.reliability

    @property
    def report_id(self) -> int | None:
        return None if self.hidden else self.claim.report_id

    @property
    def report_title(self) -> str:
        return str(REPORT_LABEL) if self.hidden else self.claim.report.title

    @property
    def report_url(self) -> str:
        return "" if self.hidden else self.claim.report.url

    @property
    def publisher_name(self) -> str:
        return str(SOURCE_LABEL) if self.hidden else self.claim.report.publisher.name

    @property
    def publisher_kind(self) -> str:
        return "" if self.hidden else self.claim.report.publisher.kind

    @property
    def publisher_country(self) -> str:
        """Needs ``report__publisher__country`` loaded."""
        country = self.claim.report.publisher.country
        return "" if self.hidden or country is None else country.iso_code

    @property
    def publisher_reliability(self) -> str:
        return "" if self.hidden else self.claim.report.publisher.reliability

    @property
    def published_on(self) -> datetime.date | None:
        return None if self.hidden else self.claim.report.published_on

    @property
    def reference(self) -> str:
        """The claim's reference (the monitor's own, else the system's: what exports write and
        imports find it by); the monitor's may name whoever made the claim: blank if hidden."""
        return "" if self.hidden else self.claim.reference

    @property
    def external_id(self) -> str:
        """The monitor's own reference only: blank if none, or if hidden."""
        return "" if self.hidden else self.claim.external_id or ""

    @property
    def ref(self) -> str:
        """How a sentence names the claim: its reference, else "#id" (always, if hidden)."""
        return f"#{self.claim.pk}" if self.hidden or not self.claim.external_id else self.reference

    @property
    def summary(self) -> str:
        """A paraphrase can name whoever made the claim: blank if hidden."""
        return "" if self.hidden else self.claim.summary

    @property
    def grade(self) -> str:
        """Source reliability and claim credibility, Admiralty style: 'B2'."""
        return f"{self.reliability}{self.claim.credibility}"

    def headline(self) -> str:
        """One line a monitor can scan: 'NKDB · China > Northeast China · 60,000 workers ·
        as of 2019-12-23' (or 2017-09, or 2022: the date as given)."""
        claim = self.claim
        what = (
            # Translators: a count and what was counted: "60,000 workers".
            gettext("%(count)s %(measure)s")
            % {"count": claim.count_display(), "measure": claim.get_measure_display()}
            if claim.count_low is not None
            else claim.get_stance_display()
        )
        place = str(claim.place)  # in the reader's language
        as_of = gettext("as of %(date)s") % {"date": claim.as_of_given}
        return " · ".join([self.source_name, place, what, as_of])


def shown(claim: Claim, user=None, *, sees: bool | None = None) -> ClaimShown:
    """``claim`` as ``user`` may read it (``sees``: whether the reader holds the permission,
    when the caller knows it already, to spare a permission check per row)."""
    sees = sees_confidential(user) if sees is None else sees
    return ClaimShown(claim, hidden=not sees and claim.is_restricted)
