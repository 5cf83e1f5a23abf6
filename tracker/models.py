"""The domain: what the resolutions oblige, where, and the evidence of what states did.

docs/design.md §2 describes every model. Validation lives in ``clean()`` so that the admin,
the importer and the API give the same messages; the database constraints at the end of each
``Meta`` are a backstop for writes that skip ``full_clean()`` (bulk paths).
"""

from __future__ import annotations

import datetime
import hashlib
import re
import uuid
from pathlib import PurePath
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import Storage, storages
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
    RegexValidator,
)
from django.db import models, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Lower, Substr
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from . import partialdates, rules, text

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise


class TextWithoutNul(models.Model):
    """Model validation refuses a NUL character in any text field with the forms' own
    validator: PostgreSQL cannot store one, so whatever passes ``full_clean`` saves (the
    importer relies on it)."""

    class Meta:
        abstract = True

    def clean_fields(self, exclude=None):
        errors: dict[str, list] = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for f in self._meta.concrete_fields:
            if f.name in (exclude or ()) or not isinstance(f, (models.CharField, models.TextField)):
                continue
            try:
                ProhibitNullCharactersValidator()(getattr(self, f.attname))
            except ValidationError as error:
                errors.setdefault(f.name, []).extend(error.messages)
        if errors:
            raise ValidationError(errors)


def reads_korean() -> bool:
    """Whether the active language (the reader's) is Korean."""
    return (translation.get_language() or "").split("-")[0] == "ko"


def in_reading_language(english: str, korean: str) -> str:
    """``korean`` for a reader of Korean when there is one, else ``english``: reference data
    is written in both languages (design section 6, item 6)."""
    return korean if korean and reads_korean() else english


def aliases_field(help_text: StrOrPromise) -> models.TextField:
    """Other names of a place or source, one a line, in any language: every search finds the
    place or source by any of them (issue 31)."""
    return models.TextField(
        _("other names"), blank=True, default="", db_default="", help_text=help_text
    )


def tidy_aliases(text: str) -> str:
    """One name a line, each once, without blank lines or surrounding spaces."""
    names: dict[str, None] = {}
    for line in text.splitlines():
        if line.strip():
            names.setdefault(line.strip(), None)
    return "\n".join(names)


def _not_in_future(value: datetime.date | None, field: str, message: str) -> dict[str, str]:
    """``message`` (with ``%(date)s`` and ``%(today)s``) if ``value`` is after today."""
    today = timezone.localdate()
    if value is not None and value > today:
        return {field: message % {"date": f"{value:%Y-%m-%d}", "today": f"{today:%Y-%m-%d}"}}
    return {}


# The names in Korean and the other names have an empty default in the database too: writers
# that name only the columns they know (the benchmarks' COPY) still write valid rows.

# --------------------------------------------------------------------------------------------
# Resolutions and their obligations
# --------------------------------------------------------------------------------------------


