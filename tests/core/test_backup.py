"""``isocert backup DIR`` and ``isocert restore DIR``: the round trip on the active database.

The backup runs in this process against the test database (committed data: a
transactional test, so SQLite's online backup and pg_dump see it); the restore runs as a
separate ``isocert`` process into a new, empty installation — another SQLite file or
another PostgreSQL database, another media directory and no signing key — as an operator
would run it on a new server.
"""

import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from factories import pdf_upload

from isocert.core import keys
from isocert.core.audit import record_event
from isocert.core.models import AuditEvent, StoredFile
from isocert.registration.services import add_application_document

PASSPHRASE = "correct horse battery staple"


def _new_key_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())


@pytest.fixture
def signing_key_file(settings, tmp_path):
    settings.CERTIFICATE_SIGNING_KEY = ""
    settings.CERTIFICATE_SIGNING_KEY_FILE = tmp_path / "signing-key.pem"
    settings.CERTIFICATE_SIGNING_KEY_FILE.write_bytes(_new_key_pem())
    keys.forget_cached_keys()
    yield settings.CERTIFICATE_SIGNING_KEY_FILE
    keys.forget_cached_keys()


@pytest.fixture
def passphrase_file(tmp_path):
    path = tmp_path / "passphrase"
    path.write_text(PASSPHRASE + "\n")
    return path


@pytest.fixture
def installation(draft, alice, signing_key_file):
    """Committed data: Alice's draft with a document (a stored file), audit-trailed."""
    add_application_document(application=draft, actor=alice, upload=pdf_upload(),
                             kind="manual")
    return draft


