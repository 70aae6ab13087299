"""The REST API for actions, internal audits and management reviews; one error shape."""

import datetime

import pytest
from django.utils import timezone
from factories import pdf_upload

from isocert.improvement.models import Action


def in_days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


@pytest.fixture
def alice_api(alice, api_client):
    return api_client(alice)


@pytest.fixture
def action_json(nordlicht, bob, alice_api):
    response = post(alice_api, f"/api/v1/organizations/{nordlicht.pk}/actions", {
        "title": "Calibrate gauges", "standard": "ISO 9001", "clause": "7.1.5",
        "owner_id": bob.pk, "due_date": in_days(-1).isoformat()})
    assert response.status_code == 201, response.content
    return response.json()


def test_create_read_update_and_list(nordlicht, alice_api, action_json, bob):
    assert action_json["status"] == "open" and action_json["version"] == 1
    assert action_json["overdue"] is True
    assert action_json["allowed_actions"] == ["start", "complete", "cancel"]

    patched = alice_api.patch(f"/api/v1/actions/{action_json['id']}",
                              {"title": "Calibrate all gauges", "version": 1},
                              content_type="application/json")
    assert patched.status_code == 200 and patched.json()["version"] == 2
    listed = alice_api.get(f"/api/v1/organizations/{nordlicht.pk}/actions?overdue=true"
                           f"&owner_id={bob.pk}&clause=7.1&standard=ISO%209001").json()
    assert [a["title"] for a in listed] == ["Calibrate all gauges"]
    assert alice_api.get(f"/api/v1/organizations/{nordlicht.pk}/actions?status=done").json() == []


def test_transitions_with_versions(alice_api, action_json):
    url = f"/api/v1/actions/{action_json['id']}"
    started = post(alice_api, url + "/start", {"version": 1})
    assert started.status_code == 200
    assert started.json()["action"]["status"] == "in_progress"

    stale = post(alice_api, url + "/complete", {"version": 1})
    assert stale.status_code == 409
    assert stale.json()["error"] == {"code": "conflict", "message": stale.json()["error"][
        "message"], "fields": {"version": "Stale version."}}
    assert Action.objects.get(pk=action_json["id"]).status == "in_progress"

    refused = post(alice_api, url + "/reopen", {"version": 2})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "invalid_transition"

    done = post(alice_api, url + "/complete", {"version": 2}).json()
    assert done["action"]["status"] == "done" and done["reassess"] == ""
    assert post(alice_api, url + "/reopen").json()["action"]["status"] == "in_progress"
    assert post(alice_api, url + "/cancel").json()["action"]["status"] == "cancelled"


def test_completing_a_gap_rows_last_action_says_reassess(nordlicht, alice_api, gap_row):
    created = post(alice_api, f"/api/v1/organizations/{nordlicht.pk}/actions",
                   {"title": "Instructions", "gap_item_id": gap_row.pk}).json()
    assert created["clause"] == "8.5" and created["gap_item_id"] == gap_row.pk
    done = post(alice_api, f"/api/v1/actions/{created['id']}/complete").json()
    assert done["reassess"] == ("All actions for 8.5 are closed — re-assess the clause in the "
                                "gap analysis.")


def test_a_viewer_gets_403_in_the_error_shape(nordlicht, vera, api_client, action_json):
    client = api_client(vera)
    assert client.get(f"/api/v1/actions/{action_json['id']}").status_code == 200
    response = post(client, f"/api/v1/actions/{action_json['id']}/start")
    assert response.status_code == 403
    assert response.json() == {"error": {
        "code": "forbidden", "message": "Only an owner or editor of this organization can "
        "change it.", "fields": {}}}
    created = post(client, f"/api/v1/organizations/{nordlicht.pk}/actions", {"title": "x"})
    assert created.status_code == 403


def test_invalid_input_names_the_fields(nordlicht, alice_api, charlie):
    response = post(alice_api, f"/api/v1/organizations/{nordlicht.pk}/actions",
                    {"title": "x", "owner_id": charlie.pk, "standard": "ISO 9001",
                     "clause": "42"})
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"owner_id", "clause"}
    missing = post(alice_api, f"/api/v1/organizations/{nordlicht.pk}/actions", {})
    assert missing.status_code == 422 and "title" in missing.json()["error"]["fields"]


