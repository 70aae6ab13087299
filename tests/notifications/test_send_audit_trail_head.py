"""The daily e-mail of the audit trail's signed head to an address outside the portal."""

import json
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from isocert.core import keys
from isocert.core.keys import write_key_file
from isocert.core.models import AuditEvent


@pytest.fixture
def key_file(settings, tmp_path):
    """This install's own new signing key file."""
    settings.CERTIFICATE_SIGNING_KEY = ""
    settings.CERTIFICATE_SIGNING_KEY_FILE = tmp_path / "keys" / "certificate-signing-key.pem"
    write_key_file(settings.CERTIFICATE_SIGNING_KEY_FILE)  # as `isocert signing-key generate`
    return settings.CERTIFICATE_SIGNING_KEY_FILE


def send_head(capture) -> str:
    out = StringIO()
    with capture(execute=True):
        call_command("send-audit-trail-head", stdout=out)
    return out.getvalue()


def test_the_signed_head_is_e_mailed_to_the_configured_address(
        registered, key_file, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.AUDIT_TRAIL_HEAD_EMAIL = ["anchor@example-cb.org"]
    last = AuditEvent.objects.order_by("seq").last()

    output = send_head(django_capture_on_commit_callbacks)

    assert f"Audit trail head #{last.seq} sent to anchor@example-cb.org." in output
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["anchor@example-cb.org"]
    assert message.subject.startswith(f"Audit trail head #{last.seq} of {settings.SITE_URL}")
    body = message.body
    head = json.loads(body[body.index("{"):body.rindex("}") + 1])
    assert (head["sequence"], head["hash"], head["key_id"]) == (
        last.seq, last.hash, keys.public_key_id())
    # The e-mail's text, saved as it is, is what verify-audit-trail --head takes.
    saved = tmp_path / "mail.txt"
    saved.write_text(body)
    out = StringIO()
    call_command("verify-audit-trail", "--head", str(saved), stdout=out)
    assert f"(event #{last.seq})" in out.getvalue()


def test_nothing_is_sent_when_no_address_is_configured(
        registered, key_file, settings, django_capture_on_commit_callbacks, monkeypatch):
    settings.AUDIT_TRAIL_HEAD_EMAIL = []
    signed = []
    monkeypatch.setattr(keys, "signing_key", lambda: signed.append(1))

    output = send_head(django_capture_on_commit_callbacks)

    assert "AUDIT_TRAIL_HEAD_EMAIL is empty: no head sent." in output
    assert mail.outbox == []
    assert signed == []  # nothing signed either


def test_nothing_is_sent_for_a_broken_trail(
        registered, key_file, settings, django_capture_on_commit_callbacks):
    settings.AUDIT_TRAIL_HEAD_EMAIL = ["anchor@example-cb.org"]
    target = AuditEvent.objects.order_by("seq")[2]
    AuditEvent.objects.filter(pk=target.pk).update(action="registration.application.declined")

    with pytest.raises(CommandError, match=rf"broken at event #{target.seq}:.*No head sent"):
        send_head(django_capture_on_commit_callbacks)

    assert mail.outbox == []


def test_a_malformed_address_is_named(db, key_file, settings, django_capture_on_commit_callbacks):
    settings.AUDIT_TRAIL_HEAD_EMAIL = ["anchor@example-cb.org", "not an address"]

    with pytest.raises(CommandError, match="'not an address' is not an e-mail address"):
        send_head(django_capture_on_commit_callbacks)

    assert mail.outbox == []
