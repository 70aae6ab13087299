"""A consistent backup of one installation, and its restore into an empty one.

A backup directory holds:

- ``head.json`` — the audit trail's head signed with the CB's key (``core.audit``), taken
  before the database: the database copy holds it, and the restore checks it does
  (``verify-audit-trail --head``);
- ``database.sqlite3`` — SQLite through its online backup API (``sqlite3.Connection.backup``:
  a consistent copy while the portal writes; copying a live file is not), or
  ``database.pgdump`` — PostgreSQL by ``pg_dump -Fc`` (one snapshot), with a ``pg_dump``
  of the server's major version;
- ``media/…`` — every file of the default storage (local directory or S3: the storage is
  walked through Django's storage API), copied after the database, so every file the copy
  refers to is there (stored files are named by their SHA-256 and never rewritten);
- ``signing-key.enc`` — the CB's Ed25519 signing key, encrypted with a passphrase (scrypt
  derives a Fernet key: the ``cryptography`` package);
- ``manifest.json`` — written last: format, time, database engine, and each file's size
  and SHA-256. A directory without it is an unfinished backup.

The restore checks every file against the manifest and the passphrase before it writes
anything, refuses an installation that is not empty, restores database, files and key,
then migrates, collects static files, verifies the audit trail against the kept head and
checks every stored file's SHA-256 against the database.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, connections

from isocert.core import audit, keys
from isocert.core.models import StoredFile

FORMAT = "isocert-backup/1"
MANIFEST = "manifest.json"
HEAD = "head.json"
SIGNING_KEY = "signing-key.enc"
SQLITE_FILE = "database.sqlite3"
PGDUMP_FILE = "database.pgdump"
MEDIA_DIR = "media"
# scrypt's cost: 2**15 × 8 × 128 bytes = 32 MB of memory, ~0.1 s (RFC 7914 recommends
# N=2**14 or more for interactive use; a backup key is derived once).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
_CHUNK = 1024 * 1024
PASSPHRASE_ENV = "ISOCERT_BACKUP_PASSPHRASE"

Say = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


# --- helpers -----------------------------------------------------------------------------------

def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_hashing(source, target: Path) -> str:
    """Copy an open binary file to ``target``; the SHA-256 of what was written."""
    digest = hashlib.sha256()
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def storage_names(storage=default_storage, directory: str = "") -> Iterator[str]:
    """Every file name in a Django storage, walked through ``listdir`` (works for S3 too)."""
    try:
        subdirs, files = storage.listdir(directory)
    except FileNotFoundError:  # a local storage whose directory was never created
        return
    for name in sorted(files):
        yield f"{directory}/{name}" if directory else name
    for sub in sorted(subdirs):
        yield from storage_names(storage, f"{directory}/{sub}" if directory else sub)


def read_passphrase(passphrase_file: str | None) -> bytes:
    """The backup passphrase: from a file (its last line break dropped) or the variable
    ``ISOCERT_BACKUP_PASSPHRASE``; an empty one is refused."""
    if passphrase_file:
        try:
            passphrase = Path(passphrase_file).read_bytes().rstrip(b"\r\n")
        except OSError as exc:
            raise BackupError(f"Cannot read the passphrase file {passphrase_file}: {exc}")
    else:
        passphrase = os.environ.get(PASSPHRASE_ENV, "").encode()
    if not passphrase:
        raise BackupError(f"No passphrase: pass --passphrase-file FILE or set {PASSPHRASE_ENV} "
                          "(it encrypts the signing key in the backup).")
    return passphrase


def _derive_key(passphrase: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    raw = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase)
    return base64.urlsafe_b64encode(raw)


def encrypt_secret(secret: bytes, passphrase: bytes) -> dict:
    """``secret`` encrypted with a key scrypt derives from ``passphrase`` (Fernet: AES-128-CBC
    with HMAC-SHA256, so a wrong passphrase or an altered file is detected)."""
    salt = os.urandom(16)
    token = Fernet(_derive_key(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)).encrypt(secret)
    return {"kdf": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
            "salt": base64.b64encode(salt).decode(), "fernet": token.decode()}


def decrypt_secret(document: dict, passphrase: bytes) -> bytes:
    try:
        key = _derive_key(passphrase, base64.b64decode(document["salt"]),
                          int(document["n"]), int(document["r"]), int(document["p"]))
        return Fernet(key).decrypt(document["fernet"].encode())
    except InvalidToken:
        raise BackupError("The passphrase does not open the signing key in this backup "
                          "(wrong passphrase, or the file was altered).")
    except (KeyError, ValueError, TypeError) as exc:
        raise BackupError(f"The encrypted signing key is malformed: {exc}.")


def _engine() -> str:
    return {"sqlite": "sqlite", "postgresql": "postgresql"}.get(connection.vendor, connection.vendor)


# --- PostgreSQL tools --------------------------------------------------------------------------

def _libpq_env() -> dict[str, str]:
    """The connection's parameters as libpq variables (no password on a command line)."""
    db = connection.settings_dict
    env = dict(os.environ)
    for variable, value in (("PGHOST", db.get("HOST")), ("PGPORT", db.get("PORT")),
                            ("PGUSER", db.get("USER")), ("PGPASSWORD", db.get("PASSWORD")),
                            ("PGDATABASE", db.get("NAME"))):
        if value:
            env[variable] = str(value)
    return env


