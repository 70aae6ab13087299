"""The client who asked for a transfer reads the pre-transfer review (IAF MD 2 §2.2) on its
application page: the status, each check's result, the visit, the conclusion and its
reasons — not the CB's working notes. Charlie sees nothing of it."""

import json

import pytest
from transfer_helpers import ALL_CHECKS, transfer_application

from isocert.registration import services as registration

pytestmark = pytest.mark.django_db
NOTES = "Internal: phoned Hanse's office, the file clerk was unhelpful."
REASONS = "The accreditation could not be confirmed with the accreditation body."
FINDINGS = "Production visited: no open nonconformity observed."


@pytest.fixture
def transfer(nordlicht, alice, rita):
    return transfer_application(nordlicht, alice, rita)


@pytest.fixture
def reviewed(transfer, rita):
    registration.record_transfer_review(
        application=transfer, actor=rita, **{**ALL_CHECKS, "accredited_by_mla_signatory": False},
        visit="satisfactory", visit_date=transfer.created_at.date(), visit_findings=FINDINGS,
        notes=NOTES)
    return transfer


def _page(client, application) -> str:
    response = client.get(f"/applications/{application.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_before_the_review_the_client_sees_it_is_not_reviewed_yet(transfer, alice, client):
    client.force_login(alice)
    page = _page(client, transfer)
    assert "Transfer of your certification (IAF MD 2)" in page and "Not reviewed yet" in page


def test_the_client_reads_the_checks_and_visit_but_not_the_notes(reviewed, alice, bob, client):
    for person in (alice, bob):
        client.force_login(person)
        page = _page(client, reviewed)
        assert "Under review" in page
        assert "✗ not confirmed" in page and "✓ confirmed" in page
        assert "Accredited by an IAF MLA signatory" in page
        assert FINDINGS in page
        assert NOTES not in page


def test_the_conclusion_and_its_reasons_are_shown(reviewed, rita, alice, client):
    registration.conclude_transfer_review(application=reviewed, actor=rita, accept=False,
                                          reasons=REASONS)
    client.force_login(alice)
    page = _page(client, reviewed)
    assert "Transfer refused (new initial certification)" in page
    assert REASONS in page and "new initial certification" in page
    assert NOTES not in page


def test_the_api_hides_the_notes_from_the_client_only(reviewed, alice, rita, api_client):
    base = f"/api/v1/applications/{reviewed.pk}/transfer-review"
    client_view = api_client(alice).get(base).json()
    assert client_view["notes"] is None
    assert {row["key"]: row["ok"] for row in client_view["checks"]}[
        "accredited_by_mla_signatory"] is False
    assert client_view["visit_findings"] == FINDINGS
    assert api_client(rita).get(base).json()["notes"] == NOTES
    answer = api_client(rita).put(base, json.dumps({**ALL_CHECKS, "notes": NOTES}),
                                  content_type="application/json")
    assert answer.json()["notes"] == NOTES


def test_charlie_gets_404(reviewed, charlie, client, api_client):
    client.force_login(charlie)
    assert client.get(f"/applications/{reviewed.pk}/").status_code == 404
    response = api_client(charlie).get(f"/api/v1/applications/{reviewed.pk}/transfer-review")
    assert response.status_code == 404
    assert NOTES not in response.content.decode()
