"""The directory's vocabulary: every word of the certified organizations' names.

``NameWord`` is kept complete by the database itself, on both databases:

* SQLite — triggers after an insert and after an update of ``name_key`` split the name on
  spaces with ``json_each`` (the name quoted as a JSON array; a name that would not make
  valid JSON, e.g. with control characters, adds no words) and ``INSERT OR IGNORE`` them.
  The bulk importer sets the insert trigger aside and adds a whole file's words in one
  statement (``registry.bulk``).
* PostgreSQL — a statement-level trigger after inserts (``REFERENCING NEW TABLE``: one
  statement per ``COPY`` batch, not per row) and a row trigger after a change of
  ``name_key`` split with ``regexp_split_to_table``; ``ON CONFLICT DO NOTHING``.

The names already registered are split once here.
"""

from django.db import migrations, models

SQLITE_ARRAY = ("'[\"' || replace(replace(replace({name}, '\\', '\\\\'), '\"', '\\\"'), "
                "' ', '\",\"') || '\"]'")


def sqlite_split(name: str) -> str:
    """``json_each`` over the words of the name expression ``name`` (column ``value``)."""
    array = SQLITE_ARRAY.format(name=name)
    return f"json_each(CASE WHEN json_valid({array}) THEN {array} ELSE '[]' END)"


SQLITE_FORWARD = [
    f"""CREATE TRIGGER IF NOT EXISTS certification_nameword_ai
        AFTER INSERT ON certification_certificate BEGIN
            INSERT OR IGNORE INTO certification_nameword(word)
                SELECT value FROM {sqlite_split("new.name_key")} WHERE value <> '';
        END""",
    f"""CREATE TRIGGER IF NOT EXISTS certification_nameword_au
        AFTER UPDATE OF name_key ON certification_certificate BEGIN
            INSERT OR IGNORE INTO certification_nameword(word)
                SELECT value FROM {sqlite_split("new.name_key")} WHERE value <> '';
        END""",
    "INSERT OR IGNORE INTO certification_nameword(word) SELECT DISTINCT w.value "
    f"FROM certification_certificate c, {sqlite_split('c.name_key')} w WHERE w.value <> ''",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS certification_nameword_au",
    "DROP TRIGGER IF EXISTS certification_nameword_ai",
]
POSTGRES_WORDS = (
    "SELECT DISTINCT w FROM {rows}, regexp_split_to_table({rows}.name_key, ' ') AS w "
    "WHERE w <> '' AND length(w) <= 200")
POSTGRES_FORWARD = [
    f"""CREATE OR REPLACE FUNCTION certification_nameword_add_rows() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO certification_nameword(word) {POSTGRES_WORDS.format(rows="new_rows")}
                ON CONFLICT (word) DO NOTHING;
            RETURN NULL;
        END $$""",
    """CREATE OR REPLACE FUNCTION certification_nameword_add_row() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO certification_nameword(word)
                SELECT DISTINCT w FROM regexp_split_to_table(NEW.name_key, ' ') AS w
                WHERE w <> '' AND length(w) <= 200
                ON CONFLICT (word) DO NOTHING;
            RETURN NULL;
        END $$""",
    """CREATE TRIGGER certification_nameword_ai AFTER INSERT ON certification_certificate
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
        EXECUTE FUNCTION certification_nameword_add_rows()""",
    """CREATE TRIGGER certification_nameword_au AFTER UPDATE OF name_key
        ON certification_certificate FOR EACH ROW
        WHEN (OLD.name_key IS DISTINCT FROM NEW.name_key)
        EXECUTE FUNCTION certification_nameword_add_row()""",
    f"INSERT INTO certification_nameword(word) "
    f"{POSTGRES_WORDS.format(rows='certification_certificate')} ON CONFLICT (word) DO NOTHING",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS certification_nameword_au ON certification_certificate",
    "DROP TRIGGER IF EXISTS certification_nameword_ai ON certification_certificate",
    "DROP FUNCTION IF EXISTS certification_nameword_add_row()",
    "DROP FUNCTION IF EXISTS certification_nameword_add_rows()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("certification", "0002_search_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="NameWord",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                           serialize=False, verbose_name="ID")),
                ("word", models.CharField(max_length=200, unique=True)),
            ],
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
            elidable=False,
        ),
    ]