def _server_major() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        return int(cursor.fetchone()[0]) // 10000


def _tool_major(path: str) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True,  # noqa: S603
                             timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else None


def pg_tool(name: str) -> str:
    """``pg_dump`` or ``pg_restore`` of the server's major version.

    pg_dump refuses a server newer than itself, and a dump of an older one is best restored
    by the same version: look in ``PG_BIN_DIR``, Debian's ``/usr/lib/postgresql/N/bin``,
    then ``PATH``.
    """
    major = _server_major()
    candidates = []
    if settings.PG_BIN_DIR:
        candidates.append(str(Path(settings.PG_BIN_DIR) / name))
    candidates.append(f"/usr/lib/postgresql/{major}/bin/{name}")
    if found := shutil.which(name):
        candidates.append(found)
    for candidate in candidates:
        if Path(candidate).is_file() and _tool_major(candidate) == major:
            return candidate
    raise BackupError(
        f"No {name} for PostgreSQL {major} found (looked in {', '.join(candidates)}). "
        f"Install postgresql-client-{major} (Debian) or set PG_BIN_DIR.")


def _run(command: list[str], what: str, env: dict[str, str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, env=env)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{what} failed (exit {result.returncode}): "
                          f"{(result.stderr or result.stdout).strip()[-2000:]}")


# --- backup ------------------------------------------------------------------------------------

