"""Writing and verifying the hash-chained audit trail."""

import hashlib
import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64


def _canonical(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"))


def _event_hash(event: AuditEvent) -> str:
    body = _canonical(
        {
            "seq": event.seq,
            "created_at": event.created_at.isoformat(),
            "actor_id": event.actor_id,
            "actor_label": event.actor_label,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "organization_id": event.organization_id,
            "payload": event.payload,
        }
    )
    return hashlib.sha256((event.prev_hash + body).encode()).hexdigest()


def record_event(*, actor, action: str, obj=None, object_type: str = "", object_id="",
                 organization_id: int | None = None, payload: dict | None = None) -> AuditEvent:
    """Append one event to the chain. Must run inside the caller's transaction.

    ``obj`` (a model instance) fills ``object_type`` as ``app_label.model`` and
    ``object_id`` from its primary key.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must run inside the state change's transaction")
    if obj is not None:
        object_type = object_type or f"{obj._meta.app_label}.{obj._meta.model_name}"
        object_id = object_id or obj.pk
    # Round-trip the payload through JSON so what is hashed is what is stored.
    clean_payload = json.loads(_canonical(payload or {}))
    head, _ = AuditChainHead.objects.get_or_create(pk=1)
    head = AuditChainHead.objects.select_for_update().get(pk=head.pk)
    event = AuditEvent(
        seq=head.last_seq + 1,
        created_at=timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=(getattr(actor, "email", "") or "system") if actor else "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        organization_id=organization_id,
        payload=clean_payload,
        prev_hash=head.last_hash,
    )
    event.hash = _event_hash(event)
    event.save()
    head.last_seq, head.last_hash = event.seq, event.hash
    head.save(update_fields=["last_seq", "last_hash"])
    return event


@dataclass
class ChainProblem:
    seq: int
    reason: str


def verify_chain(batch_size: int = 2000) -> ChainProblem | None:
    """Recompute the chain; return the first broken event, or None if intact."""
    expected_prev, expected_seq = GENESIS_HASH, 1
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=last_id).order_by("seq")[:batch_size])
        if not batch:
            break
        for event in batch:
            if event.seq != expected_seq:
                return ChainProblem(expected_seq, f"event #{expected_seq} is missing")
            if event.prev_hash != expected_prev:
                return ChainProblem(event.seq, "its link to the previous event does not match")
            if _event_hash(event) != event.hash:
                return ChainProblem(event.seq, "its content does not match its hash")
            expected_prev, expected_seq = event.hash, event.seq + 1
        last_id = batch[-1].seq
    head = AuditChainHead.objects.filter(pk=1).first()
    if head and (head.last_seq != expected_seq - 1 or head.last_hash != expected_prev):
        return ChainProblem(
            expected_seq, f"events after #{expected_seq - 1} (up to #{head.last_seq}) are missing"
        )
    return None
