"""Reference data present in every install: the resolutions, their obligations, the places.

The member states come from country_converter's UN membership column (193 states), not from a
typed list; their names are its short English names ("North Korea", "Russia").
"""

import datetime

from django.db import migrations

WORLD = "World"

RESOLUTIONS = [
    {
        "number": 2371,
        "symbol": "S/RES/2371 (2017)",
        "adopted_on": datetime.date(2017, 8, 5),
        "title": "Non-proliferation/Democratic People's Republic of Korea",
        "url": "https://undocs.org/S/RES/2371(2017)",
    },
    {
        "number": 2375,
        "symbol": "S/RES/2375 (2017)",
        "adopted_on": datetime.date(2017, 9, 11),
        "title": "Non-proliferation/Democratic People's Republic of Korea",
        "url": "https://undocs.org/S/RES/2375(2017)",
    },
    {
        "number": 2397,
        "symbol": "S/RES/2397 (2017)",
        "adopted_on": datetime.date(2017, 12, 22),
        "title": "Non-proliferation/Democratic People's Republic of Korea",
        "url": "https://undocs.org/S/RES/2397(2017)",
    },
]

# Summaries paraphrase the operative paragraphs; they are not quotations.
OBLIGATIONS = [
    {
        "code": "UNSCR2371-OP11",
        "resolution": 2371,
        "paragraph": "OP11",
        "kind": "cap",
        "summary": "A state may at no date after adoption have more work authorisations for DPRK "
        "nationals in force in its jurisdiction than it had on the day the resolution was "
        "adopted: the number is frozen.",
        "exceptions": "Additional DPRK workers the 1718 Committee approves in advance, case by "
        "case, as needed for humanitarian assistance, denuclearisation or another purpose "
        "consistent with the resolutions.",
        "effective_from": datetime.date(2017, 8, 5),
        "due_on": None,
    },
    {
        "code": "UNSCR2375-OP17",
        "resolution": 2375,
        "paragraph": "OP17",
        "kind": "prohibition",
        "summary": "States grant no new work authorisations to DPRK nationals admitted to "
        "their territory.",
        "exceptions": "Authorisations under written contracts concluded before adoption "
        "(states notify the 1718 Committee of them), and those the Committee approves in "
        "advance, case by case, for humanitarian, denuclearisation or other purposes "
        "consistent with the resolutions.",
        "effective_from": datetime.date(2017, 9, 11),
        "due_on": None,
    },
    {
        "code": "UNSCR2397-OP8",
        "resolution": 2397,
        "paragraph": "OP8",
        "kind": "deadline",
        "summary": "Send home every DPRK national earning income in the state's jurisdiction, "
        "and the DPRK government safety-oversight attachés who watch over workers abroad, at "
        "once and at the latest 24 months after adoption.",
        "exceptions": "People the state finds to be its own nationals, and DPRK nationals whose "
        "repatriation national or international law forbids, including refugee law and human "
        "rights law; also cases the 1718 Committee finds necessary case by case.",
        "effective_from": datetime.date(2017, 12, 22),
        "due_on": datetime.date(2019, 12, 22),
    },
    {
        "code": "UNSCR2397-OP8-MIDTERM",
        "resolution": 2397,
        "paragraph": "OP8",
        "kind": "reporting",
        "summary": "Mid-term report to the 1718 Committee on the DPRK nationals earning income "
        "who were repatriated in the first 12 months after adoption.",
        "exceptions": "",
        "effective_from": datetime.date(2017, 12, 22),
        "due_on": datetime.date(2019, 3, 22),
    },
    {
        "code": "UNSCR2397-OP8-FINAL",
        "resolution": 2397,
        "paragraph": "OP8",
        "kind": "reporting",
        "summary": "Final report to the 1718 Committee on all DPRK nationals earning income who "
        "were repatriated under the resolution.",
        "exceptions": "",
        "effective_from": datetime.date(2017, 12, 22),
        "due_on": datetime.date(2020, 3, 22),
    },
]


def un_member_states() -> list[tuple[str, str]]:
    """(ISO alpha-2, short name) of every UN member state, from country_converter."""
    import country_converter

    converter = country_converter.CountryConverter()
    # Both frames keep the library's row order, one row per member state.
    codes = converter.UNmemberas("ISO2")["ISO2"]
    names = converter.UNmemberas("name_short")["name_short"]
    return sorted(zip(codes, names, strict=True))


def load(apps, schema_editor):
    Resolution = apps.get_model("tracker", "Resolution")
    Obligation = apps.get_model("tracker", "Obligation")
    Place = apps.get_model("tracker", "Place")

    resolutions = {}
    for row in RESOLUTIONS:
        resolutions[row["number"]], _ = Resolution.objects.get_or_create(
            number=row["number"], defaults=row
        )
    for row in OBLIGATIONS:
        Obligation.objects.get_or_create(
            code=row["code"],
            defaults={**row, "resolution": resolutions[row["resolution"]]},
        )

    # Historical models have no custom save(): paths are set here as Place.save() would.
    world, _ = Place.objects.get_or_create(kind="world", defaults={"name": WORLD})
    world.path, world.name_path = f"/{world.pk}/", world.name
    world.save(update_fields=["path", "name_path"])
    existing = set(Place.objects.filter(kind="country").values_list("iso_code", flat=True))
    Place.objects.bulk_create(
        [
            Place(name=name, kind="country", parent=world, iso_code=iso)
            for iso, name in un_member_states()
            if iso not in existing
        ]
    )
    for country in Place.objects.filter(kind="country", path=""):
        country.path, country.name_path = f"{world.path}{country.pk}/", country.name
        country.save(update_fields=["path", "name_path"])


def unload(apps, schema_editor):
    apps.get_model("tracker", "Obligation").objects.filter(
        code__in=[row["code"] for row in OBLIGATIONS]
    ).delete()
    apps.get_model("tracker", "Resolution").objects.filter(
        number__in=[row["number"] for row in RESOLUTIONS]
    ).delete()
    Place = apps.get_model("tracker", "Place")
    Place.objects.filter(kind="country").delete()
    Place.objects.filter(kind="world").delete()


class Migration(migrations.Migration):
    dependencies = [("tracker", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
