"""SQLite drops a table's triggers when a migration rebuilds the table: the certificate
table's search triggers must exist after every migration (0009 put them back once)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

TRIGGERS = {"certification_certificate_fts_ai", "certification_certificate_fts_ad",
            "certification_certificate_fts_au", "certification_nameword_ai",
            "certification_nameword_au"}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's word index triggers")
def test_the_certificate_table_keeps_its_search_triggers():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                       "AND tbl_name = 'certification_certificate'")
        assert {row[0] for row in cursor.fetchall()} >= TRIGGERS
