"""E-mails of the application lifecycle: queued on commit, sent to the right people."""

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from factories import PASSING_ASSESSMENT, make_user

from isocert.core.errors import NotPermitted
from isocert.registration.services import (
    decline_application,
    record_preliminary_assessment,
    register_application,
    request_information,
    resubmit_application,
    start_review,
    submit_application,
)


def only_message():
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    return mail.outbox[0]


def test_reviewers_are_told_of_a_submission(draft, alice, rita, adam,
                                            django_capture_on_commit_callbacks):
    rick = make_user("rick@cb.example", "Rick Reviewer", roles=["reviewer"])
    retired = make_user("rolf@cb.example", "Rolf Retired", roles=["reviewer"])
    retired.is_active = False
    retired.save()

    with django_capture_on_commit_callbacks(execute=True):
        submit_application(application=draft, actor=alice)

    message = only_message()
    assert sorted(message.to) == [rick.email, rita.email]  # not Adam, not the inactive reviewer
    assert message.subject == f"Application {draft.reference} submitted by Nordlicht Aluminium GmbH"
    assert "for ISO 50001:2018" in message.body
    assert f"{settings.SITE_URL}/applications/{draft.pk}/" in message.body


def test_nothing_is_sent_before_the_transaction_commits(draft, alice, rita,
                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submit_application(application=draft, actor=alice)

    assert len(callbacks) == 1
    assert mail.outbox == []
    callbacks[0]()  # what the commit would run
    assert only_message().to == [rita.email]


def test_nothing_is_sent_when_the_transition_is_rolled_back(draft, alice, rita,
                                                            django_capture_on_commit_callbacks):
    with (django_capture_on_commit_callbacks(execute=True) as callbacks,
          pytest.raises(ZeroDivisionError), transaction.atomic()):
        submit_application(application=draft, actor=alice)
        1 / 0  # noqa: B018 - whatever fails after the service, in the same transaction

    assert callbacks == []
    assert mail.outbox == []
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_nothing_is_sent_when_the_transition_is_refused(draft, rita,
                                                        django_capture_on_commit_callbacks):
    with (django_capture_on_commit_callbacks(execute=True) as callbacks,
          pytest.raises(NotPermitted)):
        submit_application(application=draft, actor=rita)

    assert callbacks == []
    assert mail.outbox == []


def test_the_client_is_told_information_is_requested(under_review, rita, alice, bob, vera,
                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request_information(application=under_review, actor=rita,
                            message="Please send your energy review & baseline.")

    message = only_message()
    assert sorted(message.to) == [alice.email, bob.email]  # owners and editors, not viewers
    assert message.subject == f"Application {under_review.reference}: more information needed"
    assert "Please send your energy review & baseline." in message.body  # not HTML-escaped
    assert f"{settings.SITE_URL}/applications/{under_review.pk}/" in message.body


def test_the_assigned_reviewer_alone_hears_of_a_resubmission(under_review, rita, alice,
                                                             django_capture_on_commit_callbacks):
    make_user("rick@cb.example", "Rick Reviewer", roles=["reviewer"])
    request_information(application=under_review, actor=rita, message="Energy review?")

    with django_capture_on_commit_callbacks(execute=True):
        resubmit_application(application=under_review, actor=alice, response="Attached.")

    message = only_message()
    assert message.to == [rita.email]
    assert message.subject == (
        f"Application {under_review.reference} resubmitted by Nordlicht Aluminium GmbH")
    assert "Attached." in message.body


def test_the_client_is_told_the_registration_number(under_review, rita, alice, bob,
                                                    django_capture_on_commit_callbacks):
    record_preliminary_assessment(application=under_review, actor=rita, **PASSING_ASSESSMENT)

    with django_capture_on_commit_callbacks(execute=True):
        registered = register_application(application=under_review, actor=rita)

    message = only_message()
    number = registered.registration_number
    assert number.startswith("REG-")
    assert sorted(message.to) == [alice.email, bob.email]
    assert message.subject == f"Nordlicht Aluminium GmbH is registered: {number}"
    assert f"Registration number: {number}" in message.body
    assert "Registration is not certification" in message.body


def test_the_client_is_told_why_it_was_declined(under_review, rita, alice, bob,
                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        decline_application(application=under_review, actor=rita,
                            reason="We are not accredited for this sector.")

    message = only_message()
    assert sorted(message.to) == [alice.email, bob.email]
    assert message.subject == f"Application {under_review.reference} declined"
    assert "Reason: We are not accredited for this sector." in message.body


def test_starting_a_review_sends_nothing(submitted, rita, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        start_review(application=submitted, actor=rita)

    assert callbacks == []
    assert mail.outbox == []
