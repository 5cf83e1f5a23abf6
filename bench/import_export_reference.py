"""The reference of ``make bench-import``: the claims the import just added, imported again
through django-import-export (a plain ``ModelResource`` for ``Claim`` in its bulk mode).

Run by ``bench/imports.py`` in a child process on the benchmark's database, after its own
import. The claims whose external id starts with ``B-`` are exported through the resource
(untimed), their ids blanked so that every row is new, deleted, and imported back through
``import_data``; the import's wall time is printed as ``reference_seconds=<s>``.

The reference has the easier task: its rows name the report, source, place and obligation by
id, so it looks nothing up and creates no report or source; it does not validate the rows
(``clean_model_instances`` is off by default), and its bulk mode writes no history."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import checks as common


def main() -> None:
    common.setup_django()
    from django.db import transaction
    from import_export import resources

    from tracker.models import Claim

    class ClaimResource(resources.ModelResource):
        class Meta:
            model = Claim
            use_bulk = True
            batch_size = 1000

    resource = ClaimResource()
    claims = Claim.objects.filter(external_id__startswith="B-")
    dataset = resource.export(claims.order_by("pk"))
    del dataset["id"]
    dataset.append_col([""] * len(dataset), header="id")
    with transaction.atomic():
        claims.delete()
    started = time.perf_counter()
    result = resource.import_data(dataset, dry_run=False, use_transactions=True)
    elapsed = time.perf_counter() - started
    if result.has_errors() or result.has_validation_errors():
        raise SystemExit(f"the reference import failed: {result.totals}")
    added = claims.count()
    if added != len(dataset):
        raise SystemExit(f"the reference import added {added} claims of {len(dataset)}")
    print(f"reference_seconds={elapsed:.3f}")


if __name__ == "__main__":
    main()
