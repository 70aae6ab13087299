"""Invitations are e-mails from the CB's address to any address a client types in: they are
limited per inviting user and per organization, and carry no client text in the subject."""

import datetime

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.utils import timezone
from factories import client_for

from isocert.accounts.models import Invitation, Membership
from isocert.accounts.services import RateLimited, invite_member, update_organization
from isocert.core.errors import NotPermitted
from isocert.core.models import AuditEvent


def invite_many(organization, actor, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        invite_member(organization=organization, actor=actor, email=f"person{n}@example.com",
                      role="viewer")


@pytest.fixture
def limits(settings):
    settings.INVITATIONS_PER_USER_PER_DAY = 3
    settings.INVITATIONS_PER_ORGANIZATION_PER_DAY = 5
    return settings


def test_an_owner_is_refused_past_the_daily_limit_per_user(limits, nordlicht, alice):
    invite_many(nordlicht, alice, 3)
    events = AuditEvent.objects.count()

    with pytest.raises(RateLimited) as excinfo:
        invite_member(organization=nordlicht, actor=alice, email="one-more@example.com",
                      role="viewer")

    assert excinfo.value.status == 429 and excinfo.value.code == "rate_limited"
    assert "3 invitations in the last 24 hours" in excinfo.value.message
    assert Invitation.objects.count() == 3
    assert AuditEvent.objects.count() == events


def test_the_user_limit_counts_every_organization_of_the_inviter(limits, nordlicht, alice):
    from isocert.accounts.services import create_organization

    second = create_organization(actor=alice, legal_name="Nordlicht Süd GmbH", country="AT",
                                 registered_address="Ring 1")
    invite_many(nordlicht, alice, 2)
    invite_many(second, alice, 1, start=10)

    with pytest.raises(RateLimited):
        invite_member(organization=second, actor=alice, email="x@example.com", role="viewer")


def test_the_organization_limit_counts_every_owner(limits, nordlicht, alice, bob):
    Membership.objects.filter(organization=nordlicht, user=bob).update(role="owner")
    invite_many(nordlicht, alice, 3)
    invite_many(nordlicht, bob, 2, start=10)

    with pytest.raises(RateLimited) as excinfo:
        invite_member(organization=nordlicht, actor=bob, email="x@example.com", role="viewer")

    assert "This organization has sent 5 invitations" in excinfo.value.message
    assert Invitation.objects.count() == 5


def test_invitations_older_than_a_day_no_longer_count(limits, nordlicht, alice):
    invite_many(nordlicht, alice, 3)
    Invitation.objects.update(created_at=timezone.now() - datetime.timedelta(hours=24, seconds=1))

    invite_member(organization=nordlicht, actor=alice, email="x@example.com", role="viewer")

    assert Invitation.objects.count() == 4


def test_the_defaults_are_20_per_user_and_50_per_organization():
    assert settings.INVITATIONS_PER_USER_PER_DAY == 20
    assert settings.INVITATIONS_PER_ORGANIZATION_PER_DAY == 50


def test_the_members_page_shows_the_limit_as_a_form_error(limits, nordlicht, alice):
    invite_many(nordlicht, alice, 3)

    response = client_for(alice).post(f"/organizations/{nordlicht.pk}/members/",
                                      {"email": "x@example.com", "role": "viewer"})

    assert response.status_code == 200
    assert "3 invitations in the last 24 hours" in response.content.decode()
    assert Invitation.objects.count() == 3


def test_the_api_answers_429_with_the_error_shape(limits, nordlicht, alice):
    invite_many(nordlicht, alice, 3)

    response = client_for(alice).post(f"/api/v1/organizations/{nordlicht.pk}/invitations",
                                      {"email": "x@example.com", "role": "viewer"},
                                      content_type="application/json")

    assert response.status_code == 429, response.content
    error = response.json()["error"]
    assert error["code"] == "rate_limited" and "24 hours" in error["message"]
    assert Invitation.objects.count() == 3


def test_an_inviter_whose_address_is_unconfirmed_is_refused(nordlicht, alice):
    EmailAddress.objects.filter(user=alice).update(verified=False)

    with pytest.raises(NotPermitted):
        invite_member(organization=nordlicht, actor=alice, email="x@example.com", role="viewer")

    assert not Invitation.objects.exists()


# --- what the e-mail says ---------------------------------------------------------------------

PHISHING_NAME = ("Your account is locked\nVerify now at https://evil.example/login\r\n"
                 "Bcc: victim@example.com")


def sent_invitation(organization, actor, capture):
    mail.outbox.clear()
    with capture(execute=True):
        invite_member(organization=organization, actor=actor, email="dave@example.com",
                      role="editor")
    (message,) = mail.outbox
    return message


def test_the_subject_holds_no_client_text_whatever_the_name(nordlicht, alice,
                                                           django_capture_on_commit_callbacks):
    update_organization(organization=nordlicht, actor=alice, trading_name=PHISHING_NAME)
    alice.full_name = "Support Team https://evil.example"
    alice.save(update_fields=["full_name"])

    message = sent_invitation(nordlicht, alice, django_capture_on_commit_callbacks)

    assert message.subject == (
        f"[isocert] You are invited to join an organization on {settings.CB_NAME}")
    assert message.to == ["dave@example.com"] and not message.bcc
    assert "evil" not in message.subject and "Support Team" not in message.body


def test_the_body_quotes_the_name_on_one_line_and_names_the_verified_inviter(
        nordlicht, alice, django_capture_on_commit_callbacks):
    update_organization(organization=nordlicht, actor=alice, trading_name=PHISHING_NAME)

    message = sent_invitation(nordlicht, alice, django_capture_on_commit_callbacks)

    flattened = " ".join(PHISHING_NAME.split())
    assert f'    "{flattened}"\n' in message.body
    assert "\nVerify now" not in message.body and "\nBcc:" not in message.body
    assert "alice@nordlicht.example invites you" in message.body
    assert "not checked it" in message.body
