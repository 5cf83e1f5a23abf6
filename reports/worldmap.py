"""A world map of one obligation's statuses, as inline SVG, drawn offline.

The country outlines are those that ship with ``pygal_maps_world`` (its ``worldmap.svg``,
one ``<g class="cn country map-element">`` per area, keyed by ISO 3166-1 alpha-2 in lower
case): no tile server, no network. We draw the SVG ourselves rather than through pygal's
chart, whose output carries an inline script that the site's Content-Security-Policy refuses;
here each area is a link to its country's page with a ``<title>`` (the browser's tooltip) in
the reader's language, coloured by a CSS class (``map-<status>``, reports' pages.css), so
the page's legend and the map share one palette. Decisions: docs/design.md §7 (decision on
the dashboard's map).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from babel import Locale
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .templatetags.compliance import status_label

# Areas of the geometry that are not member states but territories a member state answers
# for: drawn in that state's colour (the resolutions bind a state in all its territory, and
# the place tree files evidence about Hong Kong inside China), named with it.
SOVEREIGN = {
    "gf": "fr",
    "re": "fr",
    "yt": "fr",
    "gl": "dk",
    "gu": "us",
    "pr": "us",
    "hk": "cn",
    "mo": "cn",
    "sh": "gb",
}
AREA = re.compile(r'<g class="([a-z]{2}) country map-element">(.*?)</g>', re.DOTALL)
# Antarctica left out (no state answers for it) and the viewBox cut above where it was.
LEFT_OUT = {"aq"}
VIEWBOX = "0 0 2475 1190"
PATH_DATA = re.compile(r'<path d="([^"]*)"')
COMMAND = re.compile(r"([MmLlHhVvCcSsQqTtZz])([^MmLlHhVvCcSsQqTtZzAa]*)")
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
# Numbers each command takes, of which the last two are the point it ends on (h and v: one).
ARITY = {"m": 2, "l": 2, "t": 2, "c": 6, "s": 4, "q": 4, "h": 1, "v": 1}


@functools.cache
def geometry() -> tuple[tuple[str, str], ...]:
    """(iso code in lower case, the area's ``<path>`` elements), read once per process and
    simplified (``_outline``): the page carries the map inline."""
    svg = (resources.files("pygal_maps_world") / "worldmap.svg").read_text(encoding="utf-8")
    return tuple(
        (code, "".join(f'<path d="{_outline(d)}"/>' for d in PATH_DATA.findall(paths)))
        for code, paths in AREA.findall(svg)
        if code not in LEFT_OUT
    )


def _outline(data: str) -> str:
    """A path's outline as a polygon through the ends of its segments, on whole units of the
    viewBox (2,475 wide: a unit is under half a pixel wherever the page draws the map), in
    relative moves. Curves this short look the same as straight lines at that size, and the
    map weighs a quarter of the package's."""
    x = y = start_x = start_y = 0.0
    points: list[tuple[int, int]] = []
    out: list[str] = []

    def flush() -> None:
        if len(points) > 2:
            moves = [f"M{points[0][0]} {points[0][1]}"]
            moves += [f"l{b[0] - a[0]} {b[1] - a[1]}" for a, b in itertools.pairwise(points)]
            out.append("".join(moves) + "z")
        points.clear()

    for command, args in COMMAND.findall(data):
        numbers = [float(n) for n in NUMBER.findall(args)]
        lower = command.lower()
        if lower == "z":
            x, y = start_x, start_y
            flush()
            continue
        relative = command.islower()
        arity = ARITY[lower]
        for i in range(0, len(numbers) - arity + 1, arity):
            group = numbers[i : i + arity]
            if lower == "h":
                x = x + group[0] if relative else group[0]
            elif lower == "v":
                y = y + group[0] if relative else group[0]
            else:
                x, y = (x + group[-2], y + group[-1]) if relative else (group[-2], group[-1])
            if lower == "m" and i == 0:
                flush()
                start_x, start_y = x, y
            point = (round(x), round(y))
            if not points or points[-1] != point:
                points.append(point)
    flush()
    return "".join(out)


def drawn_codes() -> set[str]:
    """The ISO codes (upper case) of the member states the map can draw."""
    return {code.upper() for code, _paths in geometry() if code not in SOVEREIGN}


@dataclass(frozen=True)
class Area:
    """What the map says of one member state: its status, and the name and reason its
    tooltip gives."""

    status: str
    name: str
    reason: str
    url: str


def world_map(areas: Mapping[str, Area], *, label: str) -> SafeString:
    """The SVG of every area of the geometry, each member state in ``areas`` (by upper-case
    ISO code) coloured by its status and linked to its page, the territories in their
    sovereign's colour, the rest grey ("not a member state")."""
    names = _territory_names()
    parts = [
        f'<svg class="worldmap" viewBox="{VIEWBOX}" role="group" aria-label="{escape(label)}"'
        ' xmlns="http://www.w3.org/2000/svg">'
        # The hatching of the areas no member state answers for (pages.css: .map-none).
        '<defs><pattern id="not-member" width="8" height="8" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(45)"><rect width="8" height="8" fill="#fff"/>'
        '<rect width="3" height="8" fill="#bbb"/></pattern></defs>'
    ]
    for code, paths in geometry():
        iso = SOVEREIGN.get(code, code).upper()
        area = areas.get(iso)
        if area is None:
            title = _("%(name)s: not a UN member state") % {"name": names.get(code.upper(), code)}
            parts.append(f'<g class="map-none"><title>{escape(title)}</title>{paths}</g>')
            continue
        name = area.name
        if code in SOVEREIGN:
            name = _("%(territory)s (%(state)s)") % {
                "territory": names.get(code.upper(), code),
                "state": area.name,
            }
        title = f"{name}: {status_label(area.status)} \N{EM DASH} {area.reason}"
        parts.append(
            f'<a href="{escape(area.url)}"><g class="map-{area.status}">'
            f"<title>{escape(title)}</title>{paths}</g></a>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - built from the package's geometry, escaped


def _territory_names() -> dict[str, str]:
    """CLDR's names of the areas in the reader's language (babel)."""
    language = (get_language() or "en").split("-")[0]
    return _cldr_names(language)


@functools.cache
def _cldr_names(language: str) -> dict[str, str]:
    try:
        return dict(Locale.parse(language).territories)
    except (ValueError, LookupError):
        return dict(Locale("en").territories)


def country_url(iso: str) -> str:
    return reverse("country", args=[iso])
