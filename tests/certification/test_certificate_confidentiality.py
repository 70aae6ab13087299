"""A certificate marked confidential (IAF MD 28) or public again: who may, what is recorded,
what the public sees, and the API's answers."""

import pytest
from certification_helpers import DECIDED, decision_ready_cycle
from django.test import Client
from helpers.api import assert_error
from registry_helpers import clear_public_state

from isocert.certification.lifecycle import set_certificate_confidentiality
from isocert.certification.services import decide
from isocert.core.errors import InvalidInput, NotPermitted
from isocert.core.models import AuditEvent


@pytest.fixture
def certificate(nordlicht, alice, rita, adam, dora):
    cycle = decision_ready_cycle(nordlicht, alice, rita, adam)
    return decide(cycle=cycle, actor=dora, kind="initial", outcome="grant",
                  decision_date=DECIDED).certificate


@pytest.fixture(autouse=True)
def _fresh_public_state():
    clear_public_state()
    yield
    clear_public_state()


def directory_numbers() -> list[str]:
    answer = Client().get("/api/v1/public/certificates", {"q": "Nordlicht"})
    return [c["certificate_number"] for c in answer.json()["items"]]


def test_dora_hides_a_certificate_from_the_directory_but_not_from_verification(
        certificate, dora, django_capture_on_commit_callbacks):
    assert directory_numbers() == [certificate.number]  # cached now

    with django_capture_on_commit_callbacks(execute=True):
        changed = set_certificate_confidentiality(
            certificate=certificate, confidential=True, actor=dora,
            reason="The client asked to be left out of the directory.")

    assert changed.confidential is True
    assert directory_numbers() == []
    assert Client().get(f"/api/v1/public/certificates/{certificate.number}").status_code == 200
    event = AuditEvent.objects.get(action="certification.certificate.confidentiality_changed")
    assert event.actor == dora
    assert event.payload["confidential"] is True
    assert event.payload["reason"] == "The client asked to be left out of the directory."


def test_setting_the_flag_it_has_records_nothing(certificate, dora):
    set_certificate_confidentiality(certificate=certificate, confidential=False, actor=dora,
                                    reason="Nothing to change here.")

    assert not AuditEvent.objects.filter(
        action="certification.certificate.confidentiality_changed").exists()


def test_alice_and_rita_may_not_change_it_and_a_reason_is_required(certificate, alice, rita,
                                                                    dora):
    for actor in (alice, rita):
        with pytest.raises(NotPermitted):
            set_certificate_confidentiality(certificate=certificate, confidential=True,
                                            actor=actor, reason="Please hide us.")
    with pytest.raises(InvalidInput) as refused:
        set_certificate_confidentiality(certificate=certificate, confidential=True,
                                        actor=dora, reason=" ")

    assert refused.value.fields == {"reason": "Give the reason (at least 5 characters)."}
    certificate.refresh_from_db()
    assert certificate.confidential is False


def test_the_api_changes_it_and_answers_the_error_shape(certificate, dora, alice, charlie,
                                                        api_client):
    url = f"/api/v1/certificates/{certificate.pk}/confidentiality"

    def post(user, body):
        return api_client(user).post(url, body, content_type="application/json")

    done = post(dora, {"confidential": True, "reason": "Client request, IAF MD 28."})
    assert done.status_code == 200
    assert done.json()["confidential"] is True
    assert api_client(dora).get(f"/api/v1/certificates/{certificate.pk}").json()[
        "confidential"] is True
    assert_error(post(dora, {"confidential": False, "reason": ""}), 422, "invalid",
                 "reason")
    assert_error(post(alice, {"confidential": False, "reason": "Show us again."}), 403,
                 "forbidden")
    assert post(charlie, {"confidential": False, "reason": "Show them."}).status_code == 404
    certificate.refresh_from_db()
    assert certificate.confidential is True
