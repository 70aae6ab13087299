"""The register's periodic review (ISO/IEC 17021-1 §5.2.3, ``IMPARTIALITY_REVIEW_MONTHS``):
when it falls due, the dashboard says so and the daily run e-mails the administrators once;
risks whose own review date has come are listed too."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone
from factories import client_for

from isocert.accounts.services import end_client_relationship
from isocert.certification.lifecycle import daily_run
from isocert.core.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent
from isocert.impartiality import committee, services
from isocert.impartiality.models import RegisterReview, RegisterReviewNotice

pytestmark = pytest.mark.django_db


def test_an_empty_register_is_never_due():
    assert services.register_due_on() is None
    assert daily_run(today=timezone.localdate())["impartiality_register_review_due"] == 0


def test_a_register_never_reviewed_is_due_once_it_holds_a_risk(risk):
    assert services.register_due_on() == timezone.localdate()


def test_a_review_makes_the_next_due_an_interval_later(risk, ada, settings):
    settings.IMPARTIALITY_REVIEW_MONTHS = 6
    reviewed_on = datetime.date(2026, 8, 31)
    if reviewed_on > timezone.localdate():
        reviewed_on = timezone.localdate()
    review = services.review_register(actor=ada, reviewed_on=reviewed_on,
                                      conclusion="All risks read; safeguards hold.")
    assert review.open_risks == 1
    assert services.register_due_on() == services.add_months(reviewed_on, 6)
    event = AuditEvent.objects.get(action="impartiality.register.reviewed")
    assert event.payload["next_due_on"] == services.add_months(reviewed_on, 6).isoformat()


def test_months_are_added_to_the_end_of_a_shorter_month():
    assert services.add_months(datetime.date(2026, 8, 31), 6) == datetime.date(2027, 2, 28)
    assert services.add_months(datetime.date(2027, 12, 15), 12) == datetime.date(2028, 12, 15)


def test_the_daily_run_tells_the_administrators_once(risk, ada, dora,
                                                     django_capture_on_commit_callbacks):
    today = timezone.localdate()
    due = [m for m in mail.outbox if "register review due" in m.subject]
    assert due == []
    with django_capture_on_commit_callbacks(execute=True):
        summary = daily_run(today=today)
    assert summary["impartiality_register_review_due"] == 1
    due = [m for m in mail.outbox if m.subject == "Impartiality register review due"]
    assert len(due) == 1 and due[0].to == [ada.email]
    assert RegisterReviewNotice.objects.get().due_on == today
    assert AuditEvent.objects.filter(action="impartiality.register.review_due").count() == 1

    mail.outbox.clear()
    later = today + datetime.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        summary = daily_run(today=later)
    assert summary["impartiality_register_review_due"] == 0
    assert not [m for m in mail.outbox if "mpartiality" in m.subject]


def test_after_a_review_the_next_due_date_is_told_again(risk, ada,
                                                        django_capture_on_commit_callbacks):
    today = timezone.localdate()
    daily_run(today=today)
    services.review_register(actor=ada, conclusion="Reviewed with the committee chair.")
    assert daily_run(today=today)["impartiality_register_review_due"] == 0
    next_due = services.add_months(today, 12)
    with django_capture_on_commit_callbacks(execute=True):
        assert daily_run(today=next_due)["impartiality_register_review_due"] == 1


def test_a_risk_due_for_review_is_told_once_per_date(risk, ada,
                                                     django_capture_on_commit_callbacks):
    services.review_register(actor=ada, conclusion="Register reviewed today.")
    due_day = risk.next_review_on
    with django_capture_on_commit_callbacks(execute=True):
        summary = daily_run(today=due_day - datetime.timedelta(days=1))
    assert summary["impartiality_risks_due"] == 0
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        summary = daily_run(today=due_day)
    assert summary["impartiality_risks_due"] == 1
    [message] = [m for m in mail.outbox if "mpartiality" in m.subject]
    assert risk.reference in message.body and message.to == [ada.email]
    assert daily_run(today=due_day + datetime.timedelta(days=1))["impartiality_risks_due"] == 0


def test_the_dashboard_shows_the_review_due_to_administrators_only(risk, ada, dora, alice,
                                                                   nordlicht):
    page = client_for(ada).get("/dashboard/").content.decode()
    assert "Impartiality register review due" in page
    for someone in (dora, alice):
        assert "Impartiality register review due" not in \
            client_for(someone).get("/dashboard/").content.decode()
    services.review_register(actor=ada, conclusion="Reviewed: safeguards hold.")
    page = client_for(ada).get("/dashboard/").content.decode()
    assert "Impartiality register review due" not in page
    assert "Next register review due" in page


def test_a_risk_past_its_date_shows_on_the_dashboard(relationship, ada, adam):
    end_client_relationship(relationship=relationship, end_date=timezone.localdate(),
                            actor=adam)
    page = client_for(ada).get("/dashboard/").content.decode()
    assert "Risks due for review" in page and "relationship ended" in page


def test_a_review_at_a_planned_meeting_is_refused(risk, ada, meeting):
    before = (RegisterReview.objects.count(), AuditEvent.objects.count())
    with pytest.raises(TransitionNotAllowed):
        services.review_register(actor=ada, conclusion="At the meeting.", meeting=meeting)
    assert (RegisterReview.objects.count(), AuditEvent.objects.count()) == before


def test_a_review_at_a_held_meeting_names_it(risk, ada, meeting, members):
    committee.hold_meeting(meeting=meeting, actor=ada, attendees=members,
                           minutes="Register read item by item.")
    review = services.review_register(actor=ada, conclusion="Reviewed by the committee.",
                                      meeting=meeting)
    assert review.meeting == meeting


@pytest.mark.parametrize("values, field", [
    ({"conclusion": ""}, "conclusion"),
    ({"reviewed_on": "2999-12-31"}, "reviewed_on"),
])
def test_a_bad_register_review_is_refused(risk, ada, values, field):
    before = (RegisterReview.objects.count(), AuditEvent.objects.count())
    with pytest.raises(InvalidInput) as refused:
        services.review_register(actor=ada, **({"conclusion": "All read."} | values))
    assert field in refused.value.fields
    assert (RegisterReview.objects.count(), AuditEvent.objects.count()) == before


def test_only_administrators_review_the_register(risk, dora):
    with pytest.raises(NotPermitted):
        services.review_register(actor=dora, conclusion="I read it.")
    assert not RegisterReview.objects.exists()
