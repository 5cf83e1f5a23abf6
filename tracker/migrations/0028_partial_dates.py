from django.db import migrations, models


class Migration(migrations.Migration):
    """A claim's dates keep their precision (docs/design.md §7 decision 18): every date stored
    so far was a day, which the defaults say."""

    dependencies = [("tracker", "0027_flag_names_in_korean")]

    operations = (
        [
            migrations.AddField(
                model_name=model,
                name=name,
                field=models.CharField(
                    choices=[("day", "day"), ("month", "month"), ("year", "year")],
                    default="day",
                    db_default="day",
                    max_length=5,
                    verbose_name=verbose,
                ),
            )
            for model in ("claim", "historicalclaim")
            for name, verbose in (
                ("period_start_precision", "period start precision"),
                ("as_of_precision", "as-of precision"),
            )
        ]
        + [
            migrations.AlterField(
                model_name=model,
                name="as_of",
                field=models.DateField(
                    help_text="The date the claim describes, not the publication date: a day, a "
                    "month or a year (2019-12-23, 2017-09, 2022).",
                    verbose_name="as of",
                ),
            )
            for model in ("claim", "historicalclaim")
        ]
        + [
            migrations.AlterField(
                model_name=model,
                name="period_start",
                field=models.DateField(
                    blank=True,
                    help_text="For flows (new permits, entries ...): start of the period: a day, a "
                    "month or a year.",
                    null=True,
                    verbose_name="period start",
                ),
            )
            for model in ("claim", "historicalclaim")
        ]
    )
