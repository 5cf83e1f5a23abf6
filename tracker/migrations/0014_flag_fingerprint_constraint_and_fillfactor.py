"""Cheaper flag writes on PostgreSQL, for a sweep that finds tens of thousands of flags.

1. The fingerprint is unique by a constraint, not ``unique=True``: the field's unique flag
   also made a ``varchar_pattern_ops`` index (for LIKE), which no query uses and every new flag
   wrote. Inserting a first sweep's 79,518 flags at 1M claims: 2.7 s -> 2.0 s.
2. Half of each page of the flag table is left free (fillfactor 50, was 70 since 0008): a
   sweep refreshes ``last_seen`` of every flag it finds again, and with half a page free each
   row's next version fits on its own page (an in-place "HOT" update: no index written, the
   previous sweep's versions pruned as the page is read). With 30% free, about a third of
   the updates moved to another page and wrote all eight indexes. Refreshing 79,518 flags:
   0.6-1.6 s -> 0.4 s, steady from sweep to sweep. A table written anew takes 40% more
   pages; one at 70% grew nearly as much through the rows that moved.

Existing pages keep their old fill until rewritten (VACUUM FULL); new ones get the new one.
"""

from django.db import migrations, models


def set_fillfactor(apps, schema_editor, value: int = 50):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE tracker_flag SET (fillfactor = {int(value)})")


def back_to_70(apps, schema_editor):
    set_fillfactor(apps, schema_editor, 70)


class Migration(migrations.Migration):
    dependencies = [("tracker", "0013_flag_place_kind_and_unpaired_indexes")]

    operations = [
        migrations.AddConstraint(
            model_name="flag",
            constraint=models.UniqueConstraint(
                fields=("fingerprint",), name="flag_fingerprint_unique"
            ),
        ),
        migrations.AlterField(
            model_name="flag",
            name="fingerprint",
            field=models.CharField(editable=False, max_length=64),
        ),
        migrations.RunPython(set_fillfactor, back_to_70),
    ]
