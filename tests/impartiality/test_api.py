"""The impartiality API: the register, reviews, the committee and meetings; the one error
shape on every refusal, 404 for clients and staff without the capability."""

import pytest
from django.utils import timezone
from factories import client_for
from helpers.api import assert_error

from isocert.core.models import AuditEvent
from isocert.impartiality.models import CommitteeMeeting, ImpartialityRisk, RegisterReview

pytestmark = pytest.mark.django_db
BASE = "/api/v1/impartiality"


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def test_an_administrator_runs_the_register_through_the_api(ada, rita, nordlicht):
    client = client_for(ada)
    created = post(client, f"{BASE}/risks", {
        "threat": "self_interest", "source": "Fee share of Nordlicht",
        "description": "A fifth of the fees.", "likelihood": 3, "impact": 2,
        "owner_id": rita.pk, "organization_id": nordlicht.pk})
    assert created.status_code == 201, created.content
    risk = created.json()
    assert risk["reference"].startswith("IMP-") and risk["level"] == "high"
    assert risk["owner_id"] == rita.pk and risk["organization_id"] == nordlicht.pk

    assert [r["id"] for r in client.get(f"{BASE}/risks?status=open").json()] == [risk["id"]]
    assert client.get(f"{BASE}/risks?threat=advocacy").json() == []
    reviewed = post(client, f"{BASE}/risks/{risk['id']}/review",
                    {"outcome": "retired", "conclusion": "Nordlicht left the CB."})
    assert reviewed.status_code == 200
    assert reviewed.json()["status"] == "retired"
    assert reviewed.json()["reviews"][0]["outcome"] == "retired"
    assert_error(post(client, f"{BASE}/risks/{risk['id']}/review",
                      {"outcome": "open", "conclusion": "Back again."}),
                 409, "invalid_transition")

    status = client.get(f"{BASE}/register").json()
    assert status["review_due"] is True and status["last_review"] is None
    done = post(client, f"{BASE}/register/reviews", {"conclusion": "All read; fine."})
    assert done.status_code == 201
    assert client.get(f"{BASE}/register").json()["review_due"] is False
    assert len(client.get(f"{BASE}/register/reviews").json()) == 1


@pytest.mark.parametrize("body, field", [
    ({"threat": "greed"}, "threat"),
    ({"likelihood": 7}, "likelihood"),
    ({"owner_id": 987654}, "owner_id"),
    ({"organization_id": 987654}, "organization_id"),
    ({"next_review_on": "2001-01-01"}, "next_review_on"),
])
def test_a_bad_risk_answers_422_naming_the_field(ada, body, field):
    response = post(client_for(ada), f"{BASE}/risks",
                    {"threat": "advocacy", "source": "s", "description": "d"} | body)
    assert_error(response, 422, "invalid", field)
    assert not ImpartialityRisk.objects.exists()


def test_a_decision_maker_reads_and_is_refused_writes(dora, risk):
    client = client_for(dora)
    assert client.get(f"{BASE}/risks/{risk.pk}").json()["reference"] == risk.reference
    before = AuditEvent.objects.count()
    assert_error(post(client, f"{BASE}/risks", {"threat": "advocacy", "source": "s",
                                                "description": "d"}), 403, "forbidden")
    assert_error(post(client, f"{BASE}/risks/{risk.pk}/review",
                      {"outcome": "retired", "conclusion": "Dora retires it."}),
                 403, "forbidden")
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("who", ["alice", "charlie", "rita", "adam"])
def test_everyone_else_gets_404(who, request, risk, meeting, members):
    client = client_for(request.getfixturevalue(who))
    before = AuditEvent.objects.count()
    for url in (f"{BASE}/risks", f"{BASE}/risks/{risk.pk}", f"{BASE}/register",
                f"{BASE}/register/reviews", f"{BASE}/committee/members",
                f"{BASE}/committee/meetings", f"{BASE}/committee/meetings/{meeting.pk}"):
        assert_error(client.get(url), 404, "not_found")
    for url, body in ((f"{BASE}/risks", {"threat": "advocacy", "source": "s",
                                         "description": "d"}),
                      (f"{BASE}/risks/{risk.pk}/review", {"outcome": "retired",
                                                          "conclusion": "Mine now."}),
                      (f"{BASE}/register/reviews", {"conclusion": "I reviewed it."}),
                      (f"{BASE}/committee/meetings/{meeting.pk}/hold",
                       {"attendee_ids": [members[0].pk], "minutes": "x"}),
                      (f"{BASE}/committee/meetings/{meeting.pk}/approve-minutes", {})):
        assert_error(post(client, url, body), 404, "not_found")
    assert_error(client.patch(f"{BASE}/committee/members/{members[0].pk}", {"active": False},
                              content_type="application/json"), 404, "not_found")
    assert AuditEvent.objects.count() == before
    assert not RegisterReview.objects.exists()


def test_the_committee_through_the_api(ada, risk):
    client = client_for(ada)
    today = timezone.localdate().isoformat()
    ids = []
    for name, interest in (("Carla Client", "clients"), ("Kurt Kunde", "clients"),
                           ("Ralf Regulator", "regulators")):
        response = post(client, f"{BASE}/committee/members", {
            "name": name, "interest": interest, "email": f"{name[:4].lower()}@x.example",
            "appointed_on": today})
        assert response.status_code == 201
        ids.append(response.json()["id"])
    assert_error(post(client, f"{BASE}/committee/members", {
        "name": "Bad", "interest": "lobby", "email": "b@x.example", "appointed_on": today}),
        422, "invalid", "interest")
    left = client.patch(f"{BASE}/committee/members/{ids[2]}", {"active": False},
                        content_type="application/json")
    assert left.json()["active"] is False
    client.patch(f"{BASE}/committee/members/{ids[2]}", {"active": True},
                 content_type="application/json")

    meeting = post(client, f"{BASE}/committee/meetings",
                   {"date": today, "agenda": "Annual register review."}).json()
    url = f"{BASE}/committee/meetings/{meeting['id']}"
    assert_error(post(client, f"{url}/approve-minutes"), 409, "invalid_transition")
    assert_error(post(client, f"{url}/hold", {"attendee_ids": [987654]}), 422, "invalid",
                 "attendee_ids")
    held = post(client, f"{url}/hold", {"attendee_ids": ids, "minutes": "Register read.",
                                        "risk_ids": [risk.pk]})
    assert held.status_code == 200, held.content
    body = held.json()
    assert body["status"] == "held" and body["predominant_interest"] == "clients"
    assert "§6.2" in body["warnings"][0]
    assert body["risk_ids"] == [risk.pk]
    approved = post(client, f"{url}/approve-minutes")
    assert approved.json()["status"] == "minutes_approved"
    assert CommitteeMeeting.objects.get().approved_by == ada
    reviewed = post(client, f"{BASE}/register/reviews",
                    {"conclusion": "At the meeting.", "meeting_id": meeting["id"]})
    assert reviewed.json()["meeting_id"] == meeting["id"]


def test_the_openapi_document_describes_the_operations(ada):
    schema = client_for(ada).get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/impartiality/risks"]["post"]
    assert "§5.2.3" in operation["description"]
    assert "/api/v1/impartiality/committee/meetings/{meeting_id}/approve-minutes" in \
        schema["paths"]