def test_notes_evidence_and_delete(alice_api, bob, api_client, action_json):
    url = f"/api/v1/actions/{action_json['id']}"
    assert post(alice_api, url + "/notes", {"text": "Started."}).status_code == 201
    assert [n["text"] for n in alice_api.get(url + "/notes").json()] == ["Started."]
    uploaded = alice_api.post(url + "/evidence", {"title": "Certificate", "file": pdf_upload()})
    assert uploaded.status_code == 201 and uploaded.json()["content_type"] == "application/pdf"
    linked = alice_api.post(url + "/evidence", {"title": "DMS", "link": "https://dms.example/1"})
    assert linked.status_code == 201
    neither = alice_api.post(url + "/evidence", {"title": "Nothing"})
    assert neither.status_code == 422 and "file" in neither.json()["error"]["fields"]
    download = alice_api.get(f"/api/v1/action-evidence/{uploaded.json()['id']}/download")
    assert download.status_code == 200
    assert len(alice_api.get(url + "/evidence").json()) == 2

    assert api_client(bob).delete(url).status_code == 403  # editors cancel, owners delete
    assert alice_api.delete(url).status_code == 204
    assert alice_api.get(url).json()["error"]["code"] == "not_found"


def test_internal_audit_api(nordlicht, alice_api, bob):
    base = f"/api/v1/organizations/{nordlicht.pk}/internal-audits"
    refused = post(alice_api, base, {
        "title": "Q3", "standard": "ISO 9001", "start_date": in_days(3).isoformat(),
        "end_date": in_days(2).isoformat(), "auditor_ids": [bob.pk]})
    assert refused.status_code == 422 and "end_date" in refused.json()["error"]["fields"]

    created = post(alice_api, base, {
        "title": "Q3", "standard": "ISO 9001", "start_date": in_days(3).isoformat(),
        "end_date": in_days(4).isoformat(), "auditor_ids": [bob.pk], "clauses": ["9.2", "8.5"]})
    assert created.status_code == 201
    audit = created.json()
    assert [row["clause"] for row in audit["checklist"]] == ["8.5", "9.2"]

    finding = alice_api.post(f"/api/v1/internal-audits/{audit['id']}/findings", {
        "kind": "nonconformity", "clause": "8.5", "statement": "No instructions."})
    assert finding.status_code == 201, finding.content
    action = Action.objects.get(pk=finding.json()["corrective_action_id"])
    assert action.due_date == in_days(4) + datetime.timedelta(days=30)

    complete = post(alice_api, f"/api/v1/internal-audits/{audit['id']}/complete",
                    {"conclusion": "Effective."})
    assert complete.status_code == 422 and "9.2" in complete.json()["error"]["message"]
    row = next(r for r in audit["checklist"] if r["clause"] == "9.2")
    updated = alice_api.put(f"/api/v1/checklist-items/{row['id']}",
                            {"result": "conforming", "notes": "Programme exists."},
                            content_type="application/json")
    assert updated.status_code == 200 and updated.json()["result"] == "conforming"
    complete = post(alice_api, f"/api/v1/internal-audits/{audit['id']}/complete",
                    {"conclusion": "Effective."})
    assert complete.status_code == 200 and complete.json()["status"] == "completed"
    assert alice_api.get(base).json()[0]["findings"][0]["corrective_action_id"] == action.pk


def test_management_review_api(nordlicht, alice_api, bob):
    base = f"/api/v1/organizations/{nordlicht.pk}/management-reviews"
    created = post(alice_api, base, {
        "standard": "ISO/IEC 27001", "date": "2026-03-02", "attendees": "Alice, CISO",
        "inputs": [{"key": "risk_assessment", "covered": True, "notes": "RTP 80 % done"}]})
    assert created.status_code == 201, created.content
    review = created.json()
    assert {i["key"] for i in review["inputs"] if i["covered"]} == {"risk_assessment"}
    rid = review["id"]

    inputs = alice_api.put(f"/api/v1/management-reviews/{rid}/inputs",
                           {"inputs": [{"key": "security_feedback", "covered": True}]},
                           content_type="application/json")
    assert inputs.status_code == 200
    bad = alice_api.put(f"/api/v1/management-reviews/{rid}/inputs",
                        {"inputs": [{"key": "nope"}]}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["error"]["fields"] == {
        "inputs.0.key": "Unknown input 'nope'."}
    decided = alice_api.put(f"/api/v1/management-reviews/{rid}/decisions",
                            {"decisions": "Pen test in Q4."}, content_type="application/json")
    assert decided.json()["decisions"] == "Pen test in Q4."
    action = post(alice_api, f"/api/v1/management-reviews/{rid}/actions",
                  {"title": "Order a pen test", "owner_id": bob.pk})
    assert action.status_code == 201
    assert action.json()["management_review_id"] == rid and action.json()["standard"] == (
        "ISO/IEC 27001")
    assert alice_api.get(f"/api/v1/management-reviews/{rid}").json()["action_ids"] == [
        action.json()["id"]]
    assert [r["id"] for r in alice_api.get(base).json()] == [rid]


def test_a_transition_needs_no_body(alice_api, action_json):
    response = alice_api.generic("POST", f"/api/v1/actions/{action_json['id']}/start")
    assert response.status_code == 200, response.content
    assert response.json()["action"]["status"] == "in_progress"
