"""Time ``isocert backup`` and ``isocert restore`` on an existing installation.

    [DATABASE_URL=postgres://…/NAME] ISOCERT_VAR_DIR=DIR python bench/backup_bench.py
        [--work /tmp/backup-bench]

Backs up the installation the environment names (the demo after ``make demo``, or a
registry made by ``bench/registry_generate.py``), then restores the backup into a new,
empty installation — on SQLite a new var directory, on PostgreSQL a new database
``NAME_restore`` (dropped first) — with production settings (DEBUG off: WhiteNoise
compresses the static files). Prints the wall-clock time and size of each, and the
restore's own step timings. Not a test: the figures go into docs/performance.md.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dj_database_url

ISOCERT = [sys.executable, "-m", "isocert"]


def run(command, env) -> float:
    started = time.monotonic()
    subprocess.run(command, env=env, check=True)
    return time.monotonic() - started


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="/tmp/backup-bench", type=Path)
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    passphrase = args.work / "passphrase"
    passphrase.write_text("bench passphrase\n")
    backup = args.work / "backup"
    source_env = dict(os.environ)
    source_env.setdefault("DEBUG", "1")  # the source only reads (and backs up)

    backup_seconds = run([*ISOCERT, "backup", str(backup), "--passphrase-file", str(passphrase)],
                         source_env)
    print(f"backup: {backup_seconds:.1f} s, {size(backup) / 1e6:.1f} MB in {backup}")

    target = args.work / "restored"
    target_env = {k: v for k, v in os.environ.items() if k != "CERTIFICATE_SIGNING_KEY"}
    target_env.update(ISOCERT_VAR_DIR=str(target), DEBUG="0",
                      SECRET_KEY="bench-" + "x" * 50,
                      MEDIA_ROOT=str(target / "media"), STATIC_ROOT=str(target / "static"),
                      CERTIFICATE_SIGNING_KEY_FILE=str(target / "signing-key.pem"))
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        config = dj_database_url.parse(url)
        name = f"{config['NAME']}_restore"
        admin = url.rsplit("/", 1)[0] + "/postgres"
        for sql in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'):
            subprocess.run(["psql", admin, "-qc", sql], check=True)
        target_env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    else:
        target_env.pop("DATABASE_URL", None)
    restore_seconds = run([*ISOCERT, "restore", str(backup), "--passphrase-file",
                           str(passphrase)], target_env)
    print(f"restore: {restore_seconds:.1f} s into {target_env.get('DATABASE_URL', target)}")


if __name__ == "__main__":
    main()
