"""Overdue corrective actions: flagged on the pages, e-mailed to client and team once a day."""

import datetime

import pytest
from conduct_helpers import ANSWER, LAST_DAY, finding_data, make_audit
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from isocert.audits.conduct import services as conduct
from isocert.audits.models import Finding
from isocert.core.models import AuditEvent

PLAN_LATE = LAST_DAY + datetime.timedelta(days=31)
VERIFICATION_LATE = LAST_DAY + datetime.timedelta(days=91)


@pytest.fixture
def audit(registered, adam):
    return make_audit(registered, adam)


@pytest.fixture
def findings(audit, adam):
    return {grade: conduct.create_finding(audit=audit, actor=adam,
                                          **finding_data(audit, grade))
            for grade in ("major", "minor", "observation")}


def test_an_unanswered_nonconformity_is_overdue_the_day_after_its_plan_is_due(findings):
    minor = findings["minor"]
    assert conduct.overdue_reason(minor, minor.plan_due) == ""
    assert conduct.overdue_reason(minor, PLAN_LATE) == "answer was due 12 Apr 2026"
    assert conduct.overdue_reason(findings["observation"], VERIFICATION_LATE) == ""
    assert set(conduct.overdue_findings(PLAN_LATE)) == {findings["major"], minor}


def test_an_answered_minor_is_not_overdue_but_an_unverified_major_becomes_so(findings, alice,
                                                                             adam):
    for grade in ("major", "minor"):
        conduct.submit_corrective_action(finding=findings[grade], actor=alice, **ANSWER)
        conduct.review_corrective_action(finding=findings[grade], actor=adam, decision="accept")

    assert list(conduct.overdue_findings(PLAN_LATE)) == []
    major = Finding.objects.get(pk=findings["major"].pk)
    assert conduct.overdue_reason(major, VERIFICATION_LATE) == "verification was due 11 Jun 2026"
    assert list(conduct.overdue_findings(VERIFICATION_LATE)) == [major]


def test_client_and_team_are_reminded_once_a_day(findings, audit,
                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        listed = conduct.send_ca_reminder(audit=audit, today=PLAN_LATE)
    assert sorted(listed) == sorted([findings["major"].pk, findings["minor"].pk])
    assert sorted(tuple(m.to) for m in mail.outbox) == [
        ("adam@cb.example",), ("alice@nordlicht.example", "bob@nordlicht.example")]
    client_mail = next(m for m in mail.outbox if "alice@nordlicht.example" in m.to)
    assert "2 overdue corrective actions" in client_mail.subject
    assert "Finding #1" in client_mail.body and "Finding #2" in client_mail.body
    assert "Finding #3" not in client_mail.body
    assert AuditEvent.objects.filter(action="audits.audit.ca_reminder_sent").count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        assert conduct.send_ca_reminder(audit=audit, today=PLAN_LATE) == []
    assert conduct.audits_to_remind(PLAN_LATE) == []
    assert len(mail.outbox) == 2

    next_day = PLAN_LATE + datetime.timedelta(days=1)
    assert conduct.audits_to_remind(next_day) == [audit.pk]
    with django_capture_on_commit_callbacks(execute=True):
        conduct.send_ca_reminder(audit=audit, today=next_day)
    assert len(mail.outbox) == 4


def test_nothing_is_sent_when_nothing_is_overdue(findings, audit):
    assert conduct.audits_to_remind(LAST_DAY) == []
    assert conduct.send_ca_reminder(audit=audit, today=LAST_DAY) == []
    assert not AuditEvent.objects.filter(action="audits.audit.ca_reminder_sent").exists()


def test_the_daily_command_sends_through_the_task(findings, audit,
                                                  django_capture_on_commit_callbacks):
    Finding.objects.filter(pk=findings["minor"].pk).update(
        plan_due=timezone.localdate() - datetime.timedelta(days=1))
    Finding.objects.filter(pk=findings["major"].pk).update(
        plan_due=timezone.localdate() + datetime.timedelta(days=5),
        verification_due=timezone.localdate() + datetime.timedelta(days=60))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("send-ca-reminders", "--now")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send-ca-reminders", "--now")

    assert len(mail.outbox) == 2
    assert all("Finding #2" in m.body and "Finding #1" not in m.body for m in mail.outbox)
