"""The audit trail's head signed with the CB's key and kept outside the database: a full
rewrite of the chain (every hash recomputed) passes the plain check but not the head's."""

import base64
import json
from io import StringIO

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command

from isocert.accounts.services import update_organization
from isocert.core import keys
from isocert.core.audit import GENESIS_HASH, _event_hash
from isocert.core.keys import write_key_file
from isocert.core.models import AuditChainHead, AuditEvent


@pytest.fixture
def key_file(settings, tmp_path):
    """This install's own new signing key file."""
    settings.CERTIFICATE_SIGNING_KEY = ""
    settings.CERTIFICATE_SIGNING_KEY_FILE = tmp_path / "keys" / "certificate-signing-key.pem"
    write_key_file(settings.CERTIFICATE_SIGNING_KEY_FILE)  # as `isocert signing-key generate`
    return settings.CERTIFICATE_SIGNING_KEY_FILE


@pytest.fixture
def trail(registered, key_file):
    """A registered application's history: several chained events."""
    events = list(AuditEvent.objects.order_by("seq"))
    assert len(events) >= 8
    return events


def print_head() -> str:
    out = StringIO()
    call_command("audit-trail-head", stdout=out)
    return out.getvalue()


@pytest.fixture
def head_file(trail, tmp_path):
    """The head as an operator keeps it: the command's output in a file elsewhere."""
    path = tmp_path / "audit-trail-head.json"
    path.write_text(print_head())
    return path


def verify(*args) -> str:
    out = StringIO()
    call_command("verify-audit-trail", *args, stdout=out)
    return out.getvalue()


def rewrite_chain(*, from_seq: int, **changes) -> None:
    """What an attacker with the database does: alter an event, recompute every hash after
    it and the head row, so that the plain chain check passes again."""
    events = list(AuditEvent.objects.filter(seq__gte=from_seq).order_by("seq"))
    prev = AuditEvent.objects.get(seq=from_seq - 1).hash if from_seq > 1 else GENESIS_HASH
    for name, value in changes.items():
        setattr(events[0], name, value)
    for event in events:
        event.prev_hash = prev
        event.hash = prev = _event_hash(event)
    AuditEvent.objects.bulk_update(events, ["prev_hash", "hash", *changes])
    AuditChainHead.objects.filter(pk=1).update(last_hash=prev)


def _canonical(document: dict) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


# --- printing the signed head ---------------------------------------------------------------------

def test_the_head_is_printed_and_signed_with_the_cbs_key(trail, settings):
    head = json.loads(print_head())

    last = trail[-1]
    assert head["format"] == "isocert-audit-trail-head/1"
    assert (head["sequence"], head["hash"]) == (last.seq, last.hash)
    assert head["created_at"] == last.created_at.isoformat()
    assert head["site"] == settings.SITE_URL
    assert head["signed_at"]
    assert head["key_id"] == keys.public_key_id()
    # Anyone with the public key checks it: Ed25519 over the canonical JSON of the rest.
    signature = base64.b64decode(head.pop("signature"))
    public_key = serialization.load_pem_public_key(keys.public_key_pem().encode())
    public_key.verify(signature, _canonical(head))  # raises InvalidSignature if not


def test_an_empty_trail_has_a_head_too(key_file, db):
    head = json.loads(print_head())

    assert (head["sequence"], head["hash"], head["created_at"]) == (0, GENESIS_HASH, None)


def test_no_head_is_signed_for_a_broken_chain(trail):
    AuditEvent.objects.filter(pk=trail[3].pk).update(action="registration.application.declined")

    with pytest.raises(CommandError, match=rf"broken at event #{trail[3].seq}:.*No head signed"):
        print_head()


# --- verifying against a kept head ----------------------------------------------------------------

def test_the_trail_verifies_against_its_head(trail, head_file):
    output = verify("--head", str(head_file))

    assert f"Audit trail intact: {len(trail)} events verified." in output
    assert f"(event #{trail[-1].seq})" in output


def test_events_written_after_the_head_do_not_disturb_it(trail, head_file, nordlicht, alice):
    update_organization(organization=nordlicht, actor=alice, trading_name="Nordlicht")
    assert AuditEvent.objects.count() > len(trail)

    assert "Audit trail intact" in verify("--head", str(head_file))


def test_the_e_mail_that_carried_the_head_is_accepted_as_it_is(trail, head_file, tmp_path):
    mail = tmp_path / "mail.txt"
    mail.write_text("Keep this e-mail.\n\n" + head_file.read_text() + "\n-- \nisocert\n")

    assert "Audit trail intact" in verify("--head", str(mail))


def test_a_rewritten_chain_passes_the_plain_check_but_not_the_head(trail, head_file):
    target = trail[2]
    rewrite_chain(from_seq=target.seq, actor_label="someone-else@example.com")

    assert "Audit trail intact" in verify()  # the rewrite the head exists to catch
    with pytest.raises(CommandError, match=rf"does not hold the head signed at .* \(event "
                                           rf"#{trail[-1].seq}\): event #{trail[-1].seq} no "
                                           r"longer has the signed hash"):
        verify("--head", str(head_file))


