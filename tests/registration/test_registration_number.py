"""Registration numbers: REG-<year>-<6 digits>, unique and gap-free, even under concurrency."""

import re
import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone
from factories import PASSING_ASSESSMENT, complete_application_data

from isocert.accounts.models import User
from isocert.core.audit import verify_chain
from isocert.registration import review
from isocert.registration.models import Application
from isocert.registration.services import (
    create_application,
    record_preliminary_assessment,
    register_application,
    start_review,
    submit_application,
)


def ready_to_register(organization, client, reviewer) -> Application:
    """A submitted application under review with a passed preliminary assessment."""
    application = create_application(organization=organization, actor=client,
                                     **complete_application_data())
    submit_application(application=application, actor=client)
    start_review(application=application, actor=reviewer)
    record_preliminary_assessment(application=application, actor=reviewer, **PASSING_ASSESSMENT)
    return application


def number(year: int, seq: int) -> str:
    return f"REG-{year}-{seq:06d}"


def test_the_number_is_reg_year_and_six_digits(registered):
    year = timezone.now().year
    assert re.fullmatch(rf"REG-{year}-\d{{6}}", registered.registration_number)
    assert registered.registration_number == number(year, 1)


def test_numbers_are_consecutive_across_organizations(registered, brightpath, charlie, rita):
    second = register_application(
        application=ready_to_register(brightpath, charlie, rita), actor=rita)

    year = timezone.now().year
    assert (registered.registration_number, second.registration_number) == (
        number(year, 1), number(year, 2))


def test_a_rolled_back_registration_gives_its_number_back(under_review, nordlicht, alice, rita,
                                                          monkeypatch):
    record_preliminary_assessment(application=under_review, actor=rita, **PASSING_ASSESSMENT)

    def mail_server_exploded(**kwargs):
        raise RuntimeError("mail queue unavailable")

    # The e-mail is queued after the number is drawn: failing there rolls everything back.
    with monkeypatch.context() as patched:
        patched.setattr(review, "notify", mail_server_exploded)
        with pytest.raises(RuntimeError):
            register_application(application=under_review, actor=rita)
    under_review.refresh_from_db()
    assert (under_review.status, under_review.registration_number) == ("under_review", None)

    register_application(application=under_review, actor=rita)
    under_review.refresh_from_db()
    assert under_review.registration_number == number(timezone.now().year, 1)


def test_the_database_refuses_a_duplicate_number(registered, brightpath, charlie):
    other = create_application(organization=brightpath, actor=charlie)
    other.registration_number = registered.registration_number
    with pytest.raises(IntegrityError), transaction.atomic():
        other.save(update_fields=["registration_number"])


THREADS = 8


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="needs row locks and concurrent writers (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_get_distinct_gap_free_numbers(nordlicht, alice, rita):
    pks = [ready_to_register(nordlicht, alice, rita).pk for _ in range(THREADS)]
    start = threading.Barrier(THREADS)
    numbers: dict[int, str] = {}
    failures: list[BaseException] = []

    def register(pk: int) -> None:
        try:
            application = Application.objects.get(pk=pk)
            reviewer = User.objects.get(pk=rita.pk)
            start.wait(timeout=30)
            numbers[pk] = register_application(application=application,
                                               actor=reviewer).registration_number
        except BaseException as exc:  # reported below, with the thread's traceback lost
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(pk,)) for pk in pks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not failures, failures
    year = timezone.now().year
    assert sorted(numbers.values()) == [number(year, seq) for seq in range(1, THREADS + 1)]
    stored = dict(Application.objects.filter(pk__in=pks).values_list("pk", "registration_number"))
    assert stored == numbers
    assert verify_chain() is None
