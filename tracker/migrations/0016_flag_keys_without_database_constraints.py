"""Cheaper first sweeps on PostgreSQL: no foreign-key constraints on a flag's obligation, place
and country.

PostgreSQL checked the three keys of every new flag at commit, one trigger and one row lock
each: committing the 79,518 flags of a first 1M consistent sweep took 1.0-1.6 s with them and
0.11 s without (in psql, on a copy of the bench database).

Flags still point at places and obligations that exist: ``on_delete`` is still PROTECT, and a
deletion of a place or obligation waits for the checks writing flags (``services.links_lock``),
then fails as Django's PROTECT would if one of them wrote a flag about it meanwhile
(``signals.protect_by_flags_written_meanwhile``). Migrating back first deletes any flag whose
obligation, place or country is gone (raw SQL could have left one), or the constraints could
not be added again.
"""

import django.db.models.deletion
from django.db import migrations, models


def delete_dangling(apps, schema_editor):
    Flag, Place = apps.get_model("tracker", "Flag"), apps.get_model("tracker", "Place")
    Obligation = apps.get_model("tracker", "Obligation")
    places = Place.objects.values("id")
    Flag.objects.exclude(place_id__in=places).delete()
    Flag.objects.filter(country__isnull=False).exclude(country_id__in=places).delete()
    Flag.objects.filter(obligation__isnull=False).exclude(
        obligation_id__in=Obligation.objects.values("id")
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("tracker", "0015_flag_links_without_database_constraints")]

    operations = [
        migrations.AlterField(
            model_name="flag",
            name="country",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                help_text="The country whose check found it; empty for world-level findings.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tracker.place",
            ),
        ),
        migrations.AlterField(
            model_name="flag",
            name="obligation",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="flags",
                to="tracker.obligation",
            ),
        ),
        migrations.AlterField(
            model_name="flag",
            name="place",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="flags",
                to="tracker.place",
            ),
        ),
        # Last, so that migrating back runs it before the constraints return.
        migrations.RunPython(migrations.RunPython.noop, delete_dangling),
    ]