class Resolution(TextWithoutNul):
    """A UN Security Council resolution."""

    symbol = models.CharField(
        _("symbol"), max_length=40, unique=True, help_text=_("e.g. S/RES/2397 (2017)")
    )
    number = models.PositiveIntegerField(_("number"), unique=True)
    adopted_on = models.DateField(_("adopted on"))
    title = models.CharField(_("title"), max_length=300)
    title_ko = models.CharField(
        _("title in Korean"), max_length=300, blank=True, default="", db_default=""
    )
    url = models.URLField(_("URL"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("resolution")
        verbose_name_plural = _("resolutions")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"UNSCR {self.number} ({self.adopted_on.year})"

    @property
    def local_title(self) -> str:
        return in_reading_language(self.title, self.title_ko)


class ObligationKind(models.TextChoices):
    CAP = "cap", pgettext_lazy("obligation kind", "cap")
    PROHIBITION = "prohibition", pgettext_lazy("obligation kind", "prohibition")
    DEADLINE = "deadline", pgettext_lazy("obligation kind", "deadline")
    REPORTING = "reporting", pgettext_lazy("obligation kind", "reporting")


class Obligation(TextWithoutNul):
    """One operative duty of a resolution, with the dates that make it checkable."""

    Kind = ObligationKind

    code = models.CharField(
        _("code"), max_length=40, unique=True, help_text=_("Stable reference, e.g. UNSCR2397-OP8")
    )
    resolution = models.ForeignKey(
        Resolution,
        on_delete=models.PROTECT,
        related_name="obligations",
        verbose_name=_("resolution"),
    )
    paragraph = models.CharField(
        _("paragraph"), max_length=20, help_text=_("Operative paragraph, e.g. OP8")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ObligationKind.choices)
    short_name = models.CharField(
        _("short name"),
        max_length=100,
        default="",
        db_default="",
        help_text=_("How a monitor names the duty, e.g. ban on new work authorisations."),
    )
    short_name_ko = models.CharField(
        _("short name in Korean"),
        max_length=100,
        blank=True,
        default="",
        db_default="",
        help_text=_("e.g. 신규 노동허가 금지"),
    )
    summary = models.TextField(_("summary"), help_text=_("The duty, paraphrased."))
    summary_ko = models.TextField(_("summary in Korean"), blank=True, default="", db_default="")
    exceptions = models.TextField(
        _("exceptions"), blank=True, help_text=_("What the resolution exempts.")
    )
    exceptions_ko = models.TextField(
        _("exceptions in Korean"), blank=True, default="", db_default=""
    )
    effective_from = models.DateField(_("effective from"))
    due_on = models.DateField(_("due on"), null=True, blank=True)
    max_evidence_age_days = models.PositiveIntegerField(
        _("maximum evidence age (days)"),
        default=180,
        validators=[MinValueValidator(1)],
        help_text=_("Evidence older than this many days is stale."),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("obligation")
        verbose_name_plural = _("obligations")
        ordering = ["resolution__number", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_on__isnull=True) | Q(due_on__gte=F("effective_from")),
                name="obligation_due_after_effective",
                violation_error_message=_("The due date cannot precede the date it takes effect."),
            ),
        ]

    def __str__(self) -> str:
        """The code, which never changes and which monitors cite; for a reader of Korean, its
        Korean short name beside it ('UNSCR2375-OP17 · 신규 노동허가 금지'). The pages show
        ``name`` in either language."""
        if self.short_name_ko and reads_korean():
            return f"{self.code} · {self.short_name_ko}"
        return self.code

    @property
    def name(self) -> str:
        """The short name in the reader's language (the code if it has none)."""
        return in_reading_language(self.short_name, self.short_name_ko) or self.code

    @property
    def local_summary(self) -> str:
        return in_reading_language(self.summary, self.summary_ko)

    @property
    def local_exceptions(self) -> str:
        return in_reading_language(self.exceptions, self.exceptions_ko)

    def is_in_force(self, *, on: datetime.date) -> bool:
        return on >= self.effective_from

    def is_past_due(self, *, on: datetime.date) -> bool:
        """True once ``due_on`` has passed (the due day itself is still in time)."""
        return self.due_on is not None and on > self.due_on

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.kind == ObligationKind.DEADLINE and not self.due_on:
            errors["due_on"] = gettext("A deadline obligation needs a due date.")
        elif self.kind == ObligationKind.REPORTING and not self.due_on:
            errors["due_on"] = gettext("A reporting obligation needs a due date.")
        if self.due_on and self.effective_from and self.due_on < self.effective_from:
            errors["due_on"] = gettext(
                "The due date %(due_on)s is before the obligation takes effect (%(effective)s)."
            ) % {
                "due_on": f"{self.due_on:%Y-%m-%d}",
                "effective": f"{self.effective_from:%Y-%m-%d}",
            }
        if errors:
            raise ValidationError(errors)


# --------------------------------------------------------------------------------------------
# Places: a tree with a materialised path
# --------------------------------------------------------------------------------------------


class PlaceKind(models.TextChoices):
    WORLD = "world", _("world")
    COUNTRY = "country", _("country")
    REGION = "region", _("region")
    PROVINCE = "province", _("province")
    CITY = "city", _("city")


# Depth order of the kinds: a child is always of a later kind than its parent (a city may sit
# directly under a country; a supranational region such as Southeast Asia under the world).
PLACE_KIND_RANK = {kind: rank for rank, kind in enumerate(PlaceKind.values)}
PLACE_PATH_SEPARATOR = " > "
NOT_A_COUNTRY = _("Place %(value)r is not a country: choose a country (a place of kind country).")


class PlaceQuerySet(models.QuerySet):
    def countries(self) -> PlaceQuerySet:
        return self.filter(kind=PlaceKind.COUNTRY)

    def inside(self, place: Place) -> PlaceQuerySet:
        """``place`` and every place below it."""
        return self.filter(path__startswith=place.path)


class Place(TextWithoutNul):
    """A node of world → country → region → province → city.

    ``path`` holds the ids from the root down, ``/1/45/230/``, so that "inside X" is one
    indexed prefix match (``path LIKE '/1/45/%'``) and the ancestors are read off the string.
    ``name_path`` is the readable form from the country down ("China > Northeast China").
    """

    Kind = PlaceKind

    name = models.CharField(_("name"), max_length=200)
    name_ko = models.CharField(
        _("name in Korean"),
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text=_("Shown to readers of Korean; countries have CLDR's (e.g. 중국)."),
    )
    aliases = aliases_field(
        _(
            "Names in other languages or forms, one a line (e.g. PRC, 中国): a search by any of "
            "them finds the place."
        )
    )
    kind = models.CharField(_("kind"), max_length=20, choices=PlaceKind.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    iso_code = models.CharField(
        _("ISO code"),
        max_length=2,
        null=True,
        blank=True,
        unique=True,
        help_text=_("ISO 3166-1 alpha-2, for countries only."),
    )
    # The checks and the country filters select by prefix on path (indexed; on PostgreSQL
    # Django adds the varchar_pattern_ops index that LIKE 'prefix%' needs).
    path = models.CharField(_("path"), max_length=255, editable=False, db_index=True, default="")
    name_path = models.CharField(_("place"), max_length=1000, editable=False, default="")
    # The same path with each place's Korean name (its English one where it has none).
    name_path_ko = models.CharField(
        _("place in Korean"), max_length=1000, editable=False, default="", db_default=""
    )

    objects = PlaceQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["path", "name_path", "name_path_ko"])

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["name_path"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "parent",
                name="place_unique_name_in_parent",
                violation_error_message=_("This parent already has a place with that name."),
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(kind="world"),
                name="place_single_world",
                violation_error_message=_("There is only one world."),
            ),
            models.CheckConstraint(
                condition=Q(kind="country", iso_code__isnull=False)
                | (~Q(kind="country") & Q(iso_code__isnull=True)),
                name="place_iso_code_iff_country",
                violation_error_message=_("Countries, and only countries, have an ISO code."),
            ),
        ]

    def __str__(self) -> str:
        """The path from the country down, in the reader's language."""
        return in_reading_language(self.name_path or self.name, self.name_path_ko)

    # --- persistence --------------------------------------------------------------------------

    def save(self, *args, **kwargs) -> None:
        """Save, keeping ``path``, ``name_path`` and ``name_path_ko`` of this place and its
        subtree right.

        The paths live here rather than in a service because every writer (admin, import,
        API, demo loader) must keep them consistent, and a stale path would silently move
        evidence out of a country. A new row needs its own id in its path, hence the UPDATE
        after the INSERT; a moved or renamed place rewrites its descendants' prefixes in one
        UPDATE each.
        """
        with transaction.atomic():
            if self.pk is None:
                super().save(*args, **kwargs)
                self.path, self.name_path, self.name_path_ko = self._computed_paths()
                # A queryset update, not a second save(): one history row per change.
                Place.objects.filter(pk=self.pk).update(
                    path=self.path, name_path=self.name_path, name_path_ko=self.name_path_ko
                )
                return
            old_path, old_name_path, old_name_path_ko = Place.objects.filter(
                pk=self.pk
            ).values_list("path", "name_path", "name_path_ko").first() or (
                self.path,
                self.name_path,
                self.name_path_ko,
            )
            self.path, self.name_path, self.name_path_ko = self._computed_paths()
            super().save(*args, **kwargs)
            below = Place.objects.filter(path__startswith=old_path).exclude(pk=self.pk)
            if old_path and old_path != self.path:
                below.update(path=Concat(Value(self.path), Substr("path", len(old_path) + 1)))
            if self.kind == PlaceKind.WORLD:
                return  # the world's name is in no other place's path
            below = Place.objects.filter(path__startswith=self.path).exclude(pk=self.pk)
            for field, old, new in [
                ("name_path", old_name_path, self.name_path),
                ("name_path_ko", old_name_path_ko, self.name_path_ko),
            ]:
                if old != new:
                    below.update(**{field: Concat(Value(new), Substr(field, len(old) + 1))})

    # --- derived values -----------------------------------------------------------------------

    @property
    def local_name(self) -> str:
        """The place's own name in the reader's language."""
        return in_reading_language(self.name, self.name_ko)

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to the parent (empty for the world)."""
        return [int(part) for part in self.path.strip("/").split("/") if part][:-1]

    def is_inside(self, other: Place) -> bool:
        """True when this place is ``other`` or lies below it."""
        return bool(self.path) and self.path.startswith(other.path)

    def _computed_paths(self) -> tuple[str, str, str]:
        """(path, name_path, name_path_ko): the world's names are in no path below it."""
        korean = self.name_ko or self.name
        if self.parent is None:
            return f"/{self.pk}/", self.name, korean
        if self.parent.kind == PlaceKind.WORLD:
            return f"{self.parent.path}{self.pk}/", self.name, korean
        return (
            f"{self.parent.path}{self.pk}/",
            f"{self.parent.name_path}{PLACE_PATH_SEPARATOR}{self.name}",
            f"{self.parent.name_path_ko}{PLACE_PATH_SEPARATOR}{korean}",
        )

    # --- validation ---------------------------------------------------------------------------

    def clean(self) -> None:
        self.aliases = tidy_aliases(self.aliases)
        errors: dict[str, str] = {}
        if self.kind == PlaceKind.WORLD:
            if self.parent_id is not None:
                errors["parent"] = gettext("The world is the root of the tree: it has no parent.")
        elif self.parent_id is None:
            errors["parent"] = gettext("A %(kind)s needs a parent place.") % {
                "kind": self.get_kind_display() if self.kind else gettext("place")
            }
        elif self.kind:
            parent = self.parent
            if self.pk is not None and (parent.pk == self.pk or parent.is_inside(self)):
                errors["parent"] = gettext(
                    "%(name)s cannot be its own ancestor: %(parent)s lies inside it."
                ) % {"name": self.name, "parent": parent}
            elif PLACE_KIND_RANK[self.kind] <= PLACE_KIND_RANK[parent.kind]:
                errors["parent"] = gettext(
                    "A %(kind)s cannot sit inside a %(parent_kind)s (%(parent)s); "
                    "the order is world > country > region > province > city."
                ) % {
                    "kind": self.get_kind_display(),
                    "parent_kind": parent.get_kind_display(),
                    "parent": parent,
                }
            elif self.kind == PlaceKind.COUNTRY and parent.kind != PlaceKind.WORLD:
                errors["parent"] = gettext("A country sits directly under the world.")
        if self.kind == PlaceKind.COUNTRY:
            if not self.iso_code:
                errors["iso_code"] = gettext(
                    "A country needs its ISO 3166-1 alpha-2 code (e.g. CN)."
                )
            elif not (
                len(self.iso_code) == 2 and self.iso_code.isascii() and self.iso_code.isalpha()
            ):
                errors["iso_code"] = gettext(
                    "%(code)r is not an ISO 3166-1 alpha-2 code (two letters)."
                ) % {"code": self.iso_code}
            else:
                self.iso_code = self.iso_code.upper()
        elif self.iso_code:
            errors["iso_code"] = gettext("Only countries have an ISO code.")
        else:
            self.iso_code = None
        if errors:
            raise ValidationError(errors)


