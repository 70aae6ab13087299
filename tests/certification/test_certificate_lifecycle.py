"""A certificate's life after the decision (§9.6): suspension, restoration, withdrawal,
expiry, and the daily run that watches deadlines."""

import datetime

import pytest
from certification_helpers import DECIDED, certified_cycle, decision_ready_cycle, recertify
from django.core import mail
from django.utils import timezone

from isocert.accounts.permissions import staff_emails
from isocert.audits.models import Audit
from isocert.certification.lifecycle import (
    daily_run,
    restore_certificate,
    suspend_certificate,
    withdraw_certificate,
)
from isocert.certification.models import CERTIFICATE_LIFECYCLE, Certificate
from isocert.certification.selectors import surveillance_due
from isocert.certification.services import decide
from isocert.core.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent

SUSPENDED_ON = datetime.date(2026, 9, 1)


@pytest.fixture
def certificate(nordlicht, alice, rita, adam, dora):
    cycle = decision_ready_cycle(nordlicht, alice, rita, adam)
    return decide(cycle=cycle, actor=dora, kind="initial", outcome="grant",
                  decision_date=DECIDED).certificate


def history(certificate) -> list[tuple[str, datetime.date]]:
    return list(certificate.status_history.values_list("status", "date"))


def test_suspension_lasts_six_months_by_default(certificate, dora, alice,
                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        suspended = suspend_certificate(certificate=certificate, actor=dora, date=SUSPENDED_ON,
                                        reason="Surveillance audit refused by the client.")

    assert suspended.status == Certificate.Status.SUSPENDED
    assert suspended.suspended_until == datetime.date(2027, 3, 1)
    assert history(suspended)[-1] == ("Suspended", SUSPENDED_ON)
    event = AuditEvent.objects.filter(action="certification.certificate.suspended").get()
    assert event.payload["reason"] == "Surveillance audit refused by the client."
    assert event.actor == dora
    notice = next(m for m in mail.outbox if "Suspended" in m.subject)
    assert alice.email in notice.to and "may not be used or advertised" in notice.body


def cb_addresses() -> list[str]:
    return staff_emails("manage_certificate_status")


@pytest.mark.parametrize("change", ["suspend", "withdraw"])
def test_status_e_mails_go_to_the_client_and_the_cb_separately(
        certificate, dora, ada, alice, bob, django_capture_on_commit_callbacks, change):
    with django_capture_on_commit_callbacks(execute=True):
        if change == "suspend":
            suspend_certificate(certificate=certificate, actor=dora, date=SUSPENDED_ON,
                                reason="Surveillance audit refused by the client.")
        else:
            withdraw_certificate(certificate=certificate, actor=dora, date=SUSPENDED_ON,
                                 reason="The client asked to end the certification.")

    notices = [m for m in mail.outbox if certificate.number in m.subject]
    client, cb = (next(m for m in notices if alice.email in m.to),
                  next(m for m in notices if dora.email in m.to))
    assert sorted(client.to) == sorted([alice.email, bob.email])
    assert not {dora.email, ada.email} & set(client.to + client.cc + client.bcc)
    assert sorted(cb.to) == sorted(cb_addresses()) and ada.email in cb.to
    assert not {alice.email, bob.email} & set(cb.to + cb.cc + cb.bcc)
    assert client.subject == cb.subject and len(notices) == 2


def test_the_extension_e_mail_goes_to_the_client_and_the_cb_separately(
        certificate, dora, alice, bob, django_capture_on_commit_callbacks):
    from isocert.certification.lifecycle import extend_suspension

    suspend_certificate(certificate=certificate, actor=dora, date=SUSPENDED_ON,
                        until=datetime.date(2026, 12, 1), reason="Client's request.")
    with django_capture_on_commit_callbacks(execute=True):
        extend_suspension(certificate=certificate, actor=dora, until=datetime.date(2027, 2, 1),
                          reason="Surveillance audit booked for January 2027.")

    notices = [m for m in mail.outbox if "extended" in m.subject]
    assert sorted(sorted(m.to) for m in notices) == sorted(
        [sorted([alice.email, bob.email]), sorted(cb_addresses())])


def test_a_suspension_longer_than_the_limit_is_refused(certificate, dora, settings):
    with pytest.raises(InvalidInput) as refused:
        suspend_certificate(certificate=certificate, actor=dora, date=SUSPENDED_ON,
                            until=datetime.date(2027, 3, 2), reason="Client's request.")
    assert "until" in refused.value.fields

    settings.SUSPENSION_MAX_MONTHS = 9
    suspended = suspend_certificate(certificate=certificate, actor=dora, date=SUSPENDED_ON,
                                    until=datetime.date(2027, 3, 2), reason="Client's request.")
    assert suspended.suspended_until == datetime.date(2027, 3, 2)


@pytest.mark.parametrize("data, field", [
    ({"reason": ""}, "reason"),
    ({"reason": "Client's request.", "date": timezone.localdate() + datetime.timedelta(days=1)},
     "date"),
    ({"reason": "Client's request.", "date": DECIDED - datetime.timedelta(days=1)}, "date"),
    ({"reason": "Client's request.", "date": SUSPENDED_ON, "until": SUSPENDED_ON}, "until"),
])
def test_suspension_inputs_are_checked(certificate, dora, data, field):
    before = AuditEvent.objects.count()

    with pytest.raises(InvalidInput) as refused:
        suspend_certificate(certificate=certificate, actor=dora, **data)

    assert field in refused.value.fields
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ACTIVE
    assert AuditEvent.objects.count() == before


def test_clients_and_auditors_cannot_change_the_status(certificate, alice, adam, rita):
    for actor in (alice, adam, rita):
        with pytest.raises(NotPermitted):
            suspend_certificate(certificate=certificate, actor=actor, reason="Not allowed.")
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ACTIVE


def test_only_cb_staff_change_the_status_on_an_appeal(certificate, alice):
    """``on_appeal`` lets an appeals panel member of any CB role act (the appeals service
    checks the panel); a client is refused all the same, nothing written."""
    events = AuditEvent.objects.count()
    with pytest.raises(NotPermitted):
        suspend_certificate(certificate=certificate, actor=alice, reason="Not allowed.",
                            on_appeal="APL-2026-000001")
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ACTIVE
    assert AuditEvent.objects.count() == events


def test_restore_then_withdraw(certificate, dora, ada):
    suspend_certificate(certificate=certificate, actor=dora, date=SUSPENDED_ON,
                        reason="Major nonconformity not closed in time.")
    restored = restore_certificate(certificate=certificate, actor=dora,
                                   date=datetime.date(2026, 10, 1),
                                   reason="Corrective action verified on site.")
    assert restored.status == Certificate.Status.ACTIVE and restored.suspended_until is None

    withdrawn = withdraw_certificate(certificate=certificate, actor=ada,
                                     date=datetime.date(2026, 11, 2),
                                     reason="Client ended the contract.")

    assert withdrawn.status == Certificate.Status.WITHDRAWN
    assert [status for status, _ in history(withdrawn)] == [
        "Active", "Suspended", "Active", "Withdrawn"]


def test_a_withdrawn_certificate_stays_withdrawn(certificate, dora):
    withdraw_certificate(certificate=certificate, actor=dora, reason="Client ended the contract.")

    for service in (suspend_certificate, restore_certificate, withdraw_certificate):
        with pytest.raises(TransitionNotAllowed):
            service(certificate=certificate, actor=dora, reason="Try again please.")
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.WITHDRAWN


def test_restoring_an_active_certificate_is_refused(certificate, dora):
    with pytest.raises(TransitionNotAllowed) as refused:
        restore_certificate(certificate=certificate, actor=dora, reason="Nothing to restore.")
    assert "active" in refused.value.message


# --- the daily run -------------------------------------------------------------------------------

def test_the_daily_run_expires_lapsed_certificates(certificate):
    assert daily_run(today=datetime.date(2029, 4, 1))["expired"] == 0

    counts = daily_run(today=datetime.date(2029, 4, 2))

    certificate.refresh_from_db()
    assert counts["expired"] == 1
    assert certificate.status == Certificate.Status.EXPIRED
    assert history(certificate)[-1] == ("Expired", datetime.date(2029, 4, 2))
    assert daily_run(today=datetime.date(2029, 4, 3))["expired"] == 0


def test_suspension_reminder_before_it_runs_out(certificate, dora, alice,
                                                django_capture_on_commit_callbacks):
    suspend_certificate(certificate=certificate, actor=dora, date=SUSPENDED_ON,
                        until=datetime.date(2026, 10, 31), reason="Client's request.")

    with django_capture_on_commit_callbacks(execute=True):
        assert daily_run(today=datetime.date(2026, 10, 1))["suspension_reminders"] == 0
        assert daily_run(today=datetime.date(2026, 10, 17))["suspension_reminders"] == 1
        assert daily_run(today=datetime.date(2026, 10, 18))["suspension_reminders"] == 0

    reminders = [m for m in mail.outbox if "Suspension of" in m.subject]
    assert all("restore" in m.subject for m in reminders)
    # The client's people and the CB's staff each get their own e-mail.
    assert [sorted(m.to) for m in reminders] == [[alice.email, "bob@nordlicht.example"],
                                                 sorted(cb_addresses())]


def test_overdue_surveillance_is_flagged_once_to_both_sides(certificate, dora, alice,
                                                            django_capture_on_commit_callbacks):
    due = Audit.objects.get(cycle=certificate.cycle, kind="surveillance1").target_date
    assert due == datetime.date(2027, 4, 1)

    with django_capture_on_commit_callbacks(execute=True):
        assert daily_run(today=due)["surveillance_overdue"] == 0
        assert daily_run(today=due + datetime.timedelta(days=1))["surveillance_overdue"] == 1
        assert daily_run(today=due + datetime.timedelta(days=2))["surveillance_overdue"] == 0

    subjects = {m.subject: m.to for m in mail.outbox}
    cb = next(to for subject, to in subjects.items() if "propose suspension" in subject)
    client = next(to for subject, to in subjects.items() if subject.startswith("Surveillance"))
    assert dora.email in cb and alice.email in client
    assert AuditEvent.objects.filter(
        action="certification.certificate.surveillance_overdue").count() == 1


def test_the_second_surveillance_is_flagged_too_when_it_falls_overdue(certificate):
    first = Audit.objects.get(cycle=certificate.cycle, kind="surveillance1")
    second = Audit.objects.get(cycle=certificate.cycle, kind="surveillance2")
    assert daily_run(today=first.target_date + datetime.timedelta(days=1))[
        "surveillance_overdue"] == 1
    Audit.objects.filter(pk=first.pk).update(status=Audit.Status.CLOSED)  # held late

    assert daily_run(today=second.target_date)["surveillance_overdue"] == 0
    assert daily_run(today=second.target_date + datetime.timedelta(days=1))[
        "surveillance_overdue"] == 1
    assert daily_run(today=second.target_date + datetime.timedelta(days=2))[
        "surveillance_overdue"] == 0
    flagged = AuditEvent.objects.filter(action="certification.certificate.surveillance_overdue")
    assert [e.payload["audit"] for e in flagged.order_by("seq")] == [first.pk, second.pk]


# --- after a recertification: the next cycle ------------------------------------------------------

@pytest.fixture
def renewed(nordlicht, alice, rita, adam, dora):
    """Certified on 2023-06-01; its first surveillance (due 2024-06-01) was flagged overdue;
    recertified on 2026-05-04, the certificate now expires on 2029-06-01."""
    cycle = certified_cycle(nordlicht, alice, rita, adam, dora, decided=datetime.date(2023, 6, 1))
    assert daily_run(today=datetime.date(2024, 6, 2))["surveillance_overdue"] == 1
    return recertify(cycle, dora, adam, alice, audit_end=datetime.date(2026, 4, 20),
                     decision_date=datetime.date(2026, 5, 4)).certificate


def test_after_renewal_the_certificate_follows_the_new_cycle(renewed, alice, api_client):
    old = Audit.objects.filter(kind="stage2").get().cycle
    assert renewed.cycle != old and renewed.cycle.status == "active"

    due = [(a.kind, a.target_date, a.status) for a in surveillance_due(certificate=renewed)]

    assert due == [("surveillance1", datetime.date(2027, 5, 4), "planned"),
                   ("surveillance2", datetime.date(2028, 5, 4), "planned"),
                   ("recertification", datetime.date(2029, 5, 31), "planned")]
    detail = api_client(alice).get(f"/api/v1/certificates/{renewed.pk}").json()
    assert detail["cycle_id"] == renewed.cycle_id
    assert [(s["kind"], s["due_date"]) for s in detail["surveillance"]] == [
        ("surveillance1", "2027-05-04"), ("surveillance2", "2028-05-04"),
        ("recertification", "2029-05-31")]


def test_the_overdue_run_watches_the_new_cycles_surveillance(renewed, dora, alice,
                                                             django_capture_on_commit_callbacks):
    first = Audit.objects.get(cycle=renewed.cycle, kind="surveillance1")
    assert renewed.surveillance_flagged_on is None   # the old cycle's flag does not carry over

    with django_capture_on_commit_callbacks(execute=True):
        assert daily_run(today=datetime.date(2027, 5, 4))["surveillance_overdue"] == 0
        assert daily_run(today=datetime.date(2027, 5, 5))["surveillance_overdue"] == 1
        assert daily_run(today=datetime.date(2027, 5, 6))["surveillance_overdue"] == 0

    renewed.refresh_from_db()
    assert renewed.surveillance_flagged_on == datetime.date(2027, 5, 5)
    event = AuditEvent.objects.filter(
        action="certification.certificate.surveillance_overdue").latest("seq")
    assert event.payload["audit"] == first.pk and event.payload["due"] == "2027-05-04"
    assert any(alice.email in m.to and "was due by 4 May 2027" in m.body
               for m in mail.outbox)


def test_recertification_is_a_transition_of_the_status_table():
    """Recertification renews an active certificate or restores an expired one (within the
    restoration window, checked by ``decide``); a suspended or withdrawn one is refused."""
    S = Certificate.Status
    assert CERTIFICATE_LIFECYCLE.target("recertify", S.EXPIRED) == S.ACTIVE
    assert CERTIFICATE_LIFECYCLE.target("recertify", S.ACTIVE) == S.ACTIVE
    for status in (S.SUSPENDED, S.WITHDRAWN):
        with pytest.raises(TransitionNotAllowed):
            CERTIFICATE_LIFECYCLE.target("recertify", status)
