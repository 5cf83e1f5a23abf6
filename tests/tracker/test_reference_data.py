"""The reference data that every install gets from the migrations."""

import datetime
import importlib

import pycountry
import pytest
from django.contrib.auth.models import Group

from tracker.models import Obligation, Place, Resolution

pytestmark = pytest.mark.django_db


def frozen_member_states() -> list[tuple[str, str]]:
    """The (code, name) rows written in the reference data migration."""
    return importlib.import_module("tracker.migrations.0002_reference_data").MEMBER_STATES


def test_three_resolutions_with_their_adoption_dates():
    assert {r.symbol: r.adopted_on for r in Resolution.objects.all()} == {
        "S/RES/2371 (2017)": datetime.date(2017, 8, 5),
        "S/RES/2375 (2017)": datetime.date(2017, 9, 11),
        "S/RES/2397 (2017)": datetime.date(2017, 12, 22),
    }


def test_five_obligations_with_their_kinds_and_dates():
    rows = {
        o.code: (o.resolution.number, o.paragraph, o.kind, o.effective_from, o.due_on)
        for o in Obligation.objects.select_related("resolution")
    }
    d = datetime.date
    assert rows == {
        "UNSCR2371-OP11": (2371, "OP11", "cap", d(2017, 8, 5), None),
        "UNSCR2375-OP17": (2375, "OP17", "prohibition", d(2017, 9, 11), None),
        "UNSCR2397-OP8": (2397, "OP8", "deadline", d(2017, 12, 22), d(2019, 12, 22)),
        "UNSCR2397-OP8-MIDTERM": (2397, "OP8", "reporting", d(2017, 12, 22), d(2019, 3, 22)),
        "UNSCR2397-OP8-FINAL": (2397, "OP8", "reporting", d(2017, 12, 22), d(2020, 3, 22)),
    }


def test_every_obligation_has_a_summary_and_a_default_evidence_age():
    for ob in Obligation.objects.all():
        ob.full_clean()
        assert len(ob.summary) > 40
        assert ob.max_evidence_age_days == 180
    assert "refugee law" in Obligation.objects.get(code="UNSCR2397-OP8").exceptions


def test_193_member_states_under_one_world():
    world = Place.objects.get(kind="world")
    countries = Place.objects.filter(kind="country")
    assert countries.count() == 193
    assert set(countries.values_list("parent", flat=True)) == {world.pk}
    codes = set(countries.values_list("iso_code", flat=True))
    assert {"KP", "KR", "CN", "RU", "QA", "AE", "KW", "OM", "GR", "GB", "NA"} <= codes
    # Observers and territories are not member states.
    assert not codes & {"TW", "PS", "VA", "XK", "HK"}
    assert all(len(code) == 2 and code.isupper() for code in codes)


def test_the_countries_are_the_frozen_member_states_with_their_names():
    member_states = frozen_member_states()
    rows = Place.objects.filter(kind="country").order_by("pk").values_list("iso_code", "name")
    # Ordered by code, so that the ids follow the same order in every install.
    assert list(rows) == member_states == sorted(member_states)
    assert len({code for code, _ in member_states}) == 193
    assert {("KP", "North Korea"), ("CI", "Côte d'Ivoire"), ("NA", "Namibia")} <= set(rows)


def test_every_frozen_member_state_code_is_an_iso_3166_country():
    member_states = frozen_member_states()
    unknown = [code for code, _ in member_states if pycountry.countries.get(alpha_2=code) is None]
    assert unknown == []


def test_every_country_path_sits_under_the_world():
    world = Place.objects.get(kind="world")
    for place in Place.objects.filter(kind="country"):
        assert place.path == f"/{world.pk}/{place.pk}/"
        assert place.name_path == place.name


def test_groups_editors_change_evidence_viewers_only_view():
    editors = set(Group.objects.get(name="Editors").permissions.values_list("codename", flat=True))
    viewers = set(Group.objects.get(name="Viewers").permissions.values_list("codename", flat=True))
    for model in ("report", "claim", "source", "place"):
        assert {f"add_{model}", f"change_{model}", f"view_{model}"} <= editors
    assert {"view_resolution", "view_obligation", "view_watch"} <= editors
    assert "change_obligation" not in editors
    assert all(code.startswith("view_") for code in viewers)
    assert "view_confidential" not in editors | viewers
