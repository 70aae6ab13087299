"""The certification API: the checklist, decisions, certificates and their lifecycle —
round trips, who may do what, and the error shape of refusals."""

import datetime

import pytest
from certification_helpers import DECIDED, decision_ready_cycle
from django.utils import timezone

from isocert.certification import services
from isocert.certification.models import Certificate, CertificationDecision

NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


@pytest.fixture
def cycle(nordlicht, alice, rita, adam):
    return decision_ready_cycle(nordlicht, alice, rita, adam, findings=("minor",))


@pytest.fixture
def certificate(cycle, dora):
    return services.decide(cycle=cycle, actor=dora, kind="initial", outcome="grant",
                           decision_date=DECIDED).certificate


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


def test_dora_reads_the_checklist_and_grants(cycle, dora, alice, api_client):
    client = api_client(dora)

    checklist = client.get(f"/api/v1/cycles/{cycle.pk}/decision-checklist")
    assert checklist.status_code == 200
    body = checklist.json()
    assert body["kind"] == "initial" and body["ready"] is True
    assert body["independence_problems"] == []
    assert body["audit_id"] == cycle.audits.get(kind="stage2").pk
    assert {c["key"] for c in body["checks"]} >= {"report", "majors_closed", "minors_planned",
                                                 "no_certificate"}
    reduction = client.get(f"/api/v1/cycles/{cycle.pk}/decision-checklist?kind=scope_reduction")
    assert reduction.json()["ready"] is False and reduction.json()["audit_id"] is None

    created = post(client, f"/api/v1/cycles/{cycle.pk}/decisions", {
        "kind": "initial", "outcome": "grant", "decision_date": DECIDED.isoformat(),
        "scope": "Die casting of aluminium parts."})
    assert created.status_code == 201
    decision = created.json()
    assert decision["outcome"] == "grant" and decision["decided_by"] == "Dora Decider"
    assert decision["certificate_number"] == "ISO9001-2026-000001"
    assert all(c["ok"] for c in decision["checks"])

    for user in (dora, alice):
        again = api_client(user).get(f"/api/v1/decisions/{decision['id']}")
        assert again.status_code == 200 and again.json() == decision

    detail = client.get(f"/api/v1/certificates/{decision['certificate_id']}").json()
    assert detail["number"] == "ISO9001-2026-000001" and detail["status"] == "Active"
    assert detail["standards"] == ["ISO 9001:2015"]
    assert detail["expiry_date"] == "2029-04-01" and detail["decision_date"] == "2026-04-01"
    assert detail["allowed_actions"] == ["suspend", "withdraw"]
    assert [r["revision"] for r in detail["revisions"]] == [1]
    assert detail["revisions"][0]["has_pdf"] is False
    assert detail["revisions"][0]["qr_url"].startswith("http")
    assert [(h["status"], h["reason"]) for h in detail["status_history"]] == [
        ("Active", "Certification granted")]
    assert [s["kind"] for s in detail["surveillance"]] == [
        "surveillance1", "surveillance2", "recertification"]
    assert {s["name"] for s in detail["sites"]} == {"Bremen head office", "Oldenburg plant"}
    assert detail["verify_url"] == f"/verify/{detail['public_code']}"


def test_refusals_answer_the_error_shape(cycle, dora, rita, api_client):
    url = f"/api/v1/cycles/{cycle.pk}/decisions"

    no_reason = post(api_client(dora), url, {"kind": "initial", "outcome": "refuse"})
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["code"] == "invalid"
    assert "reason" in no_reason.json()["error"]["fields"]

    future = post(api_client(dora), url, {
        "kind": "initial", "outcome": "grant",
        "decision_date": (timezone.localdate() + datetime.timedelta(days=1)).isoformat()})
    assert future.status_code == 422 and "decision_date" in future.json()["error"]["fields"]

    bad_date = post(api_client(dora), url, {"kind": "initial", "outcome": "grant",
                                            "decision_date": "yesterday"})
    assert bad_date.status_code == 422 and "decision_date" in bad_date.json()["error"]["fields"]

    unknown = api_client(dora).get(f"/api/v1/cycles/{cycle.pk}/decision-checklist?kind=x")
    assert unknown.status_code == 422 and "kind" in unknown.json()["error"]["fields"]

    reviewer = post(api_client(rita), url, {"kind": "initial", "outcome": "grant"})
    assert reviewer.status_code == 403 and reviewer.json()["error"]["code"] == "forbidden"
    assert not CertificationDecision.objects.exists()


