import time
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from isocert.core.backup import (
    BackupError,
    check_stored_files,
    head_file,
    prepare_restore,
    read_passphrase,
    restore_files,
)
from isocert.core.models import AuditEvent


class Command(BaseCommand):
    help = ("Restore a backup written by `isocert backup` into this EMPTY installation (no "
            "tables, no stored files; a signing key already configured must be the backed-up one): every file is checked against "
            "the manifest first; then database, files and signing key are restored, and "
            "migrate, collectstatic, verify-audit-trail (with the backup's signed head) and "
            "a SHA-256 check of every stored file are run.")
    # An empty installation may not pass the start-up checks yet (its key comes from the
    # backup); the commands run afterwards check it.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("directory", metavar="DIR")
        parser.add_argument("--passphrase-file", metavar="FILE",
                            help="File holding the backup's passphrase (default: the "
                                 "ISOCERT_BACKUP_PASSPHRASE variable).")

    def handle(self, *args, directory, passphrase_file=None, **options):
        try:
            passphrase = read_passphrase(passphrase_file)
        except BackupError as exc:
            raise CommandError(str(exc), returncode=2)
        source = Path(directory)
        started = time.monotonic()

        def say(line: str) -> None:
            self.stdout.write(f"[{time.monotonic() - started:7.1f} s] {line}")
        try:
            manifest, pem = prepare_restore(source, passphrase=passphrase)
        except BackupError as exc:
            raise CommandError(f"Nothing restored: {exc}")
        say(f"Backup checked: {len(manifest['files'])} files match the manifest")
        try:
            restore_files(source, manifest, pem, say=say)
        except BackupError as exc:
            raise CommandError(f"The restore stopped half-way (start again from an empty "
                               f"installation): {exc}")
        quiet = {"verbosity": 0, "stdout": self.stdout, "stderr": self.stderr}
        call_command("migrate", interactive=False, **quiet)
        say("Migrations applied")
        call_command("collectstatic", interactive=False, **quiet)
        say("Static files collected")
        call_command("verify-audit-trail", head=head_file(source), stdout=self.stdout)
        say("Audit trail verified")
        try:
            checked = check_stored_files()
        except BackupError as exc:
            raise CommandError(f"Restored, but {exc}")
        say(self.style.SUCCESS(
            f"Restored {source}: {AuditEvent.objects.count()} audit events, {checked} stored "
            "files match their SHA-256."))
