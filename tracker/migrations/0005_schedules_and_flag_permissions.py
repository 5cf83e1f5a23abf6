"""The check schedules (editable in the admin: Periodic tasks) and who may handle flags.

- ``tracker.run_sweep`` nightly at 02:30 UTC: the full sweep, one task per country.
- ``tracker.dispatch_pending_checks`` every minute: re-enqueues checks requested while the
  broker was unreachable.
Editors may acknowledge, dismiss and re-open flags (change_flag); Viewers only see them.
Nobody adds or deletes flags by hand: the checks own them.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SWEEP = "Full check sweep (nightly)"
PENDING = "Dispatch pending checks"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    nightly, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="2", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=SWEEP,
        defaults={
            "task": "tracker.run_sweep",
            "crontab": nightly,
            "description": "Checks every country and the world-level places for stale and "
            "contradictory evidence (DESIGN.md section 3).",
        },
    )
    PeriodicTask.objects.get_or_create(
        name=PENDING,
        defaults={
            "task": "tracker.dispatch_pending_checks",
            "interval": every_minute,
            "description": "Enqueues checks requested when the broker could not be reached.",
        },
    )

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view, change = (
        Permission.objects.get(content_type__app_label="tracker", codename=f"{action}_flag")
        for action in ("view", "change")
    )
    Group.objects.get(name="Editors").permissions.add(view, change)
    Group.objects.get(name="Viewers").permissions.add(view)


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[SWEEP, PENDING]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0004_flags"),
        ("tracker", "0003_groups"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
