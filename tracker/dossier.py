"""The evidence dossier of one (country, obligation): every claim with its source and grades
(the obligation's, and every claim its flags rest on, whatever its obligation), the flags and
how they were handled, and a timeline — a ZIP of a CSV, a readable HTML page and
``MANIFEST.sha256`` (the SHA-256 of every other file, ``sha256sum -c`` format), so a panel can
check that nothing was altered since it was made."""

from __future__ import annotations

import hashlib
import io
import zipfile

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from . import exports, visibility
from .models import Claim, Flag, FlagClaim, FlagEvent, Obligation, Place


def build(country: Place, obligation: Obligation, user) -> tuple[str, bytes]:
    """(file name, ZIP bytes)."""
    show = visibility.sees_confidential(user)
    flags = (
        Flag.objects.filter(Q(country=country) | Q(place=country))
        .filter(Q(obligation=obligation) | Q(obligation__isnull=True))
        .select_related("place", "obligation")
        .order_by("first_seen", "pk")
    )
    # The obligation's evidence, and every claim a flag here rests on, whatever its obligation
    # (a count conflict compares counts that need none): the dossier holds what it cites.
    claims = Claim.objects.inside(country).filter(obligation=obligation) | Claim.objects.filter(
        pk__in=FlagClaim.objects.filter(flag__in=flags).values("claim_id")
    )
    events = (
        FlagEvent.objects.filter(flag__in=flags)
        .select_related("flag", "actor")
        .order_by("at", "pk")
    )
    claim_rows = list(exports.claim_export_rows(claims, user))
    grades = claims.order_by("as_of", "pk").values_list("attributed_to__reliability", "credibility")
    claim_table = [["grade", *claim_rows[0]]] + [
        [f"{reliability}{credibility}", *row]
        for (reliability, credibility), row in zip(grades, claim_rows[1:], strict=True)
    ]
    flag_rows = list(exports.flag_export_rows(flags, user))
    timeline = sorted(
        [(row[claim_rows[0].index("as_of")], "claim", row) for row in claim_rows[1:]]
        + [(e.at.date().isoformat(), "flag", e) for e in events],
        key=lambda item: item[0],
    )
    stamp = timezone.now()
    html = render_to_string(
        "tracker/dossier.html",
        {
            "country": country,
            "obligation": obligation,
            "claims": claim_table,
            "flags": flag_rows,
            "timeline": timeline,
            "made_at": stamp,
            "redacted": not show,
        },
    )
    files = {
        "claims.csv": exports.as_csv(claim_rows),
        "flags.csv": exports.as_csv(flag_rows),
        "dossier.html": html.encode(),
    }
    manifest = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("MANIFEST.sha256", manifest)
    name = f"dossier-{country.iso_code}-{obligation.code}-{stamp:%Y%m%d-%H%M}.zip"
    return name, buffer.getvalue()
