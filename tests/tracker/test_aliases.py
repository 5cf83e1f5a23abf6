"""Places and sources by any of their names (issue 31): a Korean name or another name finds
them in every search — the admin's lists and autocomplete, the claim page, the API — and a
confidential source is found by none of its names by a user without the permission."""

import pytest
from django.urls import reverse

from tests.factories import (
    ClaimFactory,
    PlaceFactory,
    ReportFactory,
    SourceFactory,
    country,
    obligation,
)
from tracker.models import Claim, Place, Report, Source, tidy_aliases

pytestmark = pytest.mark.django_db

SECRET_ALIAS = "제보자갑"  # the other name of a confidential source


@pytest.fixture
def named():
    """A ministry known by its Korean name, a province, and an informant with another name."""
    ministry = SourceFactory(
        name="Ministry of Unification",
        kind=Source.Kind.GOVERNMENT,
        country=country("KR"),
        aliases="통일부\nMOU",
    )
    liaoning = PlaceFactory(name="Liaoning", kind=Place.Kind.PROVINCE, name_ko="랴오닝성")
    informant = SourceFactory(name="Informant K", confidential=True, aliases=SECRET_ALIAS)
    china = country("CN")
    china.aliases = "PRC"
    china.save()
    return {
        "ministry_claim": ClaimFactory(attributed_to=ministry, place=country("RU")),
        "liaoning_claim": ClaimFactory(place=liaoning),
        "secret_claim": ClaimFactory(attributed_to=informant, place=country("RU")),
        "ban_claim": ClaimFactory(place=country("RU"), obligation=obligation("UNSCR2375-OP17")),
        "ministry": ministry,
        "informant": informant,
        "ministry_report": ReportFactory(title="Press briefing", publisher=ministry),
    }


def admin_search(client, model, term) -> set:
    url = reverse(f"admin:tracker_{model._meta.model_name}_changelist")
    response = client.get(url, {"q": term})
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


def autocomplete(client, field, term, **headers) -> list[str]:
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "tracker", "model_name": "claim", "field_name": field, "term": term},
        **headers,
    )
    assert response.status_code == 200
    return [row["text"] for row in response.json()["results"]]


def page_search(client, term) -> set[int]:
    rows = client.get("/claims/", {"q": term}).context["rows"]
    return {shown.claim.pk for shown in rows}


def api_search(client, term) -> set[int]:
    response = client.get("/api/claims/", {"q": term})
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def test_other_names_are_kept_one_a_line_each_once():
    assert tidy_aliases("  통일부 \n\nMOU\n통일부\n") == "통일부\nMOU"
    source = SourceFactory(aliases=" 통일부\n\n통일부 ")
    source.full_clean()
    assert source.aliases == "통일부"


def test_the_admin_finds_places_and_sources_by_any_of_their_names(editor_client, named):
    assert country("CN") in admin_search(editor_client, Place, "중국")  # CLDR's Korean name
    assert country("CN") in admin_search(editor_client, Place, "PRC")  # another name
    assert Place.objects.get(name="Liaoning") in admin_search(editor_client, Place, "랴오닝")
    assert admin_search(editor_client, Source, "통일부") == {named["ministry"]}
    assert named["ministry_report"] in admin_search(editor_client, Report, "통일부")


def test_the_admin_finds_claims_by_their_places_and_sources_other_names(editor_client, named):
    assert named["ministry_claim"] in admin_search(editor_client, Claim, "통일부")
    # A province is found by its country's Korean name: its Korean path holds it.
    assert named["liaoning_claim"] in admin_search(editor_client, Claim, "중국")
    assert named["liaoning_claim"] in admin_search(editor_client, Claim, "랴오닝성")
    assert named["liaoning_claim"] not in admin_search(editor_client, Claim, "러시아")
    assert named["ministry_claim"] in admin_search(editor_client, Claim, "러시아")


def test_the_admin_autocomplete_finds_other_names(editor_client, named):
    assert autocomplete(editor_client, "attributed_to", "통일부") == ["Ministry of Unification"]
    assert "China" in autocomplete(editor_client, "place", "중국")
    assert "China" in autocomplete(editor_client, "place", "PRC")
    assert "UNSCR2397-OP8" in autocomplete(editor_client, "obligation", "repatriation")
    korean = {"HTTP_ACCEPT_LANGUAGE": "ko"}
    assert "UNSCR2397-OP8 · 2019년 12월 22일까지 송환" in autocomplete(
        editor_client, "obligation", "송환", **korean
    )
    assert "중국" in autocomplete(editor_client, "place", "PRC", **korean)


def test_the_claim_page_and_the_api_find_other_names(viewer_client, named):
    for search in (page_search, api_search):
        assert search(viewer_client, "통일부") == {named["ministry_claim"].pk}, search
        assert named["liaoning_claim"].pk in search(viewer_client, "중국"), search
        assert named["liaoning_claim"].pk in search(viewer_client, "랴오닝성"), search
        assert search(viewer_client, "신규 노동허가") == {named["ban_claim"].pk}, search
        assert search(viewer_client, "ban on new work") == {named["ban_claim"].pk}, search


def test_a_confidential_sources_other_names_are_never_found_without_the_permission(
    viewer_client, editor_client, named
):
    secret = named["secret_claim"]
    for client in (viewer_client, editor_client):
        assert admin_search(client, Source, SECRET_ALIAS) == set()
        assert secret not in admin_search(client, Claim, SECRET_ALIAS)
        assert autocomplete(client, "attributed_to", SECRET_ALIAS) == []
        assert page_search(client, SECRET_ALIAS) == set()
        assert api_search(client, SECRET_ALIAS) == set()
        sources = client.get("/api/sources/").json()["results"]
        assert SECRET_ALIAS not in str(sources)


def test_who_may_see_a_confidential_source_finds_it_by_its_other_names(trusted_client, named):
    secret = named["secret_claim"]
    assert admin_search(trusted_client, Source, SECRET_ALIAS) == {named["informant"]}
    assert secret in admin_search(trusted_client, Claim, SECRET_ALIAS)
    assert autocomplete(trusted_client, "attributed_to", SECRET_ALIAS) == ["Informant K"]
    assert page_search(trusted_client, SECRET_ALIAS) == {secret.pk}
    assert api_search(trusted_client, SECRET_ALIAS) == {secret.pk}
