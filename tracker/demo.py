"""The demo data set: the claims of the two articles the project grew from, paraphrased.

- Radio Free Asia, 23 December 2019: NKDB's estimate for northeast China as the UNSCR 2397
  repatriation deadline passed, with other estimates for China, Russia and overseas.
- South China Morning Post, August 2017: the Asan Institute's estimate for northeast China as
  UNSCR 2371 capped DPRK work authorisations.

Loading is idempotent: every row is found by its natural key first, so a second run adds
nothing (not even history rows) and keeps whatever staff changed in the demo rows.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction

from .models import Claim, Obligation, Place, Report, Source, Watch

D = datetime.date

SUB_PLACES = [
    # (name, Korean name, kind, parent: a country's ISO code, WORLD, or a place created above)
    ("Northeast China", "중국 동북 지역", Place.Kind.REGION, "CN"),
    ("Heilongjiang", "헤이룽장성", Place.Kind.PROVINCE, "Northeast China"),
    ("Jilin", "지린성", Place.Kind.PROVINCE, "Northeast China"),
    ("Liaoning", "랴오닝성", Place.Kind.PROVINCE, "Northeast China"),
    ("Southeast Asia", "동남아시아", Place.Kind.REGION, "WORLD"),
]

SOURCES = [
    # (name, kind, country ISO or None, reliability, notes)
    ("NKDB", "ngo", None, "B", "Database Center for North Korean Human Rights, Seoul."),
    (
        "KITA",
        "research",
        None,
        "C",
        "Korea International Trade Association, a private economic organisation in Seoul.",
    ),
    ("South Korean Foreign Ministry", "government", "KR", "B", ""),
    (
        "KINU and Sejong Institute",
        "research",
        None,
        "B",
        "Seoul research institutes: the "
        "Korea Institute for National Unification and the Sejong Institute.",
    ),
    ("Asan Institute for Policy Studies", "research", None, "B", "Seoul think tank."),
    ("Radio Free Asia", "news", None, "B", "RFA, incl. its Korean Service."),
    ("BenarNews", "news", None, "B", "RFA-affiliated news service covering Southeast Asia."),
    ("South China Morning Post", "news", None, "B", "Hong Kong daily."),
]


# Their other names, as Korean-language reporting gives them (one a line).
SOURCE_ALIASES = {
    "NKDB": "북한인권정보센터\nDatabase Center for North Korean Human Rights",
    "KITA": "한국무역협회\nKorea International Trade Association",
    "South Korean Foreign Ministry": "외교부\n대한민국 외교부\nMinistry of Foreign Affairs (ROK)",
    "KINU and Sejong Institute": "통일연구원\n세종연구소\nKINU",
    "Asan Institute for Policy Studies": "아산정책연구원",
    "Radio Free Asia": "자유아시아방송\nRFA",
    "BenarNews": "베나뉴스",
    "South China Morning Post": "사우스차이나모닝포스트\nSCMP",
}


@dataclass(frozen=True)
class DemoReport:
    key: str
    title: str
    publisher: str
    published_on: datetime.date
    notes: str


REPORTS = [
    DemoReport(
        key="RFA",
        title="NKDB monitors some 60,000 North Korean workers in northeast China as the "
        "UN repatriation deadline passes",
        publisher="Radio Free Asia",
        published_on=D(2019, 12, 23),
        notes="RFA Korean Service, English version. Figures from NKDB, KITA, the South Korean "
        "Foreign Ministry and Seoul research institutes; field reports from China and Russia; "
        "BenarNews interviews in Southeast Asia.",
    ),
    DemoReport(
        key="SCMP",
        title="Missing records hide North Korean labourers in China",
        publisher="South China Morning Post",
        published_on=D(2017, 8, 7),
        notes="Published the Monday after UNSCR 2371 (adopted Saturday 5 August 2017). Also "
        "cites USD 100–200 million a year in revenue for Pyongyang from these workers, and "
        "names Russia, Qatar, the UAE, Kuwait and Oman as destinations.",
    ),
]

# (external_id, report, source, place, obligation code, stance, measure, low, high, as_of,
#  credibility, summary)
CLAIMS = [
    (
        "DEMO-RFA-01",
        "RFA",
        "NKDB",
        "Northeast China",
        "UNSCR2397-OP8",
        "violating",
        "workers",
        60000,
        60000,
        D(2019, 12, 23),
        3,
        "About 60,000 DPRK workers remain in Heilongjiang, Jilin and Liaoning (restaurants, "
        "factories, farms, IT) as the deadline passes; NKDB ran five surveys in China since 2015 "
        "and named over 100 employers.",
    ),
    (
        "DEMO-RFA-02",
        "RFA",
        "KITA",
        "CN",
        None,
        "unclear",
        "workers",
        70000,
        80000,
        D(2019, 8, 31),
        3,
        "KITA's August 2019 estimate of DPRK workers in China.",
    ),
    (
        "DEMO-RFA-03",
        "RFA",
        "South Korean Foreign Ministry",
        "WORLD",
        None,
        "unclear",
        "workers",
        70000,
        100000,
        D(2017, 12, 31),
        3,
        "DPRK workers abroad at the end of 2017, all countries together.",
    ),
    (
        "DEMO-RFA-04",
        "RFA",
        "KINU and Sejong Institute",
        "WORLD",
        None,
        "unclear",
        "workers",
        100000,
        100000,
        D(2019, 12, 23),
        3,
        "Roughly 100,000 DPRK workers abroad, four in five of them in China and Russia.",
    ),
    (
        "DEMO-RFA-05",
        "RFA",
        "KINU and Sejong Institute",
        "CN",
        None,
        "unclear",
        "workers",
        50000,
        50000,
        D(2019, 12, 23),
        3,
        "About 50,000 DPRK workers in China.",
    ),
    (
        "DEMO-RFA-06",
        "RFA",
        "KINU and Sejong Institute",
        "RU",
        None,
        "unclear",
        "workers",
        30000,
        30000,
        D(2019, 12, 23),
        3,
        "About 30,000 DPRK workers in Russia.",
    ),
    (
        "DEMO-RFA-07",
        "RFA",
        "Radio Free Asia",
        "CN",
        "UNSCR2397-OP8",
        "violating",
        "",
        None,
        None,
        D(2019, 12, 22),
        3,
        "Many DPRK workers in China appeared to be ignoring the repatriation deadline; South "
        "Korean media saw no rush home over the weekend.",
    ),
    (
        "DEMO-RFA-08",
        "RFA",
        "Radio Free Asia",
        "CN",
        "UNSCR2375-OP17",
        "violating",
        "",
        None,
        None,
        D(2019, 12, 23),
        4,
        "More DPRK nationals appeared to be arriving in China to work.",
    ),
    (
        "DEMO-RFA-09",
        "RFA",
        "Radio Free Asia",
        "RU",
        "UNSCR2397-OP8",
        "violating",
        "",
        None,
        None,
        D(2019, 12, 23),
        3,
        "DPRK workers in Russia told RFA they keep working through trainee programmes, or enter "
        "on group tourist visas and then find jobs: the known loopholes.",
    ),
    (
        "DEMO-RFA-10",
        "RFA",
        "BenarNews",
        "Southeast Asia",
        "UNSCR2397-OP8",
        "partial",
        "",
        None,
        None,
        D(2019, 12, 20),
        3,
        "Officials in several Southeast Asian states told BenarNews that few North Koreans "
        "remain; most of the small number once there had already left.",
    ),
    (
        "DEMO-SCMP-01",
        "SCMP",
        "Asan Institute for Policy Studies",
        "Northeast China",
        "UNSCR2371-OP11",
        "unclear",
        "workers",
        20000,
        20000,
        D(2017, 8, 7),
        3,
        "Asan researcher Go Myong-hyun puts DPRK labourers in northeast China at about 20,000, "
        "mostly in joint ventures in labour-intensive trades such as garments.",
    ),
    (
        "DEMO-SCMP-02",
        "SCMP",
        "South China Morning Post",
        "CN",
        "UNSCR2371-OP11",
        "unclear",
        "",
        None,
        None,
        D(2017, 8, 7),
        6,
        "China keeps almost no public record of DPRK workers or what they do.",
    ),
]

# Destinations the SCMP names when UNSCR 2371 was adopted, with no claim of their own yet.
WATCHES = [
    ("QA", "UNSCR2371-OP11"),
    ("AE", "UNSCR2371-OP11"),
    ("KW", "UNSCR2371-OP11"),
    ("OM", "UNSCR2371-OP11"),
]
WATCH_NOTE = "Named as a destination of DPRK workers when UNSCR 2371 was adopted (SCMP, 2017)."


@transaction.atomic
def demo_load() -> dict[str, int]:
    """Create the demo rows that do not exist yet; return how many of each were created."""
    created = {"places": 0, "sources": 0, "reports": 0, "claims": 0, "watches": 0}
    world = Place.objects.get(kind=Place.Kind.WORLD)
    places: dict[str, Place] = {"WORLD": world}

    def place(key: str) -> Place:
        if key not in places:
            places[key] = Place.objects.get(kind=Place.Kind.COUNTRY, iso_code=key)
        return places[key]

    for name, name_ko, kind, parent_key in SUB_PLACES:
        places[name], new = Place.objects.get_or_create(
            parent=place(parent_key), name=name, defaults={"kind": kind, "name_ko": name_ko}
        )
        created["places"] += new

    sources: dict[str, Source] = {}
    for name, kind, country, reliability, notes in SOURCES:
        source = Source.objects.filter(name__iexact=name).first()
        if source is None:
            source = Source.objects.create(
                name=name,
                kind=kind,
                country=place(country) if country else None,
                reliability=reliability,
                notes=notes,
                aliases=SOURCE_ALIASES.get(name, ""),
            )
            created["sources"] += 1
        sources[name] = source

    reports: dict[str, Report] = {}
    for row in REPORTS:
        reports[row.key], new = Report.objects.get_or_create(
            title=row.title,
            publisher=sources[row.publisher],
            published_on=row.published_on,
            defaults={"notes": row.notes, "language": "en"},
        )
        created["reports"] += new

    obligations = {o.code: o for o in Obligation.objects.all()}
    for (
        external_id,
        report,
        source,
        where,
        obligation,
        stance,
        measure,
        low,
        high,
        as_of,
        credibility,
        summary,
    ) in CLAIMS:
        _, new = Claim.objects.get_or_create(
            external_id=external_id,
            defaults={
                "report": reports[report],
                "attributed_to": sources[source],
                "place": place(where),
                "obligation": obligations[obligation] if obligation else None,
                "stance": stance,
                "measure": measure,
                "count_low": low,
                "count_high": high,
                "as_of": as_of,
                "credibility": credibility,
                "summary": summary,
            },
        )
        created["claims"] += new

    for iso, code in WATCHES:
        _, new = Watch.objects.get_or_create(
            place=place(iso), obligation=obligations[code], defaults={"notes": WATCH_NOTE}
        )
        created["watches"] += new
    return created
