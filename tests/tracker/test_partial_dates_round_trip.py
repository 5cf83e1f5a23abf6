"""Dates as given (a day, a month, a year) through every way in and out, and the reference
every claim has (issue 29): the admin's forms, the API, the import and the exports, and an
export imported back adds nothing, whichever way its claims were entered."""

import datetime

import pytest
from rest_framework.test import APIClient

from tests.admin_forms import admin_url, report_form
from tests.factories import ClaimFactory, SourceFactory, country
from tests.tracker.test_imports import csv_bytes, export, run
from tracker import imports
from tracker.models import Claim, Report, Source

pytestmark = pytest.mark.django_db
D = datetime.date

# NK-1 dated to a month, NK-2 to a year and without a reference of its own, NK-3 a flow over
# a year up to a month.
ROWS = [
    "NK-1,NKDB survey,https://example.org/nkdb,Radio Free Asia,2019-12-23,NKDB,ngo,,CN,"
    "Northeast China > Liaoning > Dandong,UNSCR2397-OP8,violating,workers,5000,7000,,"
    "2017-09,2,Dandong",
    ",NKDB survey,https://example.org/nkdb,Radio Free Asia,2019-12-23,KITA,research,,RU,"
    "Khabarovsk,,unclear,workers,58,,,2022,3,",
    "NK-3,NKDB survey,https://example.org/nkdb,Radio Free Asia,2019-12-23,KITA,research,,PL,"
    ",,unclear,new_work_permits,124,124,2017,2017-12,3,",
]


def dates(claim: Claim) -> tuple:
    return (claim.as_of, claim.as_of_precision, claim.period_start, claim.period_start_precision)


def test_an_import_keeps_each_date_as_given():
    plan, _ = run(csv_bytes(*ROWS))
    assert plan.ok, plan.errors
    month = Claim.objects.get(external_id="NK-1")
    year = Claim.objects.get(place__name="Khabarovsk")
    flow = Claim.objects.get(external_id="NK-3")
    assert dates(month) == (D(2017, 9, 1), "month", None, "day")
    assert dates(year) == (D(2022, 1, 1), "year", None, "day")
    assert dates(flow) == (D(2017, 12, 1), "month", D(2017, 1, 1), "year")
    assert (str(month.as_of_given), str(year.as_of_given), str(flow.period_start_given)) == (
        "2017-09",
        "2022",
        "2017",
    )
    # A claim entered without a reference has the system's.
    assert year.external_id is None and year.reference == f"C-{year.pk:06d}"


@pytest.mark.parametrize("wrong", ["2017-13", "2017-9", "Sept 2017", "2017-02-30"])
def test_an_import_refuses_what_is_not_a_day_a_month_or_a_year(wrong):
    plan, _ = run(csv_bytes(ROWS[0].replace(",2017-09,", f",{wrong},")))
    assert [(e.row, e.column) for e in plan.errors] == [(2, "as_of")]
    assert "is not a date: write a day, a month or a year" in plan.errors[0].message


def test_a_reference_of_the_systems_form_must_name_its_claim():
    """A monitor's own reference may not take the form the system gives: it would name
    another claim one day."""
    plan, _ = run(csv_bytes(ROWS[0].replace("NK-1,", "C-999999,")))
    assert [e.column for e in plan.errors] == ["external_id"]
    assert "has the form of the references the system gives" in plan.errors[0].message