def _backup_database(directory: Path) -> str:
    if _engine() == "sqlite":
        target = directory / SQLITE_FILE
        source = sqlite3.connect(connection.settings_dict["NAME"])
        try:
            copy = sqlite3.connect(target)
            try:
                # One step (pages=-1): one read transaction, so one consistent state, while
                # the portal's writers go on (WAL).
                source.backup(copy)
                # A self-contained file: reading it later creates no -wal/-shm next to it.
                copy.execute("PRAGMA journal_mode=DELETE")
            finally:
                copy.close()
        finally:
            source.close()
        return SQLITE_FILE
    if _engine() == "postgresql":
        _run([pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--file={directory / PGDUMP_FILE}"], "pg_dump", _libpq_env())
        return PGDUMP_FILE
    raise BackupError(f"Backing up a {connection.vendor} database is not supported.")


def _backup_media(directory: Path) -> dict[str, dict]:
    files = {}
    for name in storage_names():
        relative = f"{MEDIA_DIR}/{name}"
        with default_storage.open(name, "rb") as source:
            sha = _copy_hashing(source, directory / relative)
        files[relative] = {"size": (directory / relative).stat().st_size, "sha256": sha}
    return files


def create_backup(directory: Path, *, passphrase: bytes, say: Say = lambda _: None) -> dict:
    """Write a backup of this installation into ``directory`` (new or empty); the manifest."""
    if not passphrase:
        raise BackupError("An empty passphrase would leave the signing key unprotected.")
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: write each backup to a new directory.")
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)  # the clients' data and documents: the owner only
    started = datetime.datetime.now(datetime.UTC)

    try:
        head = audit.signed_head()
    except audit.ChainBroken as exc:
        raise BackupError(f"{exc} Investigate before backing up (isocert verify-audit-trail).")
    (directory / HEAD).write_text(json.dumps(head, indent=2), encoding="utf-8")
    say(f"Audit trail head: event #{head['sequence']}")

    database_file = _backup_database(directory)
    say(f"Database ({_engine()}): {database_file}")
    media = _backup_media(directory)
    say(f"Media: {len(media)} files")

    encrypted = encrypt_secret(keys.signing_key_pem(), passphrase)
    (directory / SIGNING_KEY).write_text(json.dumps(encrypted, indent=2), encoding="utf-8")
    os.chmod(directory / SIGNING_KEY, 0o600)

    files = {name: {"size": (directory / name).stat().st_size,
                    "sha256": _sha256_file(directory / name)}
             for name in (HEAD, database_file, SIGNING_KEY)}
    files.update(media)
    manifest = {
        "format": FORMAT,
        "created_at": started.isoformat(),
        "finished_at": datetime.datetime.now(datetime.UTC).isoformat(),
        "site": settings.SITE_URL,
        "database": {"engine": _engine(), "file": database_file},
        "audit_trail_head": {"sequence": head["sequence"], "hash": head["hash"]},
        "signing_key_id": keys.public_key_id(),
        "files": files,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


# --- restore -----------------------------------------------------------------------------------

def read_manifest(directory: Path) -> dict:
    """The manifest, after checking every file it names (size and SHA-256)."""
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupError(f"{directory} holds no {MANIFEST}: not a backup, or an unfinished one.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise BackupError(f"{path} is not valid JSON: {exc}.")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not an {FORMAT} manifest.")
    root = directory.resolve()
    for name, expected in manifest["files"].items():
        file = (directory / name).resolve()
        if not file.is_relative_to(root):
            raise BackupError(f"The manifest names a file outside the backup: {name}.")
        if not file.is_file():
            raise BackupError(f"{name} is missing from the backup.")
        if file.stat().st_size != expected["size"] or _sha256_file(file) != expected["sha256"]:
            raise BackupError(f"{name} does not match its SHA-256 in the manifest: the backup "
                              "is damaged or was altered.")
    return manifest


def installation_problems() -> list[str]:
    """What makes this installation not empty (a restore would mix two installations)."""
    problems = []
    tables = connection.introspection.table_names()
    if tables:
        problems.append(f"the database already has {len(tables)} tables")
    first_file = next(storage_names(), None)
    if first_file is not None:
        problems.append(f"the file storage already holds files (e.g. {first_file})")
    return problems


def _configured_key_pem() -> bytes | None:
    return (settings.CERTIFICATE_SIGNING_KEY or "").strip().replace("\\n", "\n").encode() or None


def signing_key_conflict(pem: bytes) -> str | None:
    """Why the backed-up key cannot become this installation's key, or None.

    A key already configured here (the variable or the file) must be the backed-up one:
    another key would make every restored certificate's QR code and the signed head fail.
    """
    configured = _configured_key_pem()
    if configured is not None:
        if configured.strip() != pem.strip():
            return ("CERTIFICATE_SIGNING_KEY holds another key than the backup's: unset it "
                    "or set it to the backed-up key")
        return None
    path = Path(settings.CERTIFICATE_SIGNING_KEY_FILE)
    if path.exists() and path.read_bytes().strip() != pem.strip():
        return (f"the signing key file {path} holds another key than the backup's: remove it "
                "or put the backed-up key there")
    return None


def _restore_database(directory: Path, manifest: dict) -> None:
    engine = manifest["database"]["engine"]
    if engine != _engine():
        raise BackupError(f"This backup holds a {engine} database; this installation uses "
                          f"{_engine()}. Restore it with the same DATABASE_URL engine.")
    source_file = directory / manifest["database"]["file"]
    connections.close_all()
    if engine == "sqlite":
        source = sqlite3.connect(f"file:{source_file}?mode=ro", uri=True)
        try:
            target = sqlite3.connect(connection.settings_dict["NAME"])
            try:
                source.backup(target)
            finally:
                target.close()
        finally:
            source.close()
    else:
        _run([pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
              "--single-transaction", f"--dbname={connection.settings_dict['NAME']}",
              str(source_file)], "pg_restore", _libpq_env())


def _restore_media(directory: Path, manifest: dict) -> int:
    count = 0
    prefix = f"{MEDIA_DIR}/"
    for relative in manifest["files"]:
        if not relative.startswith(prefix):
            continue
        name = relative[len(prefix):]
        with (directory / relative).open("rb") as fh:
            saved = default_storage.save(name, File(fh))
        if saved != name:
            raise BackupError(f"The storage saved {name} as {saved}: it was not empty.")
        count += 1
    return count


def _restore_signing_key(pem: bytes) -> None:
    """Write the key to CERTIFICATE_SIGNING_KEY_FILE (0600) unless it is already in place
    (``signing_key_conflict`` has checked that a configured key is the same)."""
    path = Path(settings.CERTIFICATE_SIGNING_KEY_FILE)
    if _configured_key_pem() is not None or path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)


def check_stored_files() -> int:
    """Check that every stored file is in the storage with its SHA-256; the count checked."""
    checked = 0
    for stored in StoredFile.objects.order_by("pk").iterator(chunk_size=2000):
        digest = hashlib.sha256()
        try:
            with default_storage.open(stored.storage_name, "rb") as fh:
                for chunk in iter(lambda fh=fh: fh.read(_CHUNK), b""):
                    digest.update(chunk)
        except FileNotFoundError:
            raise BackupError(f"Stored file {stored.sha256} is missing from the storage.")
        if digest.hexdigest() != stored.sha256:
            raise BackupError(f"Stored file {stored.sha256} does not match its SHA-256.")
        checked += 1
    return checked


def prepare_restore(directory: Path, *, passphrase: bytes) -> tuple[dict, bytes]:
    """Everything checked before anything is written: manifest, files, passphrase, target."""
    manifest = read_manifest(directory)
    document = json.loads((directory / SIGNING_KEY).read_text(encoding="utf-8"))
    pem = decrypt_secret(document, passphrase)
    problems = installation_problems()
    if problems:
        raise BackupError("This installation is not empty: " + "; ".join(problems)
                          + ". Restore into a new database and an empty file storage.")
    if conflict := signing_key_conflict(pem):
        raise BackupError(conflict[0].upper() + conflict[1:] + ".")
    return manifest, pem


def restore_files(directory: Path, manifest: dict, pem: bytes, say: Say) -> int:
    """Write database, files and signing key of a checked backup (``prepare_restore``)."""
    _restore_database(directory, manifest)
    say(f"Database ({manifest['database']['engine']}) restored")
    count = _restore_media(directory, manifest)
    say(f"Media: {count} files restored")
    _restore_signing_key(pem)
    keys.forget_cached_keys()
    say("Signing key restored")
    return count


def head_file(directory: Path) -> str:
    return str(directory / HEAD)
