"""The client's e-mail about an appealable decision — a refusal, a scope reduction, a
suspension, a withdrawal — states the right to appeal within ``APPEAL_WINDOW_DAYS`` and
gives the absolute link of the appeal page with the decision or certificate named
(ISO/IEC 17021-1 §9.7). A grant, a restoration and the CB's own copy say nothing of it."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from helpers.dates import shown

from isocert.certification import lifecycle
from isocert.certification import services as certification

pytestmark = pytest.mark.django_db


def _mails_to(person):
    return [message for message in mail.outbox if person.email in message.to]


def test_a_refusal_links_to_its_appeal_page(ready_cycle, decider, alice, settings,
                                            django_capture_on_commit_callbacks):
    settings.APPEAL_WINDOW_DAYS = 21
    with django_capture_on_commit_callbacks(execute=True):
        refusal = certification.decide(cycle=ready_cycle, actor=decider, kind="initial",
                                       outcome="refuse", reason="Major 8.5 not closed.")
    [notice] = _mails_to(alice)
    link = settings.SITE_URL + reverse("appeal_decision", args=[refusal.pk])
    assert link in notice.body
    deadline = refusal.decision_date + datetime.timedelta(days=21)
    assert f"within 21 days, until {shown(deadline)}" in notice.body
    assert "§9.7" in notice.body


def test_a_grant_has_no_appeal_paragraph(ready_cycle, decider, alice,
                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        certification.decide(cycle=ready_cycle, actor=decider, kind="initial",
                             outcome="grant")
    [notice] = _mails_to(alice)
    assert "appeal" not in notice.body.lower()


@pytest.mark.parametrize("change", ["suspend", "withdraw"])
def test_a_suspension_or_withdrawal_links_to_the_certificate_appeal(
        change, certificate, decider, alice, settings, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        getattr(lifecycle, f"{change}_certificate")(certificate=certificate, actor=decider,
                                                    reason="Surveillance refused.")
    [notice] = _mails_to(alice)
    link = settings.SITE_URL + reverse("appeal_certificate", args=[certificate.pk])
    assert link in notice.body
    assert f"within {settings.APPEAL_WINDOW_DAYS} days" in notice.body
    # The CB's own copy of the news carries no appeal paragraph.
    staff_copies = [m for m in mail.outbox if decider.email in m.to]
    assert staff_copies and all(link not in m.body for m in staff_copies)


def test_a_restoration_has_no_appeal_paragraph(certificate, decider, alice,
                                               django_capture_on_commit_callbacks):
    lifecycle.suspend_certificate(certificate=certificate, actor=decider, reason="Overdue.")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.restore_certificate(certificate=certificate, actor=decider,
                                      reason="Surveillance held.")
    [notice] = _mails_to(alice)
    assert "appeal" not in notice.body.lower()


def test_the_linked_page_names_the_decision(ready_cycle, decider, alice, client):
    refusal = certification.decide(cycle=ready_cycle, actor=decider, kind="initial",
                                   outcome="refuse", reason="Major 8.5 not closed.")
    client.force_login(alice)
    page = client.get(reverse("appeal_decision", args=[refusal.pk]))
    assert page.status_code == 200
    assert "Refusal of certification" in page.content.decode()
