"""Model validation: every rule, with the message a monitor sees (admin, import and API alike)."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tests.factories import (
    ClaimFactory,
    PlaceFactory,
    ReportFactory,
    SourceFactory,
    country,
    obligation,
    world,
)
from tracker import visibility
from tracker.models import Claim, Obligation, Place, Report, Source
from tracker.partialdates import PartialDate

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 23)


def errors_of(instance) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        instance.full_clean()
    return caught.value.message_dict


def unsaved_claim(**fields) -> Claim:
    return ClaimFactory.build(
        report=ReportFactory(), attributed_to=SourceFactory(), place=country("CN"), **fields
    )


# --- counts -------------------------------------------------------------------------------------


def test_valid_claim_passes():
    unsaved_claim(count_low=70000, count_high=80000).full_clean()


def test_count_high_below_count_low_is_refused_on_count_high():
    errors = errors_of(unsaved_claim(count_low=80000, count_high=70000))
    assert errors == {"count_high": ["The upper bound (70,000) is below the lower bound (80,000)."]}


def test_negative_count_is_refused():
    errors = errors_of(unsaved_claim(count_low=-5, count_high=10))
    assert errors["count_low"] == ["Ensure this value is greater than or equal to 0."]


def test_upper_bound_without_lower_bound_asks_for_zero():
    errors = errors_of(unsaved_claim(count_low=None, count_high=500))
    assert errors == {"count_low": ["A count needs its lower bound; write 0 for 'fewer than N'."]}


def test_open_ended_count_is_at_least_low():
    claim = unsaved_claim(count_low=2000, count_high=None)
    claim.full_clean()
    assert claim.count_display() == "at least 2,000"


def test_count_needs_a_measure():
    errors = errors_of(unsaved_claim(measure="", count_low=100, count_high=100))
    assert errors["measure"][0].startswith("A count needs a measure: say what was counted")


def test_measure_needs_a_count():
    errors = errors_of(unsaved_claim(measure="work_permits", count_low=None, count_high=None))
    assert errors == {
        "count_low": [
            "The measure 'work permits' needs a count; clear the measure for a claim without "
            "a number."
        ]
    }


def test_claim_without_count_or_measure_is_valid():
    unsaved_claim(measure="", count_low=None, count_high=None, stance="violating").full_clean()


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "as_of", "refused"),
    [("2017-06", "2017", False), ("2019-06-15", "2019", False), ("2018", "2017-12", True)],
)
def test_a_period_and_its_end_are_compared_as_the_intervals_they_cover(start, as_of, refused):
    claim = unsaved_claim(measure="new_work_permits", count_low=124, count_high=124)
    claim.period_start_given = PartialDate.parse(start)
    claim.as_of_given = PartialDate.parse(as_of)
    assert ("period_start" in errors_of(claim)) == refused


def test_period_start_after_as_of_is_refused():
    claim = unsaved_claim(
        measure="new_work_permits",
        count_low=124,
        count_high=124,
        period_start=datetime.date(2018, 1, 1),
        as_of=datetime.date(2017, 12, 31),
    )
    assert errors_of(claim) == {
        "period_start": [
            "The period starts (2018-01-01) after the as-of date (2017-12-31) that ends it."
        ]
    }


def test_period_on_a_stock_measure_is_refused():
    claim = unsaved_claim(period_start=datetime.date(2019, 1, 1), as_of=datetime.date(2019, 12, 1))
    assert errors_of(claim)["period_start"][0].startswith(
        "'workers' is a stock counted on the as-of date"
    )


def test_flow_with_period_is_valid():
    unsaved_claim(
        measure="new_work_permits",
        count_low=124,
        count_high=124,
        period_start=datetime.date(2017, 1, 1),
        as_of=datetime.date(2017, 12, 31),
    ).full_clean()


@time_machine.travel(datetime.datetime(2026, 11, 23, 12, tzinfo=datetime.UTC), tick=False)
def test_as_of_in_the_future_is_refused():
    errors = errors_of(unsaved_claim(as_of=datetime.date(2026, 11, 24)))
    assert errors == {
        "as_of": [
            "The as-of date 2026-11-24 is in the future; "
            "it can be today (2026-11-23) at the latest."
        ]
    }


@time_machine.travel(datetime.datetime(2026, 11, 23, 12, tzinfo=datetime.UTC), tick=False)
def test_as_of_today_is_accepted():
    unsaved_claim(as_of=TODAY).full_clean()


@time_machine.travel(datetime.datetime(2026, 11, 23, 12, tzinfo=datetime.UTC), tick=False)
def test_published_on_in_the_future_is_refused():
    report = ReportFactory.build(publisher=SourceFactory(), published_on=datetime.date(2027, 1, 1))
    assert errors_of(report) == {
        "published_on": [
            "The publication date 2027-01-01 is in the future; it can be today (2026-11-23) "
            "at the latest."
        ]
    }


def test_report_language_must_be_a_code():
    report = ReportFactory.build(publisher=SourceFactory(), language="Korean")
    assert errors_of(report) == {
        "language": ["Write the language as a code such as en, ko, zh, ru or zh-Hant."]
    }


# --- grades -------------------------------------------------------------------------------------


@pytest.mark.parametrize("credibility", [0, 7])
def test_credibility_outside_one_to_six_is_refused(credibility):
    errors = errors_of(unsaved_claim(credibility=credibility))
    assert errors["credibility"][0] == (
        f"Credibility {credibility} is not a grade: "
        "use 1 (confirmed) to 6 (truth cannot be judged)."
    )


def test_reliability_outside_a_to_f_is_refused():
    errors = errors_of(SourceFactory.build(reliability="G"))
    assert errors == {
        "reliability": [
            "Reliability 'G' is not a grade of the Admiralty scale: use a letter from A "
            "(completely reliable) to F (cannot be judged)."
        ]
    }


# --- sources ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "label"), [("government", "government"), ("self_report", "the state itself")]
)
def test_state_source_needs_a_country(kind, label):
    errors = errors_of(SourceFactory.build(kind=kind, country=None))
    assert errors["country"][0].startswith(f"A {label}")
    assert errors["country"][0].endswith("source speaks for a state: choose its country.")


def test_government_source_with_country_is_valid():
    SourceFactory.build(kind="government", country=country("RU")).full_clean()


def test_source_country_must_be_a_country():
    errors = errors_of(SourceFactory.build(kind="government", country=world()))
    assert errors == {
        "country": [
            f"Place {world().pk} is not a country: choose a country (a place of kind country)."
        ]
    }


def test_source_names_are_unique_ignoring_case():
    SourceFactory(name="NKDB")
    errors = errors_of(SourceFactory.build(name="nkdb"))
    assert errors == {"__all__": ["A source with this name already exists."]}


# --- places -------------------------------------------------------------------------------------


def test_place_cannot_be_its_own_parent():
    region = PlaceFactory(name="Northeast China")
    region.parent = region
    assert errors_of(region) == {
        "parent": [
            "Northeast China cannot be its own ancestor: China > Northeast China lies inside it."
        ]
    }


def test_place_cannot_move_under_its_own_descendant():
    region = PlaceFactory(name="Northeast China")
    province = PlaceFactory(name="Liaoning", kind="province", parent=region)
    city = PlaceFactory(name="Dandong", kind="city", parent=province)
    region.parent = city
    assert errors_of(region)["parent"] == [
        "Northeast China cannot be its own ancestor: China > Northeast China > Liaoning > "
        "Dandong lies inside it."
    ]


def test_place_kind_must_be_deeper_than_its_parent():
    province = PlaceFactory(name="Liaoning", kind="province")
    errors = errors_of(Place(name="Northeast", kind="region", parent=province))
    assert errors["parent"] == [
        "A region cannot sit inside a province (China > Liaoning); the order is world > "
        "country > region > province > city."
    ]


def test_country_needs_an_iso_code():
    errors = errors_of(Place(name="Atlantis", kind="country", parent=world()))
    assert errors == {"iso_code": ["A country needs its ISO 3166-1 alpha-2 code (e.g. CN)."]}


def test_only_countries_have_an_iso_code():
    errors = errors_of(Place(name="Jilin", kind="province", parent=country("CN"), iso_code="JL"))
    assert errors == {"iso_code": ["Only countries have an ISO code."]}


def test_place_needs_a_parent_below_the_world():
    assert errors_of(Place(name="Nowhere", kind="region")) == {
        "parent": ["A region needs a parent place."]
    }


def test_sibling_places_have_distinct_names():
    PlaceFactory(name="Northeast China")
    errors = errors_of(Place(name="northeast china", kind="region", parent=country("CN")))
    assert errors == {"__all__": ["This parent already has a place with that name."]}


# --- obligations --------------------------------------------------------------------------------


def test_deadline_obligation_needs_a_due_date():
    resolution = obligation("UNSCR2397-OP8").resolution
    errors = errors_of(
        Obligation(
            code="X",
            resolution=resolution,
            paragraph="OP9",
            kind="deadline",
            short_name="s",
            summary="s",
            effective_from=datetime.date(2017, 12, 22),
        )
    )
    assert errors == {"due_on": ["A deadline obligation needs a due date."]}


def test_obligation_due_before_effective_is_refused():
    ob = obligation("UNSCR2397-OP8")
    ob.due_on = datetime.date(2017, 1, 1)
    assert errors_of(ob) == {
        "due_on": ["The due date 2017-01-01 is before the obligation takes effect (2017-12-22)."]
    }


def test_obligation_due_dates():
    deadline = obligation("UNSCR2397-OP8")
    assert not deadline.is_past_due(on=datetime.date(2019, 12, 22))
    assert deadline.is_past_due(on=datetime.date(2019, 12, 23))
    assert obligation("UNSCR2371-OP11").is_in_force(on=datetime.date(2017, 8, 5))
    assert not obligation("UNSCR2371-OP11").is_in_force(on=datetime.date(2017, 8, 4))


# --- the database backstop ----------------------------------------------------------------------


def test_database_refuses_inverted_range_even_without_full_clean():
    with pytest.raises(IntegrityError), transaction.atomic():
        ClaimFactory(count_low=10, count_high=5)


def test_database_refuses_count_without_measure_even_without_full_clean():
    with pytest.raises(IntegrityError), transaction.atomic():
        ClaimFactory(measure="", count_low=10, count_high=10)


def test_database_refuses_state_source_without_country():
    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.create(name="MFA", kind="government")


def test_report_str_and_claim_headline():
    claim = ClaimFactory(
        attributed_to=SourceFactory(name="NKDB"),
        place=PlaceFactory(name="Northeast China"),
        count_low=60000,
        as_of=datetime.date(2019, 12, 23),
    )
    assert visibility.shown(claim, sees=False).headline() == (
        "NKDB · China > Northeast China · 60,000 workers · as of 2019-12-23"
    )
    assert str(Report(title="T", published_on=datetime.date(2019, 1, 2))) == "T (2019-01-02)"
