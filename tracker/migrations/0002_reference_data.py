"""Reference data present in every install: the resolutions, their obligations, the places.

The 193 UN member states are written out below: ISO 3166-1 alpha-2 code and short English name
("North Korea", "Russia"). They were read once from country_converter's UN membership column
and frozen here, so that every install gets the same rows whatever a library's later release
says, and no library is needed at run time for them. Existing databases already hold these rows:
a change to a name or a new member state is a new migration, not an edit here.
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


# (ISO alpha-2, short English name), ordered by code: the order gives the rows their ids.
MEMBER_STATES = [
    ("AD", "Andorra"),
    ("AE", "United Arab Emirates"),
    ("AF", "Afghanistan"),
    ("AG", "Antigua and Barbuda"),
    ("AL", "Albania"),
    ("AM", "Armenia"),
    ("AO", "Angola"),
    ("AR", "Argentina"),
    ("AT", "Austria"),
    ("AU", "Australia"),
    ("AZ", "Azerbaijan"),
    ("BA", "Bosnia and Herzegovina"),
    ("BB", "Barbados"),
    ("BD", "Bangladesh"),
    ("BE", "Belgium"),
    ("BF", "Burkina Faso"),
    ("BG", "Bulgaria"),
    ("BH", "Bahrain"),
    ("BI", "Burundi"),
    ("BJ", "Benin"),
    ("BN", "Brunei Darussalam"),
    ("BO", "Bolivia"),
    ("BR", "Brazil"),
    ("BS", "Bahamas"),
    ("BT", "Bhutan"),
    ("BW", "Botswana"),
    ("BY", "Belarus"),
    ("BZ", "Belize"),
    ("CA", "Canada"),
    ("CD", "DR Congo"),
    ("CF", "Central African Republic"),
    ("CG", "Congo Republic"),
    ("CH", "Switzerland"),
    ("CI", "Côte d'Ivoire"),
    ("CL", "Chile"),
    ("CM", "Cameroon"),
    ("CN", "China"),
    ("CO", "Colombia"),
    ("CR", "Costa Rica"),
    ("CU", "Cuba"),
    ("CV", "Cabo Verde"),
    ("CY", "Cyprus"),
    ("CZ", "Czechia"),
    ("DE", "Germany"),
    ("DJ", "Djibouti"),
    ("DK", "Denmark"),
    ("DM", "Dominica"),
    ("DO", "Dominican Republic"),
    ("DZ", "Algeria"),
    ("EC", "Ecuador"),
    ("EE", "Estonia"),
    ("EG", "Egypt"),
    ("ER", "Eritrea"),
    ("ES", "Spain"),
    ("ET", "Ethiopia"),
    ("FI", "Finland"),
    ("FJ", "Fiji"),
    ("FM", "Micronesia, Fed. Sts."),
    ("FR", "France"),
    ("GA", "Gabon"),
    ("GB", "United Kingdom"),
    ("GD", "Grenada"),
    ("GE", "Georgia"),
    ("GH", "Ghana"),
    ("GM", "Gambia"),
    ("GN", "Guinea"),
    ("GQ", "Equatorial Guinea"),
    ("GR", "Greece"),
    ("GT", "Guatemala"),
    ("GW", "Guinea-Bissau"),
    ("GY", "Guyana"),
    ("HN", "Honduras"),
    ("HR", "Croatia"),
    ("HT", "Haiti"),
    ("HU", "Hungary"),
    ("ID", "Indonesia"),
    ("IE", "Ireland"),
    ("IL", "Israel"),
    ("IN", "India"),
    ("IQ", "Iraq"),
    ("IR", "Iran"),
    ("IS", "Iceland"),
    ("IT", "Italy"),
    ("JM", "Jamaica"),
    ("JO", "Jordan"),
    ("JP", "Japan"),
    ("KE", "Kenya"),
    ("KG", "Kyrgyzstan"),
    ("KH", "Cambodia"),
    ("KI", "Kiribati"),
    ("KM", "Comoros"),
    ("KN", "St. Kitts and Nevis"),
    ("KP", "North Korea"),
    ("KR", "South Korea"),
    ("KW", "Kuwait"),
    ("KZ", "Kazakhstan"),
    ("LA", "Laos"),
    ("LB", "Lebanon"),
    ("LC", "St. Lucia"),
    ("LI", "Liechtenstein"),
    ("LK", "Sri Lanka"),
    ("LR", "Liberia"),
    ("LS", "Lesotho"),
    ("LT", "Lithuania"),
    ("LU", "Luxembourg"),
    ("LV", "Latvia"),
    ("LY", "Libya"),
    ("MA", "Morocco"),
    ("MC", "Monaco"),
    ("MD", "Moldova"),
    ("ME", "Montenegro"),
    ("MG", "Madagascar"),
    ("MH", "Marshall Islands"),
    ("MK", "North Macedonia"),
    ("ML", "Mali"),
    ("MM", "Myanmar"),
    ("MN", "Mongolia"),
    ("MR", "Mauritania"),
    ("MT", "Malta"),
    ("MU", "Mauritius"),
    ("MV", "Maldives"),
    ("MW", "Malawi"),
    ("MX", "Mexico"),
    ("MY", "Malaysia"),
    ("MZ", "Mozambique"),
    ("NA", "Namibia"),
    ("NE", "Niger"),
    ("NG", "Nigeria"),
    ("NI", "Nicaragua"),
    ("NL", "Netherlands"),
    ("NO", "Norway"),
    ("NP", "Nepal"),
    ("NR", "Nauru"),
    ("NZ", "New Zealand"),
    ("OM", "Oman"),
    ("PA", "Panama"),
    ("PE", "Peru"),
    ("PG", "Papua New Guinea"),
    ("PH", "Philippines"),
    ("PK", "Pakistan"),
    ("PL", "Poland"),
    ("PT", "Portugal"),
    ("PW", "Palau"),
    ("PY", "Paraguay"),
    ("QA", "Qatar"),
    ("RO", "Romania"),
    ("RS", "Serbia"),
    ("RU", "Russia"),
    ("RW", "Rwanda"),
    ("SA", "Saudi Arabia"),
    ("SB", "Solomon Islands"),
    ("SC", "Seychelles"),
    ("SD", "Sudan"),
    ("SE", "Sweden"),
    ("SG", "Singapore"),
    ("SI", "Slovenia"),
    ("SK", "Slovakia"),
    ("SL", "Sierra Leone"),
    ("SM", "San Marino"),
    ("SN", "Senegal"),
    ("SO", "Somalia"),
    ("SR", "Suriname"),
    ("SS", "South Sudan"),
    ("ST", "Sao Tome and Principe"),
    ("SV", "El Salvador"),
    ("SY", "Syria"),
    ("SZ", "Eswatini"),
    ("TD", "Chad"),
    ("TG", "Togo"),
    ("TH", "Thailand"),
    ("TJ", "Tajikistan"),
    ("TL", "Timor-Leste"),
    ("TM", "Turkmenistan"),
    ("TN", "Tunisia"),
    ("TO", "Tonga"),
    ("TR", "Türkiye"),
    ("TT", "Trinidad and Tobago"),
    ("TV", "Tuvalu"),
    ("TZ", "Tanzania"),
    ("UA", "Ukraine"),
    ("UG", "Uganda"),
    ("US", "United States"),
    ("UY", "Uruguay"),
    ("UZ", "Uzbekistan"),
    ("VC", "St. Vincent and the Grenadines"),
    ("VE", "Venezuela"),
    ("VN", "Vietnam"),
    ("VU", "Vanuatu"),
    ("WS", "Samoa"),
    ("YE", "Yemen"),
    ("ZA", "South Africa"),
    ("ZM", "Zambia"),
    ("ZW", "Zimbabwe"),
]


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
            for iso, name in MEMBER_STATES
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
