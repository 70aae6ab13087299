"""Writing and verifying the hash-chained audit trail, and signing its head to keep elsewhere."""

import base64
import binascii
import datetime
import hashlib
import json
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from . import keys
from .models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64
SYSTEM_ACTOR = "system"  # the label of an event without a person behind it


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
        actor_label=(getattr(actor, "email", "") or SYSTEM_ACTOR) if actor else SYSTEM_ACTOR,
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


@dataclass(frozen=True)
class ChainHead:
    """The last event of the chain: what a signed head anchors."""

    sequence: int
    hash: str
    created_at: datetime.datetime | None


def _check_chain(batch_size: int) -> tuple[ChainProblem | None, ChainHead | None]:
    """Recompute the chain; the first broken event (or None) and the last event verified."""
    expected_prev, expected_seq, last_created = GENESIS_HASH, 1, None
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=last_id).order_by("seq")[:batch_size])
        if not batch:
            break
        for event in batch:
            if event.seq != expected_seq:
                return ChainProblem(expected_seq, f"event #{expected_seq} is missing"), None
            if event.prev_hash != expected_prev:
                return ChainProblem(event.seq, "its link to the previous event does not match"), None
            if _event_hash(event) != event.hash:
                return ChainProblem(event.seq, "its content does not match its hash"), None
            expected_prev, expected_seq = event.hash, event.seq + 1
            last_created = event.created_at
        last_id = batch[-1].seq
    head = AuditChainHead.objects.filter(pk=1).first()
    if head and (head.last_seq != expected_seq - 1 or head.last_hash != expected_prev):
        return ChainProblem(
            expected_seq, f"events after #{expected_seq - 1} (up to #{head.last_seq}) are missing"
        ), None
    return None, ChainHead(expected_seq - 1, expected_prev, last_created)


def verify_chain(batch_size: int = 2000) -> ChainProblem | None:
    """Recompute the chain; return the first broken event, or None if intact."""
    return _check_chain(batch_size)[0]


# --- the signed head: anchoring the chain outside the database ------------------------------------
# The chain is unkeyed and its head row lives in the same database, so whoever can rewrite
# the database can recompute every hash and the chain verifies again. A head signed with
# the CB's key (core.keys) and kept elsewhere (a file, a ticket, an e-mail) pins the chain
# up to its event: a later rewrite changes that event's hash (each hash covers all before
# it) and ``isocert verify-audit-trail --head FILE`` fails.

HEAD_FORMAT = "isocert-audit-trail-head/1"
_SIGNATURE_BYTES = 64


class ChainBroken(Exception):
    """The chain does not verify: no head is signed for it."""

    def __init__(self, problem: ChainProblem):
        super().__init__(f"Audit trail broken at event #{problem.seq}: {problem.reason}.")
        self.problem = problem


def signed_head(batch_size: int = 2000) -> dict:
    """Verify the whole chain, then sign its last event with the CB's key.

    The document (JSON-ready): ``format``, ``site``, ``sequence``, ``hash``, ``created_at``
    (of that event; None for an empty trail), ``signed_at``, ``key_id`` and ``signature``
    (Ed25519 over the canonical JSON of the other fields, base64). Raises ChainBroken
    rather than vouch for a chain that is already broken.
    """
    problem, head = _check_chain(batch_size)
    if problem is not None:
        raise ChainBroken(problem)
    key = keys.signing_key()
    document = {
        "format": HEAD_FORMAT,
        "site": settings.SITE_URL,
        "sequence": head.sequence,
        "hash": head.hash,
        "created_at": head.created_at.isoformat() if head.created_at else None,
        "signed_at": timezone.now().isoformat(),
        "key_id": keys.key_id(key.public_key()),
    }
    document["signature"] = base64.b64encode(key.sign(_canonical(document).encode())).decode()
    return document


@dataclass(frozen=True)
class HeadCheck:
    valid: bool
    reason: str
    head: dict | None = None  # only when the signature is valid


def _refused(reason: str) -> HeadCheck:
    return HeadCheck(valid=False, reason=reason)


def check_head_signature(text: str, public_key_pem: str | None = None) -> HeadCheck:
    """Check a signed head (the JSON document, or a text around it such as the e-mail
    body) with the given public key (PEM) or this install's. Never raises on bad input:
    the answer names what is wrong, and ``head`` is only given when the signature holds.
    """
    start, end = text.find("{"), text.rfind("}")
    try:
        document = json.loads(text[start:end + 1]) if 0 <= start < end else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return _refused("it holds no JSON document")
    signature = document.pop("signature", None)
    if not isinstance(signature, str) or not signature:
        return _refused("it carries no signature")
    try:
        signature_bytes = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return _refused("its signature is not valid base64")
    if len(signature_bytes) != _SIGNATURE_BYTES:
        return _refused(f"its signature has {len(signature_bytes)} bytes; an Ed25519 "
                        f"signature has {_SIGNATURE_BYTES}")
    try:
        public_key = (keys.signing_key().public_key() if public_key_pem is None
                      else keys.load_public_key(public_key_pem))
    except ValueError as exc:
        return _refused(str(exc))
    checked_key_id = keys.key_id(public_key)
    try:
        public_key.verify(signature_bytes, _canonical(document).encode())
    except InvalidSignature:
        claimed = document.get("key_id")
        if isinstance(claimed, str) and claimed != checked_key_id:
            return _refused(f"it names signing key {claimed}, which is not the key checked "
                            f"against ({checked_key_id})")
        return _refused("its signature does not match its content: it was altered or signed "
                        "with another key")
    if document.get("format") != HEAD_FORMAT:
        return _refused(f"unknown head format {document.get('format')!r}")
    sequence, head_hash = document.get("sequence"), document.get("hash")
    if (not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 0
            or not isinstance(head_hash, str) or len(head_hash) != 64):
        return _refused("its sequence or hash is malformed")
    return HeadCheck(valid=True, reason=f"signed with key {checked_key_id}", head=document)


def head_problem(head: dict) -> str | None:
    """Why the trail no longer holds the signed ``head`` (its event with its hash), or None.

    Together with ``verify_chain`` this proves every event up to the head unchanged: each
    hash covers the previous one.
    """
    sequence = head["sequence"]
    if sequence == 0:  # signed while the trail was empty: it anchors nothing
        return None
    event = AuditEvent.objects.filter(seq=sequence).only("hash").first()
    if event is None:
        return f"event #{sequence} is missing: the trail was cut back or rewritten"
    if event.hash != head["hash"]:
        return (f"event #{sequence} no longer has the signed hash: the trail was rewritten "
                "since the head was signed")
    return None
