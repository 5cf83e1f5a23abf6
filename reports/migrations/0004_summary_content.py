"""Summaries become data (docs/design.md §4, §6 item 1; issue 28): their stored subject and
bodies, whose names could not follow confidentiality nor be read in Korean, go. A summary
stored before keeps the statuses it reported (the next one compares with them); its content
is rebuilt from the evidence when it is first read (``reports.summaries.content_of``).
Subscriptions get the language their plain addresses read."""

from django.db import migrations, models


def statuses_kept(apps, schema_editor):
    Summary = apps.get_model("reports", "Summary")
    for summary in Summary.objects.all().only("pk", "statuses"):
        Summary.objects.filter(pk=summary.pk).update(
            content={"previous_statuses": summary.statuses or {}}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_translatable_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="language",
            field=models.CharField(
                choices=[("en", "English"), ("ko", "한국어")],
                default="en",
                help_text="Users receive it in their own language; plain addresses in this one.",
                max_length=10,
                verbose_name="language of the plain addresses",
            ),
        ),
        migrations.AddField(
            model_name="summary",
            name="content",
            field=models.JSONField(default=dict, verbose_name="content"),
        ),
        migrations.RunPython(statuses_kept, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="summary",
            name="body_html",
        ),
        migrations.RemoveField(
            model_name="summary",
            name="body_text",
        ),
        migrations.RemoveField(
            model_name="summary",
            name="chart_png",
        ),
        migrations.RemoveField(
            model_name="summary",
            name="headline",
        ),
        migrations.RemoveField(
            model_name="summary",
            name="statuses",
        ),
        migrations.RemoveField(
            model_name="summary",
            name="subject",
        ),
    ]
