"""The registry's own records: CertSearch imports and exports run by the task worker, and
the vocabulary of certified organizations' names the directory corrects typos against.

The certificates themselves are ``certification.Certificate`` rows. These models were
born in the ``certification`` app and keep its tables (``db_table``): moving them here
changed no data.
"""

from django.conf import settings
from django.db import models

from isocert.core.dates import display_date


def audit_type(job) -> str:
    """The audit trail's object type of an import or export: still ``certification.…``, as
    before these models moved here, so the trail and its ``object_type`` filter stay one."""
    return f"certification.{job._meta.model_name}"


class CertificateImport(models.Model):
    """A bulk import of existing certificates (CSV in the IAF CertSearch layout), run by the
    task worker: queued → running → done, or failed (``errors`` say why: the file's problems,
    or that the run stopped); failed → queued again when the CB retries it (``attempt`` + 1).
    A run left without progress for ``REGISTRY_JOB_TIMEOUT_MINUTES`` is failed
    (``jobs.fail_stale_registry_jobs``)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Checking and importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed: nothing was imported"

    file = models.ForeignKey("core.StoredFile", on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=255)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    imported_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True,
                              help_text="[{line, field, message}], the first 1,000.")
    error_count = models.PositiveIntegerField(default=0)
    attempt = models.PositiveIntegerField(default=1, help_text="1, and one more per retry.")
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="When the running attempt last showed progress.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "certification_certificateimport"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.file_name} ({self.get_status_display()})"


class RegistryExport(models.Model):
    """An IAF CertSearch export (monthly task or on demand), prepared by the task worker:
    queued → running → done (``file`` set) or failed (``error`` says why); failed → queued
    again when the CB retries it (``attempt`` + 1). A run left without progress for
    ``REGISTRY_JOB_TIMEOUT_MINUTES`` is failed (``jobs.fail_stale_registry_jobs``)."""

    class Format(models.TextChoices):
        XLSX = "xlsx", "Excel template"
        CSV = "csv", "CSV"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Being prepared"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    format = models.CharField(max_length=4, choices=Format.choices)
    with_ict = models.BooleanField(
        default=False, help_text="Adds the column 'Remote auditing (ICT)' after CertSearch's: "
        "where ICT was used in each certificate's audits (IAF MD 4:2022 §4.2). Not a "
        "CertSearch field (IAF MD 28): off, the file is exactly the template.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    file = models.ForeignKey("core.StoredFile", null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    total_rows = models.PositiveIntegerField(default=0, help_text="Certificates to write.")
    rows = models.PositiveIntegerField(default=0, help_text="Certificates written so far.")
    error = models.TextField(blank=True)
    attempt = models.PositiveIntegerField(default=1, help_text="1, and one more per retry.")
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="When the running attempt last showed progress.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "certification_registryexport"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"CertSearch export {display_date(self.created_at)} ({self.format})"


class NameWord(models.Model):
    """A word of some certified organization's name (as in ``Certificate.name_key``): the
    vocabulary the directory corrects typos against.

    Filled by database triggers on every insert of a certificate and every change of its
    name (migration ``0003_name_words``), so no writer can forget it; a bulk import adds
    its words in one statement. Words are never removed — an unused word only offers a
    correction that finds nothing. ``id`` grows with each new word, so a process that
    keeps the vocabulary in memory fetches only the words above the highest it has.
    """

    word = models.CharField(max_length=200, unique=True)

    class Meta:
        db_table = "certification_nameword"

    def __str__(self) -> str:
        return self.word
