"""The demo data set: the claims of the two seed articles, loaded idempotently."""

import pytest
from django.apps import apps
from django.core.management import call_command

from tracker import visibility
from tracker.models import Claim, Place, Report, Source, Watch

pytestmark = pytest.mark.django_db


def table_sizes() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_app_config("tracker").get_models()
    }


def test_loaddemo_twice_gives_the_same_rows(capsys):
    call_command("loaddemo")
    first = table_sizes()
    call_command("loaddemo")
    assert table_sizes() == first
    out = capsys.readouterr().out
    assert "created 0 places, 0 sources, 0 reports, 0 claims, 0 watches" in out


def test_demo_records_both_articles_and_their_claims():
    call_command("loaddemo")
    assert Report.objects.count() == 2
    assert Claim.objects.count() == 12
    headlines = {
        visibility.shown(c, sees=True).headline()
        for c in Claim.objects.select_related(*visibility.CLAIM_RELATED)
    }
    assert "NKDB · China > Northeast China · 60,000 workers · as of 2019-12-23" in headlines
    assert "KITA · China · 70,000–80,000 workers · as of 2019-08-31" in headlines
    assert "KINU and Sejong Institute · China · 50,000 workers · as of 2019-12-23" in headlines
    assert (
        "Asan Institute for Policy Studies · China > Northeast China · 20,000 workers · "
        "as of 2017-08-07" in headlines
    )
    names = set(Place.objects.values_list("name_path", flat=True))
    assert {
        "China > Northeast China > Heilongjiang",
        "China > Northeast China > Jilin",
        "China > Northeast China > Liaoning",
    } <= names
    assert Watch.objects.filter(place__iso_code="QA").exists()


def test_every_demo_row_passes_validation():
    call_command("loaddemo")
    for model in (Place, Source, Report, Claim, Watch):
        for row in model.objects.all():
            row.full_clean()


def test_rfa_report_keeps_publisher_apart_from_claimants():
    call_command("loaddemo")
    nkdb = Claim.objects.get(external_id="DEMO-RFA-01")
    assert nkdb.report.publisher.name == "Radio Free Asia"
    assert nkdb.attributed_to.name == "NKDB"
    assert nkdb.report.published_on.isoformat() == "2019-12-23"
