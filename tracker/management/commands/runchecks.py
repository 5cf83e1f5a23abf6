import datetime
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from tracker import checks, selectors
from tracker.flags.render import FlagText
from tracker.models import Flag, Place


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--today {value!r} is not a date: write it as YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = (
        "Run the checks in this process (no broker needed) and write the flags. With --json, "
        "print every open or acknowledged flag of the checked partitions, one JSON object a "
        "line. Explanations name confidential sources only with --show-confidential."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--country", help="ISO 3166-1 alpha-2 code, or WORLD; default all")
        parser.add_argument("--today", type=_date, help="judge as if today were this date")
        parser.add_argument("--json", action="store_true", help="print the flags as JSON lines")
        parser.add_argument("--show-confidential", action="store_true")

    def handle(self, *args, country, today, json: bool, show_confidential: bool, **options):
        keys = None
        if country:
            key = country.strip().upper()
            if key not in selectors.partition_keys():
                raise CommandError(
                    f"--country {country!r} is not the ISO code of a UN member state, nor WORLD."
                )
            keys = [key]

        def progress(result: checks.PartitionOutcome) -> None:
            if not json and (result.found or result.resolved or result.error):
                self.stdout.write(_progress_line(result))

        outcome = checks.sweep(today=today, keys=keys, progress=progress)
        if json:
            with translation.override("en"):
                self._print_flags(keys, show_confidential)
        else:
            self.stdout.write(
                f"Checked {len(outcome.partitions)} partition(s) as of {outcome.today} "
                f"in {outcome.processes} process(es): "
                f"{outcome.total('claims')} claims, {outcome.total('found')} findings; "
                f"{outcome.total('opened')} flags opened, {outcome.total('reopened')} re-opened, "
                f"{outcome.total('resolved')} resolved."
            )
        if outcome.failed:
            raise CommandError(
                f"{len(outcome.failed)} partition(s) failed: "
                + "; ".join(f"{p.key}: {p.error}" for p in outcome.failed)
            )

    def _print_flags(self, keys: list[str] | None, show_confidential: bool) -> None:
        active = Flag.objects.active().select_related("place", "country")
        if keys is not None:
            if keys == [selectors.WORLD_KEY]:
                active = active.filter(country__isnull=True)
            else:
                active = active.filter(country__iso_code__in=keys)
        flags = list(
            active.order_by("country__iso_code", "kind", "place__name_path", "fingerprint")
        )
        said = FlagText(
            flags, sees=show_confidential, claim_ids=[pk for f in flags for pk in f.claim_ids]
        )
        for flag in flags:
            self.stdout.write(
                json.dumps(
                    {
                        "kind": flag.kind,
                        "obligations": [said.obligation(o) for o in said.obligations_of(flag)],
                        "place": _place_label(flag.place),
                        # The monitor's own reference, or the id (always, for a claim
                        # restricted from this reader: its reference may name who made it).
                        "claims": [_ref_or_id(said.ref(pk), pk) for pk in flag.claim_ids],
                        "status": flag.status,
                        "explanation": said.sentence(flag),
                    },
                    ensure_ascii=False,
                )
            )


def _ref_or_id(ref: str, pk: int) -> str | int:
    return pk if ref == f"#{pk}" else ref


def _place_label(place: Place) -> str:
    return place.iso_code if place.kind == Place.Kind.COUNTRY else place.name_path


def _progress_line(result: checks.PartitionOutcome) -> str:
    if result.error:
        return f"{result.key}: FAILED {result.error}"
    return (
        f"{result.key}: {result.claims} claims, {result.found} findings "
        f"(+{result.opened} opened, {result.reopened} re-opened, {result.resolved} resolved) "
        f"in {result.duration_ms} ms"
    )