def test_a_chain_cut_back_before_the_head_fails(trail, head_file):
    AuditEvent.objects.filter(seq__gte=trail[-2].seq).delete()
    AuditChainHead.objects.filter(pk=1).update(last_seq=trail[-3].seq, last_hash=trail[-3].hash)

    assert "Audit trail intact" in verify()
    with pytest.raises(CommandError, match=rf"event #{trail[-1].seq} is missing"):
        verify("--head", str(head_file))


def test_a_broken_chain_is_still_reported_with_a_head(trail, head_file):
    AuditEvent.objects.filter(pk=trail[1].pk).update(object_id="999999")

    with pytest.raises(CommandError, match=rf"broken at event #{trail[1].seq}:"):
        verify("--head", str(head_file))


# --- a head that is not what the CB signed is refused ---------------------------------------------

def _edit(head_file, **changes) -> None:
    head = json.loads(head_file.read_text())
    head.update(changes)
    head_file.write_text(json.dumps(head))


@pytest.mark.parametrize("changes", [
    {"sequence": 1}, {"hash": "f" * 64}, {"signed_at": "2020-01-01T00:00:00+00:00"},
    {"site": "https://elsewhere.example"},
], ids=["sequence", "hash", "signed_at", "site"])
def test_a_tampered_head_is_refused(trail, head_file, changes):
    _edit(head_file, **changes)

    with pytest.raises(CommandError, match=r"is refused: its signature does not match its "
                                           r"content: it was altered"):
        verify("--head", str(head_file))


def test_a_forged_head_for_the_rewritten_chain_is_refused(trail, head_file):
    """The attacker rewrites the chain and edits the kept head to match: no CB key, no luck."""
    rewrite_chain(from_seq=trail[2].seq, actor_label="someone-else@example.com")
    _edit(head_file, hash=AuditEvent.objects.get(seq=trail[-1].seq).hash)

    with pytest.raises(CommandError, match="is refused: its signature does not match"):
        verify("--head", str(head_file))


def test_a_head_signed_with_another_key_names_the_keys(trail, head_file, settings, tmp_path):
    theirs = keys.public_key_id()
    settings.CERTIFICATE_SIGNING_KEY_FILE = tmp_path / "other" / "key.pem"  # a key change
    write_key_file(settings.CERTIFICATE_SIGNING_KEY_FILE)

    with pytest.raises(CommandError, match=rf"names signing key {theirs}, which is not the key "
                                           rf"checked against \({keys.public_key_id()}\)"):
        verify("--head", str(head_file))


@pytest.mark.parametrize(("content", "reason"), [
    ("", "it holds no JSON document"),
    ("{not json}", "it holds no JSON document"),
    ('{"sequence": 3}', "it carries no signature"),
    ('{"sequence": 3, "signature": "%%%"}', "its signature is not valid base64"),
    ('{"sequence": 3, "signature": "AAAA"}', "its signature has 3 bytes"),
])
def test_garbage_heads_are_refused_with_a_reason(trail, tmp_path, content, reason):
    keys.signing_key()  # this install has its key
    path = tmp_path / "head.json"
    path.write_text(content)

    with pytest.raises(CommandError, match=f"is refused: {reason}"):
        verify("--head", str(path))


def test_another_installs_public_key_checks_the_head(trail, head_file, settings, tmp_path):
    """An auditor's own install checks the CB's head with the CB's published public key."""
    public = tmp_path / "cb-public-key.pem"
    public.write_text(keys.public_key_pem())
    settings.CERTIFICATE_SIGNING_KEY_FILE = tmp_path / "none" / "key.pem"

    assert "Audit trail intact" in verify("--head", str(head_file), "--public-key", str(public))
    assert not settings.CERTIFICATE_SIGNING_KEY_FILE.exists()


def test_a_public_key_that_is_not_the_cbs_is_refused(trail, head_file, tmp_path):
    public = tmp_path / "other-public-key.pem"
    public.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

    with pytest.raises(CommandError, match="is refused: it names signing key"):
        verify("--head", str(head_file), "--public-key", str(public))


def test_without_a_key_the_head_is_not_checked_and_no_key_is_created(trail, head_file, settings,
                                                                     tmp_path):
    settings.CERTIFICATE_SIGNING_KEY_FILE = tmp_path / "none" / "key.pem"

    with pytest.raises(CommandError, match="no signing key. Pass --public-key") as error:
        verify("--head", str(head_file))

    assert error.value.returncode == 2
    assert not settings.CERTIFICATE_SIGNING_KEY_FILE.exists()


def test_an_unreadable_head_file_is_a_usage_error(trail, tmp_path):
    with pytest.raises(CommandError, match="Cannot read the head") as error:
        verify("--head", str(tmp_path / "missing.json"))

    assert error.value.returncode == 2
