"""The end of a suspension (ISO/IEC 17021-1 §9.6.5): when it runs out the daily run proposes
withdrawal or scope reduction to the CB's decision makers and administrators, and
withdraws the certificate SUSPENSION_WITHDRAWAL_GRACE_DAYS later unless the CB acted; the
CB may extend a suspension once, with a reason, by at most
SUSPENSION_EXTENSION_MAX_MONTHS."""

import datetime

import pytest
from certification_helpers import DECIDED, decision_ready_cycle
from django.core import mail
from factories import client_for

from isocert.certification.lifecycle import (
    SuspensionAlreadyExtended,
    daily_run,
    extend_suspension,
    restore_certificate,
    suspend_certificate,
)
from isocert.certification.models import Certificate
from isocert.certification.services import decide
from isocert.core.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent

SUSPENDED_ON = datetime.date(2026, 9, 1)
LAST_DAY = datetime.date(2027, 3, 1)          # six months on, the default maximum
ENDED = LAST_DAY + datetime.timedelta(days=1)
GRACE_OVER = ENDED + datetime.timedelta(days=14)


@pytest.fixture
def suspended(nordlicht, alice, rita, adam, dora):
    cycle = decision_ready_cycle(nordlicht, alice, rita, adam)
    certificate = decide(cycle=cycle, actor=dora, kind="initial", outcome="grant",
                         decision_date=DECIDED).certificate
    return suspend_certificate(certificate=certificate, actor=dora, date=SUSPENDED_ON,
                               reason="Surveillance audit refused by the client.")


def fresh(certificate) -> Certificate:
    return Certificate.objects.get(pk=certificate.pk)


