"""SQLite: put back the certificate table's search triggers.

SQLite cannot add a NOT NULL column in place, so migration 0008 rebuilt
``certification_certificate`` (copy, drop, rename) and the drop took the table's triggers
with it: the word index (0002) and the vocabulary (0003) stopped following new and renamed
certificates. Rows are copied with their ids, so the indexes themselves are still right.
A later migration that rebuilds this table must end the same way. PostgreSQL alters the
table in place and keeps its triggers: nothing to do there.
"""

from importlib import import_module

from django.db import migrations

_MODULES = ("0002_search_index", "0003_name_words")


def _restore_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for name in _MODULES:
        module = import_module(f"isocert.certification.migrations.{name}")
        for statement in module.SQLITE_FORWARD:
            if statement.lstrip().startswith("CREATE TRIGGER"):
                schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("certification", "0008_sites_and_suspension_end"),
    ]

    operations = [
        migrations.RunPython(_restore_triggers, migrations.RunPython.noop, elidable=False),
    ]
