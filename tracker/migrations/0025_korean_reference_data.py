"""The reference data in Korean too (design section 6, item 6): the resolutions' titles, the
obligations' short names (in English and Korean) and their summaries and exceptions written in
Korean, the member states' Korean names from CLDR (babel), never typed by hand, and the
world's ("세계").

Only what is still empty is filled, so that an editor's correction survives running it again;
every place's Korean path is computed afresh from its ancestors.
"""

from django.db import migrations

PLACE_PATH_SEPARATOR = " > "

RESOLUTION_TITLES_KO = {
    2371: "비확산/조선민주주의인민공화국",
    2375: "비확산/조선민주주의인민공화국",
    2397: "비확산/조선민주주의인민공화국",
}

OBLIGATIONS = {
    "UNSCR2371-OP11": {
        "short_name": "cap on work authorisations",
        "short_name_ko": "노동허가 상한",
        "summary_ko": "결의 채택일 이후 어느 시점에도, 자국 관할권 안에서 유효한 북한 국적자의 "
        "노동허가 수가 결의 채택일 당시의 수를 넘어서는 안 된다. 곧 그 수가 동결된다.",
        "exceptions_ko": "인도적 지원, 비핵화 또는 결의에 부합하는 그 밖의 목적에 필요하다고 "
        "1718 위원회가 사안별로 사전 승인한 추가 북한 노동자.",
    },
    "UNSCR2375-OP17": {
        "short_name": "ban on new work authorisations",
        "short_name_ko": "신규 노동허가 금지",
        "summary_ko": "각국은 자국 영토에 들어온 북한 국적자에게 새로운 노동허가를 내주지 않는다.",
        "exceptions_ko": "결의 채택 전에 맺은 서면 계약에 따른 허가(각국은 이를 1718 위원회에 "
        "통보한다), 그리고 인도적 목적, 비핵화 또는 결의에 부합하는 그 밖의 목적을 위해 "
        "위원회가 사안별로 사전 승인한 허가.",
    },
    "UNSCR2397-OP8": {
        "short_name": "repatriation by 22 December 2019",
        "short_name_ko": "2019년 12월 22일까지 송환",
        "summary_ko": "자국 관할권 안에서 소득을 올리는 모든 북한 국적자와, 해외 노동자를 "
        "감시하는 북한 정부의 안전 감독관을 즉시, 늦어도 결의 채택 후 24개월 안에 본국으로 "
        "돌려보낸다.",
        "exceptions_ko": "해당 국가가 자국민으로 판단한 사람, 그리고 난민법과 인권법을 포함한 "
        "국내법 또는 국제법이 송환을 금지하는 북한 국적자. 또한 1718 위원회가 사안별로 "
        "필요하다고 판단한 경우.",
    },
    "UNSCR2397-OP8-MIDTERM": {
        "short_name": "mid-term report to the 1718 Committee",
        "short_name_ko": "1718 위원회 중간 보고",
        "summary_ko": "결의 채택 후 첫 12개월 동안 송환된, 소득을 올리던 북한 국적자에 관해 "
        "1718 위원회에 제출하는 중간 보고.",
        "exceptions_ko": "",
    },
    "UNSCR2397-OP8-FINAL": {
        "short_name": "final report to the 1718 Committee",
        "short_name_ko": "1718 위원회 최종 보고",
        "summary_ko": "결의에 따라 송환된, 소득을 올리던 모든 북한 국적자에 관해 1718 "
        "위원회에 제출하는 최종 보고.",
        "exceptions_ko": "",
    },
}


def korean_country_names() -> dict[str, str]:
    """CLDR's Korean name of every territory, by ISO 3166-1 alpha-2 code ('CN': '중국')."""
    import babel

    return dict(babel.Locale("ko").territories)


def fill(apps, schema_editor):
    Resolution = apps.get_model("tracker", "Resolution")
    Obligation = apps.get_model("tracker", "Obligation")
    Place = apps.get_model("tracker", "Place")

    for resolution in Resolution.objects.filter(number__in=RESOLUTION_TITLES_KO, title_ko=""):
        resolution.title_ko = RESOLUTION_TITLES_KO[resolution.number]
        resolution.save(update_fields=["title_ko"])
    for obligation in Obligation.objects.filter(code__in=OBLIGATIONS):
        changed = [
            name
            for name, value in OBLIGATIONS[obligation.code].items()
            if not getattr(obligation, name) and value
        ]
        for name in changed:
            setattr(obligation, name, OBLIGATIONS[obligation.code][name])
        obligation.save(update_fields=changed)

    Place.objects.filter(kind="world", name_ko="").update(name_ko="세계")
    names = korean_country_names()
    countries = list(Place.objects.filter(kind="country", name_ko=""))
    for country in countries:
        country.name_ko = names.get(country.iso_code, "")
    Place.objects.bulk_update(countries, ["name_ko"])

    # Every place's Korean path, from the root down (historical models have no save()).
    places = {p.pk: p for p in Place.objects.all()}
    for place in sorted(places.values(), key=lambda p: p.path.count("/")):
        korean = place.name_ko or place.name
        parent = places.get(place.parent_id)
        if parent is None or parent.kind == "world":
            place.name_path_ko = korean
        else:
            place.name_path_ko = f"{parent.name_path_ko}{PLACE_PATH_SEPARATOR}{korean}"
    Place.objects.bulk_update(places.values(), ["name_path_ko"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("tracker", "0024_names_in_korean")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
