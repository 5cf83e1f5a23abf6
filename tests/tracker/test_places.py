"""The place tree: materialised paths stay right through creation, moves and renames."""

import pytest

from tests.factories import ClaimFactory, PlaceFactory, country, world
from tracker.models import Claim, Place

pytestmark = pytest.mark.django_db


def test_new_place_gets_its_path_from_its_parent():
    china = country("CN")
    region = PlaceFactory(name="Northeast China", parent=china)
    province = PlaceFactory(name="Liaoning", kind="province", parent=region)
    assert region.path == f"{china.path}{region.pk}/"
    assert province.path == f"/{world().pk}/{china.pk}/{region.pk}/{province.pk}/"
    assert province.name_path == "China > Northeast China > Liaoning"
    assert province.ancestor_ids == [world().pk, china.pk, region.pk]
    assert Place.objects.get(pk=province.pk).path == province.path


def test_countries_are_named_without_the_world():
    assert country("KP").name_path == "North Korea"
    assert world().name_path == "World"


def test_moving_a_place_moves_its_subtree():
    region = PlaceFactory(name="Far East", parent=country("CN"))
    city = PlaceFactory(name="Vladivostok", kind="city", parent=region)
    region.parent = country("RU")
    region.save()
    city.refresh_from_db()
    assert city.path == f"{country('RU').path}{region.pk}/{city.pk}/"
    assert city.name_path == "Russia > Far East > Vladivostok"


def test_renaming_a_place_renames_its_subtree():
    region = PlaceFactory(name="NE", parent=country("CN"))
    province = PlaceFactory(name="Jilin", kind="province", parent=region)
    region.name = "Northeast China"
    region.save()
    province.refresh_from_db()
    assert province.name_path == "China > Northeast China > Jilin"


def test_claims_inside_a_country_include_its_sub_places():
    region = PlaceFactory(name="Northeast China", parent=country("CN"))
    in_region = ClaimFactory(place=region)
    in_china = ClaimFactory(place=country("CN"))
    ClaimFactory(place=country("RU"))
    assert set(Claim.objects.inside(country("CN"))) == {in_region, in_china}
    assert region.is_inside(country("CN"))
    assert not country("CN").is_inside(region)


def test_saving_a_new_place_writes_one_history_row():
    region = PlaceFactory(name="Northeast China")
    assert region.history.count() == 1
