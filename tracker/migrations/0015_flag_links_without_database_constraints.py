"""Cheaper first sweeps on PostgreSQL: no foreign-key constraints on a flag's links and events.

A first sweep writes a link per claim each new flag rests on and an "opened" event per flag,
and PostgreSQL checked three keys per flag at commit (the link's flag and claim, the event's
flag), one trigger and one row lock each. At 1M disputed claims (654,768 new flags, 1.3M
links) the first sweep took 45.5-46.9 s with them and 34.6-34.9 s without.

The rows still point at claims and flags that exist: Django deletes them with their claim or
flag (``on_delete`` is unchanged), and such a deletion waits for the checks writing links
(``services.links_lock``, taken by ``signals.wait_for_writers_of_links``). The indexes stay.
"""

import django.db.models.deletion
from django.db import migrations, models


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
    ]