# --------------------------------------------------------------------------------------------
# Sources, reports and claims: the evidence
# --------------------------------------------------------------------------------------------


class SourceKind(models.TextChoices):
    NGO = "ngo", _("NGO")
    NEWS = "news", _("news outlet")
    GOVERNMENT = "government", _("government")
    UN = "un", _("UN body")
    RESEARCH = "research", _("research institute")
    SELF_REPORT = "self_report", _("the state itself (report to the 1718 Committee)")


class Reliability(models.TextChoices):
    """Source reliability on the Admiralty (NATO) scale."""

    A = "A", _("A – completely reliable")
    B = "B", _("B – usually reliable")
    C = "C", _("C – fairly reliable")
    D = "D", _("D – not usually reliable")
    E = "E", _("E – unreliable")
    F = "F", _("F – reliability cannot be judged")


class Credibility(models.IntegerChoices):
    """Credibility of one piece of information on the Admiralty (NATO) scale."""

    CONFIRMED = 1, _("1 – confirmed by other sources")
    PROBABLY_TRUE = 2, _("2 – probably true")
    POSSIBLY_TRUE = 3, _("3 – possibly true")
    DOUBTFUL = 4, _("4 – doubtful")
    IMPROBABLE = 5, _("5 – improbable")
    CANNOT_JUDGE = 6, _("6 – truth cannot be judged")