def test_the_end_of_a_suspension_is_proposed_to_the_cb_once(
        suspended, dora, ada, alice, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert daily_run(today=LAST_DAY)["suspension_ends_proposed"] == 0
        assert daily_run(today=ENDED)["suspension_ends_proposed"] == 1
        assert daily_run(today=ENDED + datetime.timedelta(days=1))[
            "suspension_ends_proposed"] == 0

    certificate = fresh(suspended)
    assert certificate.status == Certificate.Status.SUSPENDED
    assert certificate.suspension_end_proposed_on == ENDED
    proposal = next(m for m in mail.outbox if "has ended" in m.subject)
    assert set(proposal.to) == {dora.email, ada.email}
    assert "withdraw" in proposal.body and "reduce its scope" in proposal.body
    assert "withdraws the certificate automatically on 16 Mar 2027" in proposal.body
    event = AuditEvent.objects.get(action="certification.certificate.suspension_ended")
    assert event.payload["withdrawal_due"] == GRACE_OVER.isoformat()


def test_left_past_the_grace_the_certificate_is_withdrawn_automatically(
        suspended, alice, django_capture_on_commit_callbacks):
    daily_run(today=ENDED)
    assert daily_run(today=GRACE_OVER - datetime.timedelta(days=1))[
        "withdrawn_after_suspension"] == 0
    assert fresh(suspended).status == Certificate.Status.SUSPENDED

    with django_capture_on_commit_callbacks(execute=True):
        assert daily_run(today=GRACE_OVER)["withdrawn_after_suspension"] == 1

    certificate = fresh(suspended)
    assert certificate.status == Certificate.Status.WITHDRAWN
    last = certificate.status_history.last()
    assert (last.status, last.date, last.actor) == ("Withdrawn", GRACE_OVER, None)
    assert "suspension ended on 1 Mar 2027" in last.reason
    event = AuditEvent.objects.get(action="certification.certificate.withdrawn")
    assert event.actor is None and event.payload["automatic"] is True
    assert any("Withdrawn" in m.subject and alice.email in m.to for m in mail.outbox)
    assert daily_run(today=GRACE_OVER + datetime.timedelta(days=1))[
        "withdrawn_after_suspension"] == 0


def test_the_grace_is_a_setting(suspended, settings):
    settings.SUSPENSION_WITHDRAWAL_GRACE_DAYS = 30
    daily_run(today=ENDED)
    daily_run(today=GRACE_OVER)
    assert fresh(suspended).status == Certificate.Status.SUSPENDED
    daily_run(today=ENDED + datetime.timedelta(days=30))
    assert fresh(suspended).status == Certificate.Status.WITHDRAWN


def test_a_certificate_restored_in_the_grace_is_not_withdrawn(suspended, dora):
    daily_run(today=ENDED)
    restore_certificate(certificate=suspended, actor=dora, date=datetime.date(2026, 12, 1),
                        reason="Surveillance audit held and passed.")

    daily_run(today=GRACE_OVER)
    assert fresh(suspended).status == Certificate.Status.ACTIVE


# --- the one extension --------------------------------------------------------------------

def test_a_suspension_is_extended_once_with_a_reason(suspended, dora,
                                                     django_capture_on_commit_callbacks):
    daily_run(today=ENDED)       # ran out: withdrawal proposed
    with django_capture_on_commit_callbacks(execute=True):
        extended = extend_suspension(certificate=suspended, actor=dora,
                                     until=datetime.date(2027, 6, 1),
                                     reason="Surveillance audit booked for May 2027.")

    assert extended.suspended_until == datetime.date(2027, 6, 1)
    assert extended.suspension_end_proposed_on is None
    event = AuditEvent.objects.get(action="certification.certificate.suspension_extended")
    assert event.payload["from"] == "2027-03-01" and event.payload["until"] == "2027-06-01"
    assert any("extended until 1 Jun 2027" in m.subject for m in mail.outbox)
    # The pending automatic withdrawal is off: the new end gets its own proposal.
    daily_run(today=GRACE_OVER)
    assert fresh(suspended).status == Certificate.Status.SUSPENDED
    with pytest.raises(SuspensionAlreadyExtended):
        extend_suspension(certificate=suspended, actor=dora, until=datetime.date(2027, 6, 2),
                          reason="Another month please.")
    assert daily_run(today=datetime.date(2027, 6, 2))["suspension_ends_proposed"] == 1


@pytest.mark.parametrize("data, field", [
    ({"until": datetime.date(2027, 6, 2), "reason": "Audit booked late."}, "until"),
    ({"until": LAST_DAY, "reason": "Audit booked late."}, "until"),
    ({"until": None, "reason": "Audit booked late."}, "until"),
    ({"until": datetime.date(2027, 5, 1), "reason": ""}, "reason"),
])
def test_extension_inputs_are_checked(suspended, dora, data, field):
    with pytest.raises(InvalidInput) as refused:
        extend_suspension(certificate=suspended, actor=dora, **data)
    assert field in refused.value.fields
    certificate = fresh(suspended)
    assert certificate.suspended_until == LAST_DAY
    assert certificate.suspension_extended_on is None


def test_the_extension_maximum_is_a_setting(suspended, dora, settings):
    settings.SUSPENSION_EXTENSION_MAX_MONTHS = 4
    extended = extend_suspension(certificate=suspended, actor=dora,
                                 until=datetime.date(2027, 7, 1), reason="Plant rebuilt.")
    assert extended.suspended_until == datetime.date(2027, 7, 1)


def test_only_cb_status_managers_extend(suspended, alice, adam, rita, ada):
    for actor in (alice, adam, rita):
        with pytest.raises(NotPermitted):
            extend_suspension(certificate=suspended, actor=actor,
                              until=datetime.date(2027, 5, 1), reason="Audit booked late.")
    assert fresh(suspended).suspension_extended_on is None
    extend_suspension(certificate=suspended, actor=ada, until=datetime.date(2027, 5, 1),
                      reason="Audit booked late.")


def test_an_active_certificate_has_no_suspension_to_extend(suspended, dora):
    restore_certificate(certificate=suspended, actor=dora, date=datetime.date(2026, 12, 1),
                        reason="Surveillance audit held and passed.")
    with pytest.raises(TransitionNotAllowed):
        extend_suspension(certificate=suspended, actor=dora, until=datetime.date(2027, 5, 1),
                          reason="Audit booked late.")


def test_a_new_suspension_may_be_extended_again(suspended, dora):
    extend_suspension(certificate=suspended, actor=dora, until=datetime.date(2027, 5, 1),
                      reason="Audit booked late.")
    restore_certificate(certificate=suspended, actor=dora, date=datetime.date(2026, 12, 1),
                        reason="Surveillance audit held and passed.")
    again = suspend_certificate(certificate=suspended, actor=dora,
                                date=datetime.date(2026, 12, 2), reason="Major not closed.")
    assert again.suspension_extended_on is None
    extend_suspension(certificate=suspended, actor=dora, until=datetime.date(2027, 7, 1),
                      reason="Corrective action needs a new furnace.")


# --- the page and the API -----------------------------------------------------------------

def test_dora_extends_on_the_certificate_page(suspended, dora):
    client = client_for(dora)
    page = client.get(f"/certificates/{suspended.pk}/").content.decode()
    assert "Extend the suspension" in page

    refused = client.post(f"/certificates/{suspended.pk}/extend-suspension/", {
        "extend_suspension-reason": "Audit booked late.",
        "extend_suspension-until": "2027-09-01"})
    assert refused.status_code == 422
    assert "On or before 1 Jun 2027." in refused.content.decode()
    done = client.post(f"/certificates/{suspended.pk}/extend-suspension/", {
        "extend_suspension-reason": "Audit booked late.",
        "extend_suspension-until": "2027-05-01"})
    assert done.status_code == 302
    assert fresh(suspended).suspended_until == datetime.date(2027, 5, 1)
    page = client.get(f"/certificates/{suspended.pk}/").content.decode()
    assert "Extend the suspension" not in page and "extended on" in page


def test_the_page_says_when_the_certificate_will_be_withdrawn(suspended, dora):
    daily_run(today=ENDED)
    page = client_for(dora).get(f"/certificates/{suspended.pk}/").content.decode()
    assert "it is withdrawn on 16 Mar 2027" in page


def test_the_api_extends_once(suspended, dora, alice, charlie, api_client):
    url = f"/api/v1/certificates/{suspended.pk}/extend-suspension"
    body = {"reason": "Audit booked late.", "until": "2027-05-01"}
    assert "extend_suspension" in api_client(dora).get(
        f"/api/v1/certificates/{suspended.pk}").json()["allowed_actions"]

    assert api_client(charlie).post(url, body, content_type="application/json"
                                    ).status_code == 404
    assert api_client(alice).post(url, body, content_type="application/json"
                                  ).status_code == 403
    done = api_client(dora).post(url, body, content_type="application/json")
    assert done.status_code == 200, done.content
    assert done.json()["suspended_until"] == "2027-05-01"
    assert done.json()["suspension_extended_on"] is not None
    assert "extend_suspension" not in done.json()["allowed_actions"]
    again = api_client(dora).post(url, body, content_type="application/json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "suspension_already_extended"
