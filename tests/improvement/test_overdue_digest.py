"""The daily overdue digest: one e-mail per person, all their overdue actions, once a day."""

import datetime
from io import StringIO

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from factories import make_user

from isocert.accounts.models import Membership
from isocert.improvement.models import Action
from isocert.improvement.services import complete_action, create_action, update_action
from isocert.improvement.tasks import send_overdue_digests


def in_days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def run_digest(capture):
    with capture(execute=True):
        return send_overdue_digests.call()


@pytest.fixture
def overdue_world(nordlicht, brightpath, alice, bob, charlie):
    """Bob owns overdue actions at Nordlicht and at Brightpath (he helps there too)."""
    Membership.objects.create(organization=brightpath, user=bob, role=Membership.Role.EDITOR)
    make = create_action
    return {
        "late_1": make(organization=nordlicht, actor=alice, title="Fix the calibration register",
                       standard="ISO 9001", clause="7.1.5", owner_id=bob.pk, due_date=in_days(-3)),
        "late_2": make(organization=brightpath, actor=charlie, title="Update the cleaning rota",
                       owner_id=bob.pk, due_date=in_days(-1)),
        "due_today": make(organization=nordlicht, actor=alice, title="Due today is not overdue",
                          owner_id=bob.pk, due_date=in_days(0)),
        "alice_late": make(organization=nordlicht, actor=alice, title="Review the energy policy",
                           owner_id=alice.pk, due_date=in_days(-10)),
        "done_late": complete_action(action=make(organization=nordlicht, actor=alice,
                                                 title="Closed long ago", owner_id=alice.pk,
                                                 due_date=in_days(-30)),
            actor=alice).action,
        "no_owner": make(organization=nordlicht, actor=alice, title="Nobody's",
                         due_date=in_days(-5)),
    }


def test_one_email_per_person_lists_all_their_overdue_actions(
        overdue_world, alice, bob, django_capture_on_commit_callbacks):
    sent = run_digest(django_capture_on_commit_callbacks)

    assert sent == 2
    by_person = {m.to[0]: m for m in mail.outbox}
    assert sorted(by_person) == [alice.email, bob.email]
    bobs = by_person[bob.email]
    assert bobs.subject == f"2 overdue actions — {settings.CB_NAME}"
    assert "Fix the calibration register" in bobs.body
    assert "Nordlicht Aluminium GmbH · ISO 9001 7.1.5 · due" in bobs.body
    assert "Update the cleaning rota" in bobs.body and "Brightpath Services Ltd" in bobs.body
    assert "Due today" not in bobs.body and "Review the energy policy" not in bobs.body
    late = overdue_world["late_1"]
    assert f"{settings.SITE_URL}/actions/{late.pk}/" in bobs.body
    assert "3 days overdue" in bobs.body
    alices = by_person[alice.email]
    assert alices.subject == f"1 overdue action — {settings.CB_NAME}"
    assert "Closed long ago" not in alices.body and "Nobody's" not in alices.body
    assert Action.objects.filter(last_reminded_on=timezone.localdate()).count() == 3


def test_not_twice_the_same_day(overdue_world, django_capture_on_commit_callbacks):
    run_digest(django_capture_on_commit_callbacks)
    mail.outbox.clear()

    assert run_digest(django_capture_on_commit_callbacks) == 0
    assert mail.outbox == []


def test_again_the_next_day(overdue_world, bob, django_capture_on_commit_callbacks):
    run_digest(django_capture_on_commit_callbacks)
    Action.objects.update(last_reminded_on=in_days(-1))  # as if sent yesterday
    mail.outbox.clear()

    run_digest(django_capture_on_commit_callbacks)
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@nordlicht.example", bob.email]


def test_a_new_owner_gets_their_own_digest_the_same_day(overdue_world, alice, bob,
                                                        django_capture_on_commit_callbacks):
    run_digest(django_capture_on_commit_callbacks)
    mail.outbox.clear()
    erik = make_user("erik@nordlicht.example", "Erik")
    Membership.objects.create(organization=overdue_world["late_1"].organization, user=erik,
                              role=Membership.Role.EDITOR)
    update_action(action=overdue_world["late_1"], actor=alice, owner_id=erik.pk)

    run_digest(django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [[erik.email]]


def test_no_mail_when_nothing_is_overdue(nordlicht, alice, bob,
                                         django_capture_on_commit_callbacks):
    create_action(organization=nordlicht, actor=alice, title="Future", owner_id=bob.pk,
                  due_date=in_days(3))
    create_action(organization=nordlicht, actor=alice, title="No due date", owner_id=bob.pk)
    assert run_digest(django_capture_on_commit_callbacks) == 0
    assert mail.outbox == []


def test_the_command_sends_the_digests(overdue_world, django_capture_on_commit_callbacks):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send-overdue-digests", "--now", stdout=out)
    assert "Overdue digests sent: 2." in out.getvalue()
    assert len(mail.outbox) == 2


def test_the_command_queues_the_task_by_default(overdue_world,
                                                django_capture_on_commit_callbacks):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send-overdue-digests", stdout=out)  # immediate backend in tests
    assert "Overdue digests queued" in out.getvalue()
    assert len(mail.outbox) == 2