class Source(TextWithoutNul):
    """Who makes a claim: an NGO, an outlet, a ministry, a UN panel, the state itself."""

    Kind = SourceKind

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=SourceKind.choices)
    country = models.ForeignKey(
        Place,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": PlaceKind.COUNTRY},
        error_messages={"invalid": NOT_A_COUNTRY},
        verbose_name=_("country"),
        help_text=_("The state a government or self-report source speaks for."),
    )
    reliability = models.CharField(
        _("reliability"),
        max_length=1,
        choices=Reliability.choices,
        default=Reliability.F,
        error_messages={
            "invalid_choice": _(
                "Reliability %(value)r is not a grade of the Admiralty scale: "
                "use a letter from A (completely reliable) to F (cannot be judged)."
            )
        },
    )
    confidential = models.BooleanField(
        _("confidential"),
        default=False,
        help_text=_(
            "An informant or a source that must not be named: only users with the "
            "'see confidential sources and reports' permission see its name."
        ),
    )
    aliases = aliases_field(
        _(
            "Names in other languages or forms, one a line (e.g. 통일부, MOU for the Ministry "
            "of Unification): a search by any of them finds the source."
        )
    )
    url = models.URLField(_("URL"), blank=True)
    notes = models.TextField(_("notes"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["name"]
        permissions = [("view_confidential", "Can see confidential sources and reports")]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="source_unique_name",
                violation_error_message=_("A source with this name already exists."),
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["government", "self_report"]) | Q(country__isnull=False),
                name="source_state_has_country",
                violation_error_message=_("A government or self-report source needs its country."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.aliases = tidy_aliases(self.aliases)
        if self.kind in (SourceKind.GOVERNMENT, SourceKind.SELF_REPORT) and not self.country_id:
            message = gettext("A %(kind)s source speaks for a state: choose its country.")
            raise ValidationError({"country": message % {"kind": self.get_kind_display()}})


class Report(TextWithoutNul):
    """One source document that staff log: an article, a survey, a statement, a UN document."""

    title = models.CharField(_("title"), max_length=500)
    url = models.URLField(_("URL"), max_length=1000, blank=True)
    publisher = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        related_name="published_reports",
        db_index=False,  # report_publisher, below
        verbose_name=_("publisher"),
        help_text=_("Who published the document (an outlet), not who makes each claim."),
    )
    published_on = models.DateField(_("published on"))
    language = models.CharField(
        _("language"),
        max_length=10,
        default="en",
        validators=[
            RegexValidator(
                r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$",
                _("Write the language as a code such as en, ko, zh, ru or zh-Hant."),
            )
        ],
        help_text=_("Language of the document, as a code: en, ko, zh, ru ..."),
    )
    notes = models.TextField(_("notes"), blank=True)
    confidential = models.BooleanField(
        _("confidential"),
        default=False,
        help_text=_(
            "E.g. a state's report it asked not to be published. Its title, link, notes "
            "and claim summaries are hidden from users without the permission."
        ),
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("logged by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-published_on", "title"]
        indexes = [
            models.Index(fields=["published_on"], name="report_published_on"),
            # The checks read the few confidential reports on every run.
            models.Index(fields=["id"], condition=Q(confidential=True), name="report_confidential"),
            # And the reports of the confidential publishers (with every batch of a sweep):
            # with the ids in the index, a few index-only lookups instead of the pass over
            # every report that the planner preferred to fetching each report a publisher's
            # index pointed to.
            models.Index(fields=["publisher", "id"], name="report_publisher"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.published_on:%Y-%m-%d})" if self.published_on else self.title

    @property
    def is_restricted(self) -> bool:
        """Confidential itself or published by a confidential source."""
        return self.confidential or self.publisher.confidential

    def clean(self) -> None:
        errors = _not_in_future(
            self.published_on,
            "published_on",
            gettext(
                "The publication date %(date)s is in the future; "
                "it can be today (%(today)s) at the latest."
            ),
        )
        if errors:
            raise ValidationError(errors)


# --------------------------------------------------------------------------------------------
# Documents: the files kept with a report as evidence
# --------------------------------------------------------------------------------------------


class _DocumentStorage(LazyObject):
    """``STORAGES["documents"]``, looked up when first used (and again after the setting
    changes: ``reset_document_storage``), as Django's ``default_storage`` is."""

    def _setup(self) -> None:
        self._wrapped = storages["documents"]


_document_storage = _DocumentStorage()


def document_storage() -> Storage:
    """Where documents are kept (a callable, so migrations name it instead of a folder)."""
    return cast(Storage, _document_storage)


def reset_document_storage() -> None:
    _document_storage._wrapped = empty  # type: ignore[assignment]  # LazyObject's sentinel


def document_path(document: ReportDocument, filename: str) -> str:
    """The stored name: the report's folder and a random name with the file's extension. Never
    the original name, which may say what a confidential file is (it is kept in the row)."""
    suffix = PurePath(filename).suffix.lower()
    suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""
    return f"reports/{document.report_id}/{uuid.uuid4().hex}{suffix}"


class DocumentAltered(Exception):
    """A save that would change a stored document's file or what it records about it."""


class ReportDocument(TextWithoutNul):
    """A file kept with a report: the PDF, a saved copy of the web page, a screenshot, a photo.

    Never altered once stored: only its note may change (a correction is a new file), and the
    model refuses any other change. Added and deleted through ``tracker.documents``; its bytes
    are checked against ``sha256`` by ``verify``. Visible to whoever may see its report.
    """

    # What a save may never change once the document is stored.
    IMMUTABLE = ("report_id", "file", "sha256", "size", "content_type", "original_name",
                 "added_by_id", "added_at")  # fmt: skip

    report = models.ForeignKey(
        Report,
        on_delete=models.CASCADE,
        related_name="documents",
        db_index=False,  # document_unique_per_report begins with it
        verbose_name=_("report"),
    )
    file = models.FileField(
        _("file"), storage=document_storage, upload_to=document_path, max_length=300
    )
    sha256 = models.CharField(
        _("SHA-256"),
        max_length=64,
        editable=False,
        help_text=_("Of the bytes received, computed while they arrived."),
    )
    size = models.PositiveBigIntegerField(_("size"), editable=False, help_text=_("Bytes."))
    content_type = models.CharField(
        _("content type"),
        max_length=100,
        editable=False,
        help_text=_("As read from the file's content."),
    )
    original_name = models.CharField(_("original name"), max_length=255, editable=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("added by"),
    )
    added_at = models.DateTimeField(_("added at"), default=timezone.now, editable=False)
    note = models.TextField(
        _("note"),
        blank=True,
        help_text=_(
            "What it is and where it came from, e.g. 'the article as saved on 2 March "
            "2020, before it was taken down'."
        ),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["added_at", "id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [
            models.UniqueConstraint(
                fields=["report", "sha256"],
                name="document_unique_per_report",
                violation_error_message=_("This file is already attached to this report."),
            ),
        ]

    def __str__(self) -> str:
        return self.original_name

    def save(self, *args, **kwargs) -> None:
        """Refuses to change a stored document's file, hash or provenance (``IMMUTABLE``)."""
        if not self._state.adding and self.pk is not None:
            stored = (
                type(self)._default_manager.filter(pk=self.pk).values_list(*self.IMMUTABLE).first()
            )
            now = tuple(
                self.file.name if name == "file" else getattr(self, name) for name in self.IMMUTABLE
            )
            if stored is not None and tuple(stored) != now:
                changed = [n for n, a, b in zip(self.IMMUTABLE, stored, now, strict=True) if a != b]
                raise DocumentAltered(
                    f"Document #{self.pk} is evidence and cannot be changed "
                    f"({', '.join(changed)}): add the corrected file as a new document."
                )
        super().save(*args, **kwargs)

    def stored_sha256(self) -> str | None:
        """The SHA-256 of the bytes the storage holds now (read in chunks); None if the file
        is missing."""
        digest = hashlib.sha256()
        try:
            with self.file.storage.open(self.file.name, "rb") as stored:
                for chunk in stored.chunks():
                    digest.update(chunk)
        except FileNotFoundError:
            return None
        return digest.hexdigest()

    def verify(self) -> bool:
        """Whether the stored bytes are still those received: their SHA-256 is ``sha256``."""
        return self.stored_sha256() == self.sha256


class Stance(models.TextChoices):
    COMPLYING = "complying", pgettext_lazy("stance", "complying")
    VIOLATING = "violating", pgettext_lazy("stance", "violating")
    PARTIAL = "partial", pgettext_lazy("stance", "partial")
    UNCLEAR = "unclear", pgettext_lazy("stance", "unclear")


class Measure(models.TextChoices):
    WORKERS = "workers", pgettext_lazy("measure", "workers")
    WORK_PERMITS = "work_permits", pgettext_lazy("measure", "work permits")
    NEW_WORK_PERMITS = "new_work_permits", pgettext_lazy("measure", "new work permits")
    VISAS_ISSUED = "visas_issued", pgettext_lazy("measure", "visas issued")
    ENTRIES = "entries", pgettext_lazy("measure", "entries")
    REPATRIATED = "repatriated", pgettext_lazy("measure", "repatriated")


# Stocks are counted on the as_of date; flows over period_start..as_of (docs/design.md §2).
STOCK_MEASURES = frozenset({Measure.WORKERS, Measure.WORK_PERMITS})
FLOW_MEASURES = frozenset(set(Measure) - STOCK_MEASURES)


class DatePrecision(models.TextChoices):
    """How much of a date the source gave (docs/design.md §7 decision 18)."""

    DAY = partialdates.DAY, pgettext_lazy("date precision", "day")
    MONTH = partialdates.MONTH, pgettext_lazy("date precision", "month")
    YEAR = partialdates.YEAR, pgettext_lazy("date precision", "year")


# A claim's reference when it has none of its own: "C-" and its id, never reused (ids are
# not), and reserved: a monitor's own reference may not take that form (docs/design.md §7
# decision 19).
SYSTEM_REFERENCE = re.compile(r"C-(\d{6,})")


def system_reference(pk: int) -> str:
    """The reference the system gives claim ``pk``: 'C-000123'."""
    return f"C-{pk:06d}"


class ClaimQuerySet(models.QuerySet):
    def inside(self, place: Place) -> ClaimQuerySet:
        """Claims about ``place`` or any place inside it: by the ids of those places (read
        now, a few thousand at most), a condition the claims' place index serves and the
        planner estimates from its statistics, where a prefix of the joined place's path was
        neither (issue 32: an export of one country walked every claim)."""
        ids = list(Place.objects.inside(place).values_list("pk", flat=True))
        return self.filter(place__in=ids)


class Claim(TextWithoutNul):
    """One assertion inside a report: who says what about which place, as of when."""

    Stance = Stance
    Measure = Measure

    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="claims", verbose_name=_("report")
    )
    attributed_to = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name=_("claim made by"),
        help_text=_("Who makes the claim (e.g. NKDB), which may differ from the publisher."),
    )
    place = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="claims", verbose_name=_("place")
    )
    obligation = models.ForeignKey(
        Obligation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claims",
        verbose_name=_("obligation"),
        help_text=_("Leave empty for a pure count."),
    )
    stance = models.CharField(
        _("stance"), max_length=20, choices=Stance.choices, default=Stance.UNCLEAR
    )
    measure = models.CharField(_("measure"), max_length=20, choices=Measure.choices, blank=True)
    count_low = models.PositiveBigIntegerField(
        _("count low"), null=True, blank=True, help_text=_("For a point estimate, low = high.")
    )
    count_high = models.PositiveBigIntegerField(
        _("count high"), null=True, blank=True, help_text=_("Empty means 'at least count low'.")
    )
    period_start = models.DateField(
        _("period start"),
        null=True,
        blank=True,
        help_text=_(
            "For flows (new permits, entries ...): start of the period: a day, a month or a year."
        ),
    )
    # A partial date is kept as its first day and its precision (tracker/partialdates.py):
    # indexes and ordering read the day.
    period_start_precision = models.CharField(
        _("period start precision"),
        max_length=5,
        choices=DatePrecision.choices,
        default=DatePrecision.DAY,
        db_default=DatePrecision.DAY,
    )
    as_of = models.DateField(
        _("as of"),
        help_text=_(
            "The date the claim describes, not the publication date: a day, a month or a year "
            "(2019-12-23, 2017-09, 2022)."
        ),
    )
    as_of_precision = models.CharField(
        _("as-of precision"),
        max_length=5,
        choices=DatePrecision.choices,
        default=DatePrecision.DAY,
        db_default=DatePrecision.DAY,
    )
    credibility = models.PositiveSmallIntegerField(
        _("credibility"),
        choices=Credibility.choices,
        default=Credibility.CANNOT_JUDGE,
        validators=[
            MinValueValidator(
                1, _("Credibility is a grade from 1 (confirmed) to 6 (cannot be judged).")
            ),
            MaxValueValidator(
                6, _("Credibility is a grade from 1 (confirmed) to 6 (cannot be judged).")
            ),
        ],
        error_messages={
            "invalid_choice": _(
                "Credibility %(value)r is not a grade: use 1 (confirmed) to 6 "
                "(truth cannot be judged)."
            )
        },
    )
    summary = models.TextField(
        _("summary"), blank=True, help_text=_("A paraphrase; never the source's sentences.")
    )
    external_id = models.CharField(
        _("external ID"),
        max_length=100,
        null=True,
        blank=True,
        unique=True,
        help_text=_("Your own reference for this claim (kept across imports)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ClaimQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        ordering = ["-as_of", "id"]
        indexes = [
            # The checks read a partition's claims by obligation and by place, in as_of order.
            models.Index(fields=["obligation", "as_of"], name="claim_obligation_as_of"),
            models.Index(fields=["place", "as_of"], name="claim_place_as_of"),
            models.Index(fields=["measure", "as_of"], name="claim_measure_as_of"),
            models.Index(fields=["as_of"], name="claim_as_of"),
            # A targeted check's cap signals at a place: its counts in (measure, day) order
            # from the index alone (PostgreSQL; elsewhere the index has no included columns).
            models.Index(
                fields=["place", "measure", "as_of"],
                include=["count_low", "count_high", "id"],
                name="claim_place_measure_counts",
            ),
            # A targeted check's newest evidence per obligation: the newest claim dated to a
            # month or a year, beside the newest by day (selectors._focused_claims), found in
            # these few rows instead of by walking back through every claim dated to a day.
            models.Index(
                fields=["as_of", "id"],
                condition=Q(as_of_precision__in=["month", "year"]),
                name="claim_partial_as_of",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(count_high__isnull=True)
                | Q(count_low__isnull=False, count_high__gte=F("count_low")),
                name="claim_count_range",
                violation_error_message=_("The upper bound cannot be below the lower bound."),
            ),
            models.CheckConstraint(
                condition=(Q(measure="") & Q(count_low__isnull=True))
                | (~Q(measure="") & Q(count_low__isnull=False)),
                name="claim_measure_iff_count",
                violation_error_message=_("A count needs a measure and a measure needs a count."),
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True) | Q(period_start__lte=F("as_of")),
                name="claim_period_before_as_of",
                violation_error_message=_("The period cannot start after the as-of date."),
            ),
            models.CheckConstraint(
                condition=Q(credibility__gte=1, credibility__lte=6),
                name="claim_credibility_range",
                violation_error_message=_("Credibility is a grade from 1 to 6."),
            ),
        ]

    def __str__(self) -> str:
        return self.external_id or f"claim {self.pk}"

    # --- derived values -----------------------------------------------------------------------

    @property
    def as_of_given(self) -> partialdates.PartialDate | None:
        """The as-of date as the source gave it: a day, a month or a year."""
        return partialdates.PartialDate.of(self.as_of, self.as_of_precision)

    @as_of_given.setter
    def as_of_given(self, value: partialdates.PartialDate | None) -> None:
        self.as_of = value.first if value else None  # type: ignore[assignment]
        self.as_of_precision = value.precision if value else DatePrecision.DAY

    @property
    def period_start_given(self) -> partialdates.PartialDate | None:
        return partialdates.PartialDate.of(self.period_start, self.period_start_precision)

    @period_start_given.setter
    def period_start_given(self, value: partialdates.PartialDate | None) -> None:
        self.period_start = value.first if value else None
        self.period_start_precision = value.precision if value else DatePrecision.DAY

    @property
    def reference(self) -> str:
        """The monitor's own reference, else the one the system gives (``system_reference``):
        what exports write and imports find the claim by."""
        if self.external_id:
            return self.external_id
        return self.reference_by_system

    @property
    def reference_by_system(self) -> str:
        return system_reference(self.pk) if self.pk else ""

    @property
    def is_stock(self) -> bool:
        return self.measure in STOCK_MEASURES

    @property
    def is_restricted(self) -> bool:
        return self.attributed_to.confidential or self.report.is_restricted

    def count_display(self) -> str:
        """'60,000', '70,000–80,000', 'at least 2,000', or '' when there is no count."""
        return text.count(self.count_low, self.count_high)

    def is_dated_after(self, day: datetime.date) -> bool:
        """Whether the date the claim describes lies wholly after ``day`` (a report's
        publication: worth a second look, not a refusal; docs/design.md section 7)."""
        return self.as_of is not None and day is not None and self.as_of > day

    @property
    def ref(self) -> str:
        """How flags and exports name the claim: the monitor's reference, else '#id'."""
        return rules.claim_ref(self.pk, self.external_id, restricted=False)

    # --- validation ---------------------------------------------------------------------------

    def clean(self) -> None:
        errors: dict[str, str] = {}
        errors.update(
            _not_in_future(
                self.as_of,
                "as_of",
                gettext(
                    "The as-of date %(date)s is in the future; "
                    "it can be today (%(today)s) at the latest."
                ),
            )
        )
        low, high = self.count_low, self.count_high
        if high is not None and low is None:
            errors["count_low"] = gettext(
                "A count needs its lower bound; write 0 for 'fewer than N'."
            )
        elif low is not None and high is not None and high < low:
            errors["count_high"] = gettext(
                "The upper bound (%(high)s) is below the lower bound (%(low)s)."
            ) % {"high": f"{high:,}", "low": f"{low:,}"}
        if low is not None and not self.measure:
            errors["measure"] = gettext(
                "A count needs a measure: say what was counted (workers, work permits, "
                "new work permits, visas issued, entries, repatriated)."
            )
        elif self.measure and low is None and "count_low" not in errors:
            errors["count_low"] = gettext(
                "The measure '%(measure)s' needs a count; "
                "clear the measure for a claim without a number."
            ) % {"measure": self.get_measure_display()}
        if (
            self.external_id
            and SYSTEM_REFERENCE.fullmatch(self.external_id)
            and self.external_id != self.reference_by_system
        ):
            errors["external_id"] = gettext(
                "%(value)s has the form of the references the system gives (C- and six "
                "digits) and names no claim here: choose another reference, or leave it empty."
            ) % {"value": self.external_id}
        start, as_of = self.period_start_given, self.as_of_given
        if start and as_of:
            # As intervals: a period from June 2017 may end "as of 2017" (the year's end).
            if start.first > as_of.last:
                errors["period_start"] = gettext(
                    "The period starts (%(start)s) after the as-of date (%(as_of)s) that ends it."
                ) % {"start": start, "as_of": as_of}
            elif self.measure in STOCK_MEASURES:
                errors["period_start"] = gettext(
                    "'%(measure)s' is a stock counted on the as-of date; "
                    "a period applies to flows (new permits, visas, entries, repatriations)."
                ) % {"measure": self.get_measure_display()}
        if errors:
            raise ValidationError(errors)


# --------------------------------------------------------------------------------------------
# Watches: pairs to monitor even without evidence
# --------------------------------------------------------------------------------------------


class Watch(TextWithoutNul):
    """A (country, obligation) pair to monitor even when no claim concerns it yet."""

    place = models.ForeignKey(
        Place,
        on_delete=models.CASCADE,
        related_name="watches",
        limit_choices_to={"kind": PlaceKind.COUNTRY},
        error_messages={"invalid": NOT_A_COUNTRY},
        verbose_name=_("country"),
    )
    obligation = models.ForeignKey(
        Obligation,
        on_delete=models.CASCADE,
        related_name="watches",
        verbose_name=_("obligation"),
    )
    max_evidence_age_days = models.PositiveIntegerField(
        _("maximum evidence age (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Overrides the obligation's maximum evidence age for this country."),
    )
    notes = models.TextField(_("notes"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("watch")
        verbose_name_plural = _("watches")
        ordering = ["place__name", "obligation__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["place", "obligation"],
                name="watch_unique_pair",
                violation_error_message=_("This country is already watched for that obligation."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.place} · {self.obligation}"


# --------------------------------------------------------------------------------------------
# A user's preferences
# --------------------------------------------------------------------------------------------

# Each language named in itself, as a reader looks for it.
LANGUAGE_CHOICES = [("en", "English"), ("ko", "한국어")]


class Profile(models.Model):
    """What a user chose for themselves: the language of the pages and the admin."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="profile",
        verbose_name=_("user"),
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=LANGUAGE_CHOICES,
        blank=True,
        help_text=_("The language of the pages and the admin. Empty: the browser's language."),
    )

    class Meta:
        verbose_name = _("preferences")
        verbose_name_plural = _("preferences")

    def __str__(self) -> str:
        return str(self.user)


# --------------------------------------------------------------------------------------------
# Flags: what the checks find
# --------------------------------------------------------------------------------------------


class FlagKind(models.TextChoices):
    COUNT_CONFLICT = rules.COUNT_CONFLICT, _("count conflict")
    SCOPE_CONFLICT = rules.SCOPE_CONFLICT, _("scope conflict")
    STANCE_CONFLICT = rules.STANCE_CONFLICT, _("stance conflict")
    CAP_SIGNAL = rules.CAP_SIGNAL, _("cap signal")
    STALE = rules.STALE, _("stale evidence")
    OVERDUE_REPORT = rules.OVERDUE_REPORT, _("overdue report")


class FlagStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("flag status", "open")
    ACKNOWLEDGED = "acknowledged", pgettext_lazy("flag status", "acknowledged")
    RESOLVED = "resolved", pgettext_lazy("flag status", "resolved")
    DISMISSED = "dismissed", pgettext_lazy("flag status", "dismissed")


class Severity(models.IntegerChoices):
    LOW = rules.LOW, pgettext_lazy("severity", "low")
    MEDIUM = rules.MEDIUM, pgettext_lazy("severity", "medium")
    HIGH = rules.HIGH, pgettext_lazy("severity", "high")


# Statuses the checks keep up to date; a dismissed flag is left alone for the same evidence.
ACTIVE_FLAG_STATUSES = (FlagStatus.OPEN, FlagStatus.ACKNOWLEDGED)


class FlagQuerySet(models.QuerySet):
    def active(self) -> FlagQuerySet:
        """Open or acknowledged: what still needs a monitor's attention or is being handled."""
        return self.filter(status__in=ACTIVE_FLAG_STATUSES)

    def open(self) -> FlagQuerySet:
        return self.filter(status=FlagStatus.OPEN)


class Flag(models.Model):
    """A finding of the checks: one situation (docs/design.md §3.2), stored as facts (§3.5)
    and rendered for each reader when read (``tracker.flags.render``).

    Written only by ``services.flags_write`` (the checks) and the status services
    (acknowledge, dismiss, re-open); never edited as a form.
    """

    Kind = FlagKind
    Status = FlagStatus

    kind = models.CharField(_("kind"), max_length=20, choices=FlagKind.choices)
    # No foreign-key constraints in the database on a flag's place and country, on its links
    # to its claims and obligations (nor on FlagEvent.flag): a first sweep writes a flag per
    # situation and a link per claim it rests on, and PostgreSQL would check each key at
    # commit. They still point at rows that exist: a deletion of a claim, flag, place or
    # obligation waits for the checks in progress (services.links_lock), then Django deletes
    # the links with their claim or flag, and a flag written meanwhile still protects its
    # place or obligation (signals.py).
    # No index of their own: flag_country_status and flag_place_kind begin with them.
    place = models.ForeignKey(
        Place,
        on_delete=models.PROTECT,
        related_name="flags",
        db_index=False,
        db_constraint=False,
        verbose_name=_("place"),
    )
    country = models.ForeignKey(
        Place,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("country"),
        help_text=_("The country whose check found it; empty for world-level findings."),
    )
    # The situation's subject as a key (rules.Finding.subject): what the checks match a
    # situation to its flag by, with its claims (docs/design.md §3.3).
    subject = models.CharField(_("subject"), max_length=100, editable=False, default="")
    measure = models.CharField(_("measure"), max_length=20, choices=Measure.choices, blank=True)
    obligations = models.ManyToManyField(
        Obligation,
        related_name="flags",
        blank=True,
        through="FlagObligation",
        verbose_name=_("obligations"),
    )
    claims = models.ManyToManyField(
        Claim, related_name="flags", blank=True, through="FlagClaim", verbose_name=_("claims")
    )
    # The claims it rests on, kept when a claim is deleted (its link row is not).
    claim_ids = models.JSONField(_("claim ids"), default=list, editable=False)
    # What it found: figures, dates and the claims they come from (docs/design.md §3.5).
    facts = models.JSONField(_("facts"), default=dict, editable=False)
    severity = models.PositiveSmallIntegerField(
        _("severity"), choices=Severity.choices, default=Severity.MEDIUM
    )
    status = models.CharField(
        _("status"), max_length=20, choices=FlagStatus.choices, default=FlagStatus.OPEN
    )
    # Unique by a constraint of Meta (not unique=True, which on PostgreSQL adds a second index,
    # for LIKE, that no query uses and every new flag writes).
    fingerprint = models.CharField(_("fingerprint"), max_length=64, editable=False)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # Why the checks resolved it, as facts ({"code": ...}; docs/design.md §3.5).
    resolution = models.JSONField(
        pgettext_lazy("how the checks resolved a flag", "resolution"),
        null=True,
        blank=True,
        editable=False,
    )
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # flag_status_changed_by, below
        verbose_name=_("status changed by"),
        help_text=_("Who last acknowledged, dismissed or re-opened it."),
    )
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    status_note = models.TextField(
        _("status note"), blank=True, help_text=_("Why it was acknowledged or dismissed.")
    )

    objects = FlagQuerySet.as_manager()

    class Meta:
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        ordering = ["-severity", "-last_seen", "id"]
        constraints = [
            models.UniqueConstraint(fields=["fingerprint"], name="flag_fingerprint_unique"),
        ]
        indexes = [
            # flags_write reads a partition's flags; the admin and pages filter by status.
            models.Index(fields=["country", "status"], name="flag_country_status"),
            models.Index(fields=["status", "kind"], name="flag_status_kind"),
            # A targeted check reads the flags of the places a save touched, and every
            # staleness and overdue flag of the country: a few among a country's flags. The
            # second index holds only those few flags.
            models.Index(fields=["place", "kind"], name="flag_place_kind"),
            models.Index(
                fields=["country"],
                condition=models.Q(kind__in=[FlagKind.STALE, FlagKind.OVERDUE_REPORT]),
                name="flag_country_unpaired",
            ),
            # Deleting a user looks up what they changed. Only the flags a person changed: a
            # check's flags have nobody, and an index of every flag held as many empty keys
            # as flags, each written by a first sweep (FlagEvent.actor likewise).
            models.Index(
                fields=["status_changed_by"],
                condition=models.Q(status_changed_by__isnull=False),
                name="flag_status_changed_by",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def get_absolute_url(self) -> str:
        """Its page on the site (the admin's change page links to it: "View on site")."""
        return reverse("flag", args=[self.pk])


class FlagObligation(models.Model):
    """A flag's link to an obligation it bears on (``Flag.obligations``): one for most kinds,
    every cap or ban a rise bears on for a cap signal. No foreign-key constraints in the
    database: see ``Flag``."""

    flag = models.ForeignKey(
        Flag, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    obligation = models.ForeignKey(
        Obligation, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )

    class Meta:
        unique_together = [("flag", "obligation")]

    def __str__(self) -> str:
        return f"flag {self.flag_id} bears on obligation {self.obligation_id}"


class FlagClaim(models.Model):
    """A flag's link to a claim it rests on (``Flag.claims``): the table Django made for that
    field, declared so that it can do without an index on ``flag_id`` alone, which the unique
    (flag, claim) index serves as well. A first sweep writes a link per claim of each new flag
    (as many as the claims its situations rest on). No foreign-key constraints in the
    database: see ``Flag``."""

    flag = models.ForeignKey(
        Flag, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    claim = models.ForeignKey(
        Claim, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )

    class Meta:
        db_table = "tracker_flag_claims"
        unique_together = [("flag", "claim")]

    def __str__(self) -> str:
        return f"flag {self.flag_id} rests on claim {self.claim_id}"


class FlagEventAction(models.TextChoices):
    OPENED = "opened", _("opened by the checks")
    REOPENED = "reopened", _("found again by the checks")
    CHANGED = "changed", _("changed by the checks")
    RESOLVED = "resolved", _("resolved by the checks")
    ACKNOWLEDGED = "acknowledged", pgettext_lazy("flag event", "acknowledged")
    DISMISSED = "dismissed", pgettext_lazy("flag event", "dismissed")
    REOPENED_BY_USER = "reopened_by_user", _("re-opened by a monitor")


class FlagEvent(models.Model):
    """The audit trail of a flag: every status change, by the checks or by a person."""

    Action = FlagEventAction

    flag = models.ForeignKey(
        Flag, on_delete=models.CASCADE, related_name="events", db_constraint=False
    )  # no constraint in the database: see Flag.claims
    at = models.DateTimeField()
    action = models.CharField(max_length=20, choices=FlagEventAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # flagevent_actor, below
    )
    # A monitor's own words (acknowledge, dismiss, re-open); the checks write ``data`` only:
    # the claims that joined or left, the resolution (docs/design.md §3.5).
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            # The summaries count the events of a period.
            models.Index(fields=["at", "action"], name="flagevent_at_action"),
            # Only the events of a person (see flag_status_changed_by).
            models.Index(
                fields=["actor"], condition=models.Q(actor__isnull=False), name="flagevent_actor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.at:%Y-%m-%d %H:%M}"


class PairStatusValue(models.TextChoices):
    VIOLATING = rules.VIOLATING, _("violating")
    PARTIAL = rules.PARTIAL_STATUS, _("partial")
    CONTESTED = rules.CONTESTED, _("contested")
    STALE = rules.STALE_STATUS, _("stale")
    COMPLYING = rules.COMPLYING, _("complying")
    UNKNOWN = rules.UNKNOWN, _("unknown")


class PairStatus(models.Model):
    """The compliance status of one (country, obligation) pair with the facts of its reason
    (docs/design.md §4), kept by the checks: written in the transaction that writes the
    country's flags, read by the dashboard, the country pages, the API and the summaries, and
    rendered for each reader (``reports.status``). A pair without a row is ``unknown``."""

    Value = PairStatusValue

    country = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="+")
    obligation = models.ForeignKey(Obligation, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=PairStatusValue.choices)
    reason = models.JSONField(default=dict)
    claims = models.PositiveIntegerField(default=0, help_text="The claims it rests on.")
    newest_as_of = models.DateField(null=True, blank=True)
    flag_ids = models.JSONField(default=list)
    as_of = models.DateField(help_text="The day the check judged it on.")
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["country", "obligation"], name="pairstatus_unique")
        ]

    def __str__(self) -> str:
        return f"{self.country_id} · {self.obligation_id}: {self.status}"


class CheckState(models.Model):
    """One row per partition (a country, or ``WORLD``): when its checks last ran and how.

    The partition's check locks this row (``select_for_update``) for its whole transaction, so
    two checks of one country never overlap, in one worker or in several.
    """

    key = models.CharField(
        _("partition"), max_length=8, unique=True, help_text=_("ISO code, or WORLD.")
    )
    last_checked_at = models.DateTimeField(_("last checked at"), null=True, blank=True)
    last_as_of = models.DateField(
        _("last judged as of"), null=True, blank=True, help_text=_("The 'today' it judged by.")
    )
    last_duration_ms = models.PositiveIntegerField(_("last duration (ms)"), null=True, blank=True)
    last_claims = models.PositiveIntegerField(_("claims read last"), default=0)
    last_found = models.PositiveIntegerField(_("findings last"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    last_failed_at = models.DateTimeField(_("last failed at"), null=True, blank=True)
    failures = models.PositiveIntegerField(
        _("failures"), default=0, help_text=_("Failed runs since the last success.")
    )

    class Meta:
        ordering = ["key"]
        verbose_name = _("check state")
        verbose_name_plural = _("check states")

    def __str__(self) -> str:
        return self.key


class CheckRequest(models.Model):
    """An outbox row: a partition to check again because its evidence changed.

    Written in the same transaction as the change, so a change is never left unchecked: if the
    broker was down when the task was enqueued, ``dispatch_pending_checks`` finds the row.
    A partition check deletes the rows it served.
    """

    key = models.CharField(max_length=8, help_text="ISO code, or WORLD.")
    requested_at = models.DateTimeField()
    # A save names the claim it touched and the place it was or is at (two rows for a move),
    # so the check can be targeted; a request without a claim asks for the whole partition.
    # Plain ids, not foreign keys: the claim may be deleted by then.
    claim_id = models.BigIntegerField(null=True, blank=True)
    place_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["key", "id"], name="checkrequest_key_id")]

    def __str__(self) -> str:
        return f"{self.key} at {self.requested_at:%Y-%m-%d %H:%M:%S}"