@pytest.fixture
def empty_database():
    """A new, empty database of the active engine; its DATABASE_URL."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        path = Path(db["NAME"]).with_name("restore-target.sqlite3")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        yield f"sqlite:///{path}"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = f"{db['NAME']}_restore"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    yield f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _query(database_url: str, sql: str):
    if database_url.startswith("sqlite:///"):
        db = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()
    with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1)) as db:
        return db.execute(sql).fetchall()


def _restore(directory, passphrase_file, database_url, root: Path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE",
                        "CERTIFICATE_SIGNING_KEY")}
    # DEBUG on: collectstatic copies instead of compressing ~900 files (WhiteNoise's
    # production storage takes a minute or more here; tests/core/test_static_files.py
    # covers it).
    env.update(DATABASE_URL=database_url, ISOCERT_VAR_DIR=str(root), DEBUG="1",
               MEDIA_ROOT=str(root / "media"), STATIC_ROOT=str(root / "static"),
               CERTIFICATE_SIGNING_KEY_FILE=str(root / "signing-key.pem"),
               SECRET_KEY="restore-test-" + "k" * 50, SITE_URL="http://127.0.0.1:8000")
    return subprocess.run([sys.executable, "-m", "isocert", "restore", str(directory),
                           "--passphrase-file", str(passphrase_file)],
                          env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_an_empty_installation(installation, signing_key_file,
                                                      passphrase_file, empty_database,
                                                      tmp_path, settings):
    backup = tmp_path / "backup"
    stored = StoredFile.objects.get()
    events = AuditEvent.objects.count()

    call_command("backup", str(backup), passphrase_file=str(passphrase_file), verbosity=0)

    manifest = json.loads((backup / "manifest.json").read_text())
    database_file = "database.sqlite3" if connection.vendor == "sqlite" else "database.pgdump"
    assert manifest["database"] == {"engine": connection.vendor, "file": database_file}
    assert manifest["audit_trail_head"]["sequence"] == events
    assert manifest["files"][f"media/{stored.storage_name}"]["sha256"] == stored.sha256
    assert set(manifest["files"]) == {"head.json", database_file, "signing-key.enc",
                                      f"media/{stored.storage_name}"}
    assert backup.stat().st_mode & 0o777 == 0o700  # clients' data: the owner only
    # The key is in the backup only encrypted.
    assert b"PRIVATE KEY" not in (backup / "signing-key.enc").read_bytes()

    target = tmp_path / "new-server"
    result = _restore(backup, passphrase_file, empty_database, target)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Audit trail intact: {events} events verified" in result.stdout
    assert "1 stored files match their SHA-256" in result.stdout
    assert _query(empty_database, "SELECT count(*) FROM core_auditevent") == [(events,)]
    assert _query(empty_database, "SELECT sha256 FROM core_storedfile") == [(stored.sha256,)]
    assert (target / "media" / stored.storage_name).read_bytes() == pdf_upload().read()
    assert (target / "signing-key.pem").read_bytes() == signing_key_file.read_bytes()
    assert (target / "static" / "isocert" / "portal.css").exists()  # collectstatic ran
    # The restore only read the backup (a SQLite copy left in WAL mode would grow -shm files).
    assert sorted(str(p.relative_to(backup)) for p in backup.rglob("*") if p.is_file()) == \
        sorted([*manifest["files"], "manifest.json"])

    # A second restore into the now used installation is refused, and changes nothing.
    again = _restore(backup, passphrase_file, empty_database, target)

    assert again.returncode != 0
    assert "This installation is not empty" in again.stderr
    assert _query(empty_database, "SELECT count(*) FROM core_auditevent") == [(events,)]


@pytest.mark.django_db(transaction=True)
def test_a_restore_checks_passphrase_and_files_before_writing(installation, passphrase_file,
                                                              tmp_path):
    backup = tmp_path / "backup"
    call_command("backup", str(backup), passphrase_file=str(passphrase_file), verbosity=0)
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase")

    # Both are found before the installation is even looked at (this one is not empty).
    with pytest.raises(CommandError, match="passphrase does not open the signing key"):
        call_command("restore", str(backup), passphrase_file=str(wrong))
    media = next(name for name in json.loads((backup / "manifest.json").read_text())["files"]
                 if name.startswith("media/"))
    (backup / media).write_bytes(b"%PDF-1.4 altered")
    with pytest.raises(CommandError, match=f"{media} does not match its SHA-256"):
        call_command("restore", str(backup), passphrase_file=str(passphrase_file))


@pytest.mark.django_db(transaction=True)
def test_a_restore_into_a_used_installation_is_refused(installation, passphrase_file,
                                                       tmp_path):
    backup = tmp_path / "backup"
    call_command("backup", str(backup), passphrase_file=str(passphrase_file), verbosity=0)
    events = AuditEvent.objects.count()

    with pytest.raises(CommandError, match="Nothing restored: This installation is not empty: "
                                           "the database already has"):
        call_command("restore", str(backup), passphrase_file=str(passphrase_file))
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db(transaction=True)
def test_a_backup_needs_a_passphrase_and_a_new_directory(installation, passphrase_file,
                                                         tmp_path, monkeypatch):
    monkeypatch.delenv("ISOCERT_BACKUP_PASSPHRASE", raising=False)
    with pytest.raises(CommandError, match="No passphrase"):
        call_command("backup", str(tmp_path / "a"))
    used = tmp_path / "used"
    used.mkdir()
    (used / "old").write_text("x")
    with pytest.raises(CommandError, match="is not empty"):
        call_command("backup", str(used), passphrase_file=str(passphrase_file))
    assert not (tmp_path / "a").exists()
    assert [p.name for p in used.iterdir()] == ["old"]


@pytest.mark.django_db(transaction=True)
def test_a_sqlite_backup_is_consistent_while_the_portal_writes(installation, passphrase_file,
                                                               tmp_path):
    """Events keep being written (each with its chain head, in one transaction) while the
    backup runs: the copy holds a whole number of them, its head matching its last event —
    the online backup API copies one state, where copying the live file (and not its WAL)
    loses committed transactions."""
    if connection.vendor != "sqlite":
        pytest.skip("pg_dump takes one snapshot; this checks SQLite's online backup")
    stop, written = threading.Event(), []

    def write_events():
        try:
            while not stop.is_set():
                with transaction.atomic():
                    written.append(record_event(actor=None, action="test.backup.write").seq)
        finally:
            connection.close()  # the writer thread's own connection

    writer = threading.Thread(target=write_events)
    writer.start()
    try:
        while len(written) < 20:  # the writer is under way
            threading.Event().wait(0.01)
        call_command("backup", str(tmp_path / "backup"), passphrase_file=str(passphrase_file),
                     verbosity=0)
    finally:
        stop.set()
        writer.join()

    copy = sqlite3.connect(tmp_path / "backup" / "database.sqlite3")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        count, last = copy.execute("SELECT count(*), max(seq) FROM core_auditevent").fetchone()
        head = copy.execute("SELECT last_seq FROM core_auditchainhead").fetchone()[0]
    finally:
        copy.close()
    assert count == last == head
    assert head < AuditEvent.objects.count()  # the writer went on after the copy


@pytest.mark.django_db(transaction=True)
def test_a_restore_refuses_another_signing_key(installation, passphrase_file, tmp_path,
                                               settings, monkeypatch):
    backup = tmp_path / "backup"
    call_command("backup", str(backup), passphrase_file=str(passphrase_file), verbosity=0)
    # An otherwise empty installation whose operator already configured a different key.
    monkeypatch.setattr("isocert.core.backup.installation_problems", list)
    other = tmp_path / "other-key.pem"
    other.write_bytes(_new_key_pem())
    settings.CERTIFICATE_SIGNING_KEY_FILE = other
    keys.forget_cached_keys()

    with pytest.raises(CommandError, match="Nothing restored: The signing key file .* holds "
                                           "another key than the backup's"):
        call_command("restore", str(backup), passphrase_file=str(passphrase_file))
