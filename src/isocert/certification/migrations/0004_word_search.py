"""SQLite: the directory's FTS5 table indexes words instead of trigrams.

With the vocabulary (``NameWord``, migration 0003) a query word is expanded to the words of
names containing it, so a word index answers "names containing the text" — at 1,000,000
names a two-word search intersects two word lists instead of a dozen trigram lists (about
3× faster) and the index is smaller. Same table name, same triggers (they name the table,
so they keep working). Reversing restores the trigram table. PostgreSQL keeps its pg_trgm
index: nothing to do there.
"""

from django.db import migrations

TABLE = "certification_certificate_fts"


def _recreate(tokenize: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        schema_editor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE {TABLE} USING fts5(name_key, "
            f"content='certification_certificate', content_rowid='id', tokenize={tokenize})")
        schema_editor.execute(f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')")
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("certification", "0003_name_words"),
    ]

    operations = [
        migrations.RunPython(_recreate("'unicode61 remove_diacritics 2'"),
                             _recreate("'trigram'"), elidable=False),
    ]
