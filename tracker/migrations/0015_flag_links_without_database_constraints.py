"""Cheaper first sweeps on PostgreSQL: no foreign-key constraints on a flag's links and events.

A first sweep writes a link per claim each new flag rests on and an "opened" event per flag,
and PostgreSQL checked three keys per flag at commit (the link's flag and claim, the event's
flag), one trigger and one row lock each. At 1M disputed claims (654,768 new flags, 1.3M
links) the first sweep took 45.5-46.9 s with them and 34.6-34.9 s without.

The rows still point at claims and flags that exist: Django deletes them with their claim or
flag (``on_delete`` is unchanged), and such a deletion waits for the checks writing links
(``services.links_lock``, taken by ``signals.wait_for_writers_of_links``). The indexes stay.
Migrating back first deletes any link or event whose claim or flag is gone (raw SQL could
have left one), or the constraints could not be added again.
"""

import django.db.models.deletion
from django.db import migrations, models


def delete_dangling(apps, schema_editor):
    Flag, Claim = apps.get_model("tracker", "Flag"), apps.get_model("tracker", "Claim")
    FlagEvent = apps.get_model("tracker", "FlagEvent")
    links = Flag.claims.through.objects
    links.exclude(claim_id__in=Claim.objects.values("id")).delete()
    links.exclude(flag_id__in=Flag.objects.values("id")).delete()
    FlagEvent.objects.exclude(flag_id__in=Flag.objects.values("id")).delete()


class Migration(migrations.Migration):
    dependencies = [("tracker", "0014_flag_fingerprint_constraint_and_fillfactor")]

    operations = [
        migrations.AlterField(
            model_name="flag",
            name="claims",
            field=models.ManyToManyField(
                blank=True, db_constraint=False, related_name="flags", to="tracker.claim"
            ),
        ),
        migrations.AlterField(
            model_name="flagevent",
            name="flag",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="tracker.flag",
            ),
        ),
        # Last, so that migrating back runs it before the constraints return.
        migrations.RunPython(migrations.RunPython.noop, delete_dangling),
    ]
