"""Typo-tolerant search of the public directory by organization name.

One migration, two databases:

* PostgreSQL — the ``pg_trgm`` extension and a GIN trigram index on ``name_key``, used by
  ``word_similarity`` (``%>``) and ``LIKE '%...%'`` alike.
* SQLite — an FTS5 table with the ``trigram`` tokenizer over ``name_key`` (external content:
  it stores only the index, reading names from ``certification_certificate``), kept in step
  by triggers on insert, delete and updates of ``name_key``.

Other databases get no index; the directory then falls back to substring search.
Reversing drops the index, table and triggers. The ``pg_trgm`` extension stays: other
objects may use it and dropping it needs superuser rights that the app may not have.
"""

from django.db import migrations

SQLITE_FORWARD = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS certification_certificate_fts USING fts5(
        name_key, content='certification_certificate', content_rowid='id',
        tokenize='trigram')""",
    """CREATE TRIGGER IF NOT EXISTS certification_certificate_fts_ai
        AFTER INSERT ON certification_certificate BEGIN
            INSERT INTO certification_certificate_fts(rowid, name_key) VALUES (new.id, new.name_key);
        END""",
    """CREATE TRIGGER IF NOT EXISTS certification_certificate_fts_ad
        AFTER DELETE ON certification_certificate BEGIN
            INSERT INTO certification_certificate_fts(certification_certificate_fts, rowid, name_key)
                VALUES ('delete', old.id, old.name_key);
        END""",
    """CREATE TRIGGER IF NOT EXISTS certification_certificate_fts_au
        AFTER UPDATE OF name_key ON certification_certificate BEGIN
            INSERT INTO certification_certificate_fts(certification_certificate_fts, rowid, name_key)
                VALUES ('delete', old.id, old.name_key);
            INSERT INTO certification_certificate_fts(rowid, name_key) VALUES (new.id, new.name_key);
        END""",
    # Rows that existed before this migration.
    "INSERT INTO certification_certificate_fts(certification_certificate_fts) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS certification_certificate_fts_au",
    "DROP TRIGGER IF EXISTS certification_certificate_fts_ad",
    "DROP TRIGGER IF EXISTS certification_certificate_fts_ai",
    "DROP TABLE IF EXISTS certification_certificate_fts",
]
POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS cert_name_key_trgm ON certification_certificate "
    "USING gin (name_key gin_trgm_ops)",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS cert_name_key_trgm"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("certification", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
            elidable=False,
        ),
    ]
