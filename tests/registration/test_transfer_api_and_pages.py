"""The transfer's API and pages (IAF MD 2): Rita reviews and concludes, Dora issues; the
error shape names the field; Charlie sees nothing; a client reads but does not review."""

import json

import pytest
from helpers.api import assert_error
from transfer_helpers import ALL_CHECKS, PREVIOUS_NUMBER, accepted_transfer, transfer_application

from isocert.certification.models import Certificate
from isocert.registration.models import TransferReview


@pytest.fixture
def transfer(nordlicht, alice, rita):
    return transfer_application(nordlicht, alice, rita)


def put(client, url, body):
    return client.put(url, json.dumps(body), content_type="application/json")


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_rita_reviews_and_accepts_dora_issues_through_the_api(transfer, rita, dora, alice,
                                                              api_client):
    base = f"/api/v1/applications/{transfer.pk}/transfer-review"
    assert_error(api_client(rita).get(base), 404, "not_found")
    answer = put(api_client(rita), base, {**ALL_CHECKS, "not_suspended": False})
    assert answer.status_code == 200, answer.content
    assert answer.json()["passed"] is False and answer.json()["status"] == "open"

    refused = post(api_client(rita), base + "/accept", {"reasons": "All fine."})
    error = assert_error(refused, 409, "conflict", "accept")
    assert "suspended" in error["message"]

    put(api_client(rita), base, ALL_CHECKS)
    accepted = post(api_client(rita), base + "/accept", {"reasons": "All checks confirmed."})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert api_client(alice).get(base).json()["status"] == "accepted"   # the client reads it

    issued = post(api_client(dora), f"/api/v1/transfers/{transfer.pk}/issue", {})
    assert issued.status_code == 201, issued.content
    body = issued.json()
    assert body["kind"] == "transfer" and body["certificate_number"]
    certificate = Certificate.objects.get(number=body["certificate_number"])
    assert certificate.expiry_date == transfer.current_certificate_expiry
    application = api_client(alice).get(f"/api/v1/applications/{transfer.pk}").json()
    assert application["current_cycle_stage"] == "surveillance1"
    assert application["current_certificate_number"] == PREVIOUS_NUMBER


def test_refusals_answer_the_error_shape(transfer, rita, alice, dora, api_client):
    base = f"/api/v1/applications/{transfer.pk}/transfer-review"
    assert_error(put(api_client(rita), base, {**ALL_CHECKS, "visit": "perhaps"}), 422,
                 "invalid", "visit")
    assert_error(put(api_client(alice), base, ALL_CHECKS), 403, "forbidden")
    assert_error(post(api_client(rita), base + "/refuse", {"reasons": ""}), 422,
                 "invalid", "reasons")
    assert_error(post(api_client(dora), f"/api/v1/transfers/{transfer.pk}/issue", {}), 404,
                 "not_found")   # no review yet
    put(api_client(rita), base, ALL_CHECKS)
    assert_error(post(api_client(dora), f"/api/v1/transfers/{transfer.pk}/issue", {}), 409,
                 "invalid_transition")   # the review is still open
    assert_error(post(api_client(alice), f"/api/v1/transfers/{transfer.pk}/issue", {}), 404,
                 "not_found")
    assert not Certificate.objects.exists()


def test_charlie_sees_nothing(transfer, rita, charlie, api_client):
    accepted_transfer(transfer, rita)
    client = api_client(charlie)
    base = f"/api/v1/applications/{transfer.pk}/transfer-review"
    assert_error(client.get(base), 404, "not_found")
    assert_error(put(client, base, ALL_CHECKS), 404, "not_found")
    assert_error(post(client, f"/api/v1/transfers/{transfer.pk}/issue", {}), 404, "not_found")
    assert client.get(f"/cb/transfers/{transfer.pk}/").status_code == 404


def test_the_pages_review_conclude_and_issue(transfer, rita, dora, api_client):
    rita_client = api_client(rita)
    page = rita_client.get(f"/review/{transfer.pk}/")
    assert b"Pre-transfer review (IAF MD 2)" in page.content

    form = dict.fromkeys(ALL_CHECKS, "on") | {"visit": "not_needed"}
    rita_client.post(f"/review/{transfer.pk}/transfer/", form)
    assert TransferReview.objects.get().passed
    rita_client.post(f"/review/{transfer.pk}/transfer/conclude/",
                     {"decision": "accept", "reasons": "Every check confirmed."})
    assert TransferReview.objects.get().status == TransferReview.Status.ACCEPTED

    dora_client = api_client(dora)
    queue = dora_client.get("/cb/decisions/")
    assert PREVIOUS_NUMBER.encode() in queue.content
    issued = dora_client.post(f"/cb/transfers/{transfer.pk}/", {})
    certificate = Certificate.objects.get()
    assert issued.status_code == 302 and issued["Location"] == f"/certificates/{certificate.pk}/"
    detail = dora_client.get(issued["Location"])
    assert b"Hanse Zertifizierung GmbH" in detail.content


def test_the_page_shows_a_refused_acceptance(transfer, rita, api_client):
    client = api_client(rita)
    client.post(f"/review/{transfer.pk}/transfer/", {"visit": "not_needed"})
    answer = client.post(f"/review/{transfer.pk}/transfer/conclude/",
                         {"decision": "accept", "reasons": "Looks fine."}, follow=True)
    assert b"cannot be accepted" in answer.content
    assert TransferReview.objects.get().status == TransferReview.Status.OPEN