def test_a_grant_with_open_items_is_a_conflict_naming_them(nordlicht, alice, rita, adam, dora,
                                                          api_client):
    cycle = decision_ready_cycle(nordlicht, alice, rita, adam, findings=("minor",),
                                 verify=False)
    response = post(api_client(dora), f"/api/v1/cycles/{cycle.pk}/decisions",
                    {"kind": "initial", "outcome": "grant", "decision_date": "2026-04-01"})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "decision_inputs_missing"
    assert list(error["fields"]) == ["minors_planned"]
    assert not Certificate.objects.exists()


@pytest.mark.parametrize("who", ["alice", "charlie", "adam"])
def test_clients_and_auditors_cannot_reach_the_decision(cycle, who, request, api_client):
    client = api_client(request.getfixturevalue(who))
    for response in (client.get(f"/api/v1/cycles/{cycle.pk}/decision-checklist"),
                     post(client, f"/api/v1/cycles/{cycle.pk}/decisions",
                          {"kind": "initial", "outcome": "grant"})):
        assert response.status_code == 404 and response.json() == NOT_FOUND
    assert not CertificationDecision.objects.exists()


def test_the_users_certificates(certificate, alice, charlie, dora, adam, api_client):
    assert [c["number"] for c in api_client(alice).get("/api/v1/certificates").json()] == [
        certificate.number]
    assert api_client(charlie).get("/api/v1/certificates").json() == []
    assert api_client(adam).get("/api/v1/certificates").json() == []
    staff = api_client(dora)
    assert [c["id"] for c in staff.get("/api/v1/certificates?status=Active").json()] == [
        certificate.pk]
    assert staff.get("/api/v1/certificates?status=Suspended").json() == []

    for user in (charlie, adam):
        client = api_client(user)
        for url in (f"/api/v1/certificates/{certificate.pk}",
                    f"/api/v1/certificates/revisions/{certificate.revisions.get().pk}/pdf",
                    f"/api/v1/decisions/{certificate.decisions.get().pk}"):
            response = client.get(url)
            assert response.status_code == 404 and response.json() == NOT_FOUND, url


def test_the_lifecycle_round_trip(certificate, dora, api_client):
    client = api_client(dora)
    base = f"/api/v1/certificates/{certificate.pk}"
    until = timezone.localdate() + datetime.timedelta(days=90)

    suspended = post(client, f"{base}/suspend", {"reason": "Surveillance refused.",
                                                 "until": until.isoformat()})
    assert suspended.status_code == 200
    assert suspended.json()["status"] == "Suspended"
    assert suspended.json()["suspended_until"] == until.isoformat()
    assert suspended.json()["allowed_actions"] == ["restore", "extend_suspension", "withdraw"]

    again = post(client, f"{base}/suspend", {"reason": "Suspend it once more."})
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"

    restored = post(client, f"{base}/restore", {"reason": "Surveillance held."})
    assert restored.status_code == 200 and restored.json()["status"] == "Active"

    too_long = post(client, f"{base}/suspend", {
        "reason": "Serious failure.",
        "until": (timezone.localdate() + datetime.timedelta(days=200)).isoformat()})
    assert too_long.status_code == 422 and "until" in too_long.json()["error"]["fields"]

    no_reason = post(client, f"{base}/withdraw", {"reason": ""})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["error"]["fields"]
    missing = post(client, f"{base}/withdraw", {})
    assert missing.status_code == 422 and "reason" in missing.json()["error"]["fields"]

    withdrawn = post(client, f"{base}/withdraw", {"reason": "Contract ended by the client."})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "Withdrawn"
    assert withdrawn.json()["allowed_actions"] == []
    assert [h["status"] for h in withdrawn.json()["status_history"]] == [
        "Active", "Suspended", "Active", "Withdrawn"]


def test_the_client_cannot_change_the_status(certificate, alice, api_client):
    client = api_client(alice)
    detail = client.get(f"/api/v1/certificates/{certificate.pk}").json()
    assert detail["allowed_actions"] == []
    for action in ("suspend", "restore", "withdraw"):
        response = post(client, f"/api/v1/certificates/{certificate.pk}/{action}",
                        {"reason": "Alice would like this."})
        assert response.status_code == 403, action
        assert response.json()["error"]["code"] == "forbidden"
    certificate.refresh_from_db()
    assert certificate.status == "Active" and certificate.status_history.count() == 1


def test_the_pdf_answers_404_until_rendered(cycle, dora, alice, api_client,
                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        certificate = services.decide(cycle=cycle, actor=dora, kind="initial",
                                      outcome="grant", decision_date=DECIDED).certificate
    client = api_client(alice)
    revision = certificate.revisions.get()
    url = f"/api/v1/certificates/revisions/{revision.pk}/pdf"
    assert client.get(url).json() == NOT_FOUND

    for callback in callbacks:
        callback()
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert client.get(f"/api/v1/certificates/{certificate.pk}").json()["revisions"][0][
        "has_pdf"] is True
