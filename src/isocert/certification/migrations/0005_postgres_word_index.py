"""PostgreSQL: the directory searches a GIN index of the names' words, not trigrams.

Like SQLite's FTS5 word table (0004), with the vocabulary (0003) a query word is expanded
to the words of names containing it; a GIN index over ``to_tsvector('simple', name_key)``
then intersects one posting list per query word. At 1,000,000 names a two-word search
took 6 ms instead of 18–30 ms through the trigram index, which is dropped (the
``pg_trgm`` extension stays: dropping it needs rights the app may not have). Reversing
restores the trigram index. SQLite: nothing to do.
"""

from django.db import migrations

WORDS = ("CREATE INDEX IF NOT EXISTS cert_name_words ON certification_certificate "
         "USING gin (to_tsvector('simple', name_key))")
TRIGRAMS = ("CREATE INDEX IF NOT EXISTS cert_name_key_trgm ON certification_certificate "
            "USING gin (name_key gin_trgm_ops)")


def _run(*statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("certification", "0004_word_search"),
    ]

    operations = [
        migrations.RunPython(
            _run(WORDS, "DROP INDEX IF EXISTS cert_name_key_trgm"),
            _run(TRIGRAMS, "DROP INDEX IF EXISTS cert_name_words"),
            elidable=False,
        ),
    ]
