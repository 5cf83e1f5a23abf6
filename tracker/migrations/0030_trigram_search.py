"""Trigram indexes for the claims' free-text search (``tracker.search``, issue 32), on
PostgreSQL only: the pg_trgm extension and GIN indexes on the texts a search reads in the
large tables (a claim's summary and reference, a report's title), on the expression Django's
``icontains`` compares (``UPPER(column::text) LIKE UPPER('%term%')``). The small tables
(places, sources, obligations) are read whole. On SQLite this migration does nothing (a search
scans there). Creating the extension needs a role allowed to (PostgreSQL 13+: the database's
owner, pg_trgm being a trusted extension); building the indexes locks the two tables against
writes for their duration (about a minute at a million claims)."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = [
    ("claim_summary_trgm", "tracker_claim", "summary"),
    ("claim_external_id_trgm", "tracker_claim", "external_id"),
    ("report_title_trgm", "tracker_report", "title"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0029_claim_partial_as_of_index"),
    ]

    operations = [
        TrigramExtension(),  # does nothing but on PostgreSQL
        migrations.RunPython(create, drop),
    ]
