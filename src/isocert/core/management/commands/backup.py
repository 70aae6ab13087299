import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from isocert.core.backup import PASSPHRASE_ENV, BackupError, create_backup, read_passphrase


class Command(BaseCommand):
    help = ("Write a consistent backup of this installation into DIR (new or empty): the "
            "database (SQLite online backup or pg_dump -Fc), every stored file, the signing "
            "key encrypted with a passphrase, the signed audit-trail head and a manifest of "
            "SHA-256 sums. Restore it with `isocert restore DIR`.")

    def add_arguments(self, parser):
        parser.add_argument("directory", metavar="DIR")
        parser.add_argument("--passphrase-file", metavar="FILE",
                            help=f"File holding the passphrase that encrypts the signing key "
                                 f"(default: the {PASSPHRASE_ENV} variable).")

    def handle(self, *args, directory, passphrase_file=None, **options):
        self.verbosity = options.get("verbosity", 1)
        self.started = time.monotonic()
        try:
            passphrase = read_passphrase(passphrase_file)
        except BackupError as exc:
            raise CommandError(str(exc), returncode=2)
        target = Path(directory)
        try:
            manifest = create_backup(target, passphrase=passphrase, say=self._say)
        except BackupError as exc:
            raise CommandError(str(exc))
        size = sum(entry["size"] for entry in manifest["files"].values())
        self._say(self.style.SUCCESS(
            f"Backup written to {target}: {len(manifest['files'])} files, {size:,} bytes."))

    def _say(self, line: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(f"[{time.monotonic() - self.started:7.1f} s] {line}")
