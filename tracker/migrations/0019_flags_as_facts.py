"""Flags become facts (docs/design.md §3.5, issue 28): a subject, a measure, the obligations
they bear on (a cap signal names every cap or ban), facts and a resolution as data; the
stored sentences, whose names could not follow confidentiality nor be read in Korean, go.

Existing flags keep their claims: their subject, measure and obligations are read off them;
their facts are left empty (the renderer says what a flag without facts can: its kind, place
and claims) until the next sweep finds their situation again and writes them; a resolved
flag's reason becomes ``{"code": "other"}``, and the checks' own event notes, which named
sources, are dropped. The next sweep joins pairs into situations (docs/design.md §3.3): a
situation keeps the flag sharing most of its claims, the others resolve as merged into it.
"""

import django.db.models.deletion
from django.db import migrations, models

CHECK_ACTIONS = ("opened", "reopened", "resolved")


def flags_to_facts(apps, schema_editor):
    Flag = apps.get_model("tracker", "Flag")
    FlagObligation = apps.get_model("tracker", "FlagObligation")
    FlagEvent = apps.get_model("tracker", "FlagEvent")
    Claim = apps.get_model("tracker", "Claim")
    links = []
    for flag in Flag.objects.order_by("pk").iterator(chunk_size=2000):
        claims = {
            c["pk"]: c
            for c in Claim.objects.filter(pk__in=flag.claim_ids).values("pk", "place_id", "measure")
        }
        measures = [c["measure"] for c in claims.values() if c["measure"]]
        measure = (
            measures[0]
            if flag.kind in ("count_conflict", "scope_conflict", "cap_signal") and measures
            else ""
        )
        if flag.kind in ("count_conflict", "cap_signal"):
            subject = f"{flag.place_id}/{measure}"
        elif flag.kind == "scope_conflict":
            whole = next(
                (c["place_id"] for c in claims.values() if c["place_id"] != flag.place_id), 0
            )
            subject = f"{flag.place_id}/{whole}/{measure}"
        else:
            subject = f"{flag.obligation_id}/{flag.place_id}"
        Flag.objects.filter(pk=flag.pk).update(
            subject=subject,
            measure=measure,
            facts={},
            resolution={"code": "other"} if flag.status == "resolved" else None,
        )
        if flag.obligation_id is not None:
            links.append(FlagObligation(flag_id=flag.pk, obligation_id=flag.obligation_id))
    FlagObligation.objects.bulk_create(links, batch_size=2000)
    FlagEvent.objects.filter(actor__isnull=True, action__in=CHECK_ACTIONS).update(note="")


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0018_report_publisher_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="FlagObligation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="flag",
            name="facts",
            field=models.JSONField(default=dict, editable=False),
        ),
        migrations.AddField(
            model_name="flag",
            name="measure",
            field=models.CharField(
                blank=True,
                choices=[
                    ("workers", "workers"),
                    ("work_permits", "work permits"),
                    ("new_work_permits", "new work permits"),
                    ("visas_issued", "visas issued"),
                    ("entries", "entries"),
                    ("repatriated", "repatriated"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="flag",
            name="resolution",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="flag",
            name="subject",
            field=models.CharField(default="", editable=False, max_length=100),
        ),
        migrations.AddField(
            model_name="flagevent",
            name="data",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name="flagevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("opened", "opened by the checks"),
                    ("reopened", "found again by the checks"),
                    ("changed", "changed by the checks"),
                    ("resolved", "resolved by the checks"),
                    ("acknowledged", "acknowledged"),
                    ("dismissed", "dismissed"),
                    ("reopened_by_user", "re-opened by a monitor"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="flagobligation",
            name="flag",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tracker.flag",
            ),
        ),
        migrations.AddField(
            model_name="flagobligation",
            name="obligation",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tracker.obligation",
            ),
        ),
        migrations.AddField(
            model_name="flag",
            name="obligations",
            field=models.ManyToManyField(
                blank=True,
                related_name="flags",
                through="tracker.FlagObligation",
                to="tracker.obligation",
            ),
        ),
        migrations.AlterUniqueTogether(
            name="flagobligation",
            unique_together={("flag", "obligation")},
        ),
        migrations.RunPython(flags_to_facts, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name="flag",
            name="flag_obligation_status",
        ),
        migrations.RemoveField(
            model_name="flag",
            name="explanation",
        ),
        migrations.RemoveField(
            model_name="flag",
            name="explanation_public",
        ),
        migrations.RemoveField(
            model_name="flag",
            name="obligation",
        ),
        migrations.RemoveField(
            model_name="flag",
            name="resolved_reason",
        ),
    ]
