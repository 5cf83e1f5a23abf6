"""The summaries' schedule (editable in the admin: Periodic tasks) and who may read them.

- ``reports.dispatch_summaries`` every hour at :05 UTC: creates each subscription's summary
  for its last complete period (once: a unique constraint) and enqueues its sending.
Editors manage subscriptions and read every summary; Viewers read every summary. Recipients
read the summaries sent to them whatever their group.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

DISPATCH = "Dispatch due summaries (hourly)"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    hourly, _ = CrontabSchedule.objects.get_or_create(
        minute="5", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.get_or_create(
        name=DISPATCH,
        defaults={
            "task": "reports.dispatch_summaries",
            "crontab": hourly,
            "description": "Builds, stores and sends each subscription's summary once per period.",
        },
    )

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def perms(*codenames):
        return Permission.objects.filter(content_type__app_label="reports", codename__in=codenames)

    Group.objects.get(name="Editors").permissions.add(
        *perms(
            "view_summary",
            "change_summary",
            "view_subscription",
            "add_subscription",
            "change_subscription",
            "delete_subscription",
        )
    )
    Group.objects.get(name="Viewers").permissions.add(*perms("view_summary", "view_subscription"))


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=DISPATCH).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_subscriptions_and_summaries"),
        ("tracker", "0005_schedules_and_flag_permissions"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
