"""Shared kernel: the tamper-evident audit trail, stored files, number sequences."""

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One state change, hash-chained to the one before it.

    ``hash = sha256(prev_hash + canonical JSON of this row)``; altering or
    deleting any row breaks the chain (``isocert verify-audit-trail``).
    """

    seq = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField(db_index=True)
    # The id as recorded, also once the account is deleted: it is part of the hash, so
    # setting it to NULL (what SET_NULL did) broke the chain at each of the user's events.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
        related_name="+", db_constraint=False,
    )
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=120, db_index=True)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64)
    organization_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    payload = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id", "seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """The single row writers lock to append to the chain one at a time."""

    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit chain head #{self.last_seq}"


class StoredFile(models.Model):
    """An uploaded file, stored once under its SHA-256 content hash."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.content_type}, {self.size} bytes)"

    @property
    def storage_name(self) -> str:
        return f"files/{self.sha256[:2]}/{self.sha256[2:4]}/{self.sha256}"


class NumberSequence(models.Model):
    """Gap-free counters (registration numbers, certificate numbers, ...)."""

    name = models.CharField(max_length=60)
    period = models.CharField(max_length=20, blank=True)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "period"], name="unique_sequence_period")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.period}: {self.last_value}"


class WorkerHeartbeat(models.Model):
    """A running task worker says it is alive (``isocert db_worker`` beats every
    ``WORKER_HEARTBEAT_SECONDS``): the readiness check and the recovery of tasks left
    "running" by a dead worker read it (core/worker.py)."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"worker {self.worker_id} on {self.hostname} (pid {self.pid}), beat {self.beat_at}"