def test_the_admins_claim_form_takes_and_shows_a_partial_date(admin_client):
    claim = ClaimFactory(as_of=D(2019, 12, 23))
    url = admin_url(Claim, "change", claim.pk)
    page = admin_client.get(url)
    form = page.context["adminform"].form
    data = {
        name: form[name].value() if form[name].value() is not None else "" for name in form.fields
    }
    assert data["as_of"] == "2019-12-23"
    assert f"C-{claim.pk:06d}" in page.content.decode()  # the reference, read-only
    response = admin_client.post(url, {**data, "as_of": "2022", "_save": "Save"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    claim.refresh_from_db()
    assert (claim.as_of, claim.as_of_precision) == (D(2022, 1, 1), "year")
    assert admin_client.get(url).context["adminform"].form["as_of"].value() == "2022"
    wrong = admin_client.post(url, {**data, "as_of": "2022-13", "_save": "Save"})
    assert "is not a date: write a day, a month or a year" in wrong.content.decode()


def enter_in_the_admin(client) -> None:
    rfa = SourceFactory(name="Radio Free Asia", kind="news")
    nkdb = SourceFactory(name="NKDB")
    claims = [
        {"attributed_to": nkdb.pk, "place": country("CN").pk, "measure": "workers",
         "count_low": "50000", "count_high": "50000", "as_of": "2017-09"},
        {"attributed_to": rfa.pk, "place": country("RU").pk, "measure": "new_work_permits",
         "count_low": "10", "count_high": "10", "period_start": "2018", "as_of": "2018-12"},
    ]  # fmt: skip
    response = client.post(admin_url(Report, "add"), report_form(rfa, claims))
    assert response.status_code == 302, response.context["errors"]


def enter_through_the_api(user) -> int:
    api = APIClient()
    api.force_authenticate(user)
    report = Report.objects.get(title="NKDB survey of northeast China")
    body = {
        "report": report.pk, "attributed_to": Source.objects.get(name="NKDB").pk,
        "place": country("CN").pk, "stance": "violating", "measure": "workers",
        "count_low": 100000, "count_high": 100000, "as_of": "2023", "credibility": 3,
    }  # fmt: skip
    response = api.post("/api/claims/", body, format="json")
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert (answer["as_of"], answer["period_start"], answer["external_id"]) == ("2023", None, None)
    assert answer["reference"] == f"C-{answer['id']:06d}"
    assert api.get(f"/api/claims/{answer['id']}/").json()["as_of"] == "2023"
    wrong = api.post("/api/claims/", {**body, "as_of": "2023-1"}, format="json")
    assert wrong.status_code == 400
    assert "is not a date: write a day, a month or a year" in str(wrong.json()["as_of"])
    return answer["id"]


def stored() -> set[tuple]:
    return set(
        Claim.objects.values_list(
            "id", "external_id", "report_id", "attributed_to_id", "place_id", "measure",
            "count_low", "count_high", "period_start", "period_start_precision", "as_of",
            "as_of_precision", "stance", "credibility", "summary",
        )
    )  # fmt: skip


@pytest.mark.parametrize(("action", "name"), [("export_csv", "x.csv"), ("export_xlsx", "x.xlsx")])
def test_an_export_imports_back_to_the_same_claims_however_they_were_entered(
    admin_client, admin_user, action, name
):
    enter_in_the_admin(admin_client)
    api_claim = enter_through_the_api(admin_user)
    plan, _ = run(csv_bytes(*ROWS))
    assert plan.ok, plan.errors
    before = stored()
    assert len(before) == 6
    assert sum(1 for row in before if row[1] is None) == 4  # no reference of their own
    data = export(admin_client, action, Claim.objects.all())
    text = data.decode("utf-8-sig") if name.endswith(".csv") else ""
    if text:
        assert f"C-{api_claim:06d},NKDB survey of northeast China" in text
        assert ",2018,2018-12," in text and ",,2017-09," in text and ",,2023," in text
    plan = imports.plan(imports.read_rows(data, name))
    assert plan.ok, plan.errors
    assert (len(plan.to_add), len(plan.to_update)) == (0, 6)
    imports.apply(plan)
    assert Claim.objects.count() == 6
    assert stored() == before


def test_a_claim_with_its_own_reference_is_not_found_by_the_systems():
    """Two rows cannot name one claim two ways: a claim whose monitor gave it a reference is
    named by that one only."""
    own = ClaimFactory(external_id="ABC")
    plan, _ = run(csv_bytes(ROWS[0].replace("NK-1,", f"C-{own.pk:06d},")))
    assert [e.column for e in plan.errors] == ["external_id"]
    own.refresh_from_db()
    assert own.external_id == "ABC"


def test_a_claim_found_by_the_systems_reference_keeps_none_of_its_own():
    plan, _ = run(csv_bytes(ROWS[1]))
    assert plan.ok, plan.errors
    claim = Claim.objects.get()
    plan, _ = run(csv_bytes(f"C-{claim.pk:06d}" + ROWS[1].replace(",2022,3,", ",2023,3,")))
    assert plan.ok, plan.errors
    assert len(plan.to_update) == 1
    claim.refresh_from_db()
    assert (claim.external_id, str(claim.as_of_given)) == (None, "2023")
    assert [version.external_id for version in claim.history.all()] == [None, None]
