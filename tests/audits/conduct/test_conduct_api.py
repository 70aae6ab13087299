"""The conduct API: same rules as the services, one error shape, internal notes CB-only."""

import pytest
from conduct_helpers import ANSWER, PDF, finding_data, make_audit
from django.core.files.uploadedfile import SimpleUploadedFile

from isocert.audits.conduct import services as conduct
from isocert.audits.models import AuditRecord, Finding

SECRET = "SECRET-CB-NOTE"
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


@pytest.fixture
def audit(registered, adam):
    audit = make_audit(registered, adam)
    conduct.update_coverage(coverage=audit.coverage.get(clause__number="6.3"), actor=adam,
                            covered=True, internal_notes=SECRET)
    return audit


def test_the_auditor_records_through_the_api(audit, adam, api_client):
    client = api_client(adam)
    rows = client.get(f"/api/v1/audits/{audit.pk}/coverage").json()
    row = next(r for r in rows if r["clause"] == "ISO 50001 4.1")
    updated = client.put(f"/api/v1/audit-coverage/{row['id']}", {"covered": True},
                         content_type="application/json")
    assert updated.json()["covered"] is True

    record = client.post(f"/api/v1/audits/{audit.pk}/records", {
        "kind": "document_review", "text": "Energy policy rev. 2",
        "file": SimpleUploadedFile("policy.pdf", PDF)})
    assert record.status_code == 201 and record.json()["has_file"]
    assert client.get(f"/api/v1/audit-records/{record.json()['id']}/download").status_code == 200

    created = client.post(f"/api/v1/audits/{audit.pk}/findings", finding_data(audit, "major"),
                          content_type="application/json")
    assert created.status_code == 201
    body = created.json()
    assert (body["number"], body["status"], body["clause"]) == (1, "open", "ISO 50001 6.3")
    assert body["plan_due"] == "2026-04-12" and body["verification_due"] == "2026-06-11"

    patched = client.patch(f"/api/v1/findings/{body['id']}", {"grade": "opportunity"},
                           content_type="application/json")
    assert patched.json()["status"] == "n/a"
    assert client.delete(f"/api/v1/findings/{body['id']}").status_code == 204


def test_refusals_use_the_error_shape_and_change_nothing(audit, adam, registered, api_client):
    client = api_client(adam)
    invalid = client.post(f"/api/v1/audits/{audit.pk}/findings",
                          {**finding_data(audit), "grade": "critical"},
                          content_type="application/json")
    assert invalid.status_code == 422
    assert invalid.json()["error"]["code"] == "invalid"
    assert "grade" in invalid.json()["error"]["fields"]

    planned = make_audit(registered, adam, status="planned")
    refused = client.post(f"/api/v1/audits/{planned.pk}/findings", finding_data(planned),
                          content_type="application/json")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "invalid_transition"
    assert not Finding.objects.exists()


def test_the_client_gets_findings_but_never_the_checklist_or_records(audit, adam, alice,
                                                                     api_client):
    conduct.add_record(audit=audit, actor=adam, kind="interview", text="RECORD")
    finding = conduct.create_finding(audit=audit, actor=adam, **finding_data(audit))
    client = api_client(alice)

    for url in (f"/api/v1/audits/{audit.pk}/coverage", f"/api/v1/audits/{audit.pk}/records",
                f"/api/v1/audit-records/{AuditRecord.objects.get().pk}/download"):
        response = client.get(url)
        assert (response.status_code, response.json()) == (404, NOT_FOUND), url
    row = audit.coverage.get(clause__number="6.3")
    assert client.put(f"/api/v1/audit-coverage/{row.pk}", {"covered": False},
                      content_type="application/json").status_code == 404
    findings = client.get(f"/api/v1/audits/{audit.pk}/findings")
    assert findings.status_code == 200
    assert [f["id"] for f in findings.json()] == [finding.pk]
    assert SECRET not in findings.content.decode()
    assert SECRET not in client.get(f"/api/v1/findings/{finding.pk}").content.decode()


def test_the_corrective_action_round_trip(audit, adam, alice, api_client):
    finding = conduct.create_finding(audit=audit, actor=adam, **finding_data(audit, "minor"))
    owner, auditor = api_client(alice), api_client(adam)

    answered = owner.post(f"/api/v1/findings/{finding.pk}/responses", {
        **ANSWER, "evidence": SimpleUploadedFile("register.pdf", PDF)})
    assert answered.status_code == 201 and answered.json()["version"] == 1
    assert answered.json()["has_evidence"]

    no_comment = auditor.post(f"/api/v1/findings/{finding.pk}/return", {"comment": ""},
                              content_type="application/json")
    assert no_comment.status_code == 422
    assert list(no_comment.json()["error"]["fields"]) == ["comment"]
    verify = auditor.generic("POST", f"/api/v1/findings/{finding.pk}/verify")
    assert verify.status_code == 409

    returned = auditor.post(f"/api/v1/findings/{finding.pk}/return",
                            {"comment": "Evidence missing for training."},
                            content_type="application/json")
    assert returned.json()["status"] == "returned"
    owner.post(f"/api/v1/findings/{finding.pk}/responses", ANSWER)
    accepted = auditor.generic("POST", f"/api/v1/findings/{finding.pk}/accept")
    assert accepted.json()["status"] == "plan_accepted"

    history = owner.get(f"/api/v1/findings/{finding.pk}/responses").json()
    assert [(r["version"], r["review"]) for r in history] == [(2, "accepted"), (1, "returned")]
    evidence = owner.get(f"/api/v1/ca-responses/{history[1]['id']}/evidence")
    assert evidence.status_code == 200

    by_auditor = auditor.post(f"/api/v1/findings/{finding.pk}/responses", ANSWER)
    assert by_auditor.status_code == 403


def test_a_viewer_cannot_answer_through_the_api(audit, adam, nordlicht, api_client):
    from factories import make_user

    from isocert.accounts.models import Membership

    viola = make_user("viola@nordlicht.example", "Viola Viewer")
    Membership.objects.create(organization=nordlicht, user=viola, role="viewer")
    finding = conduct.create_finding(audit=audit, actor=adam, **finding_data(audit))

    refused = api_client(viola).post(f"/api/v1/findings/{finding.pk}/responses", ANSWER)

    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert not finding.responses.exists()


def test_reports_revisions_pdf_and_close(audit, adam, alice, api_client,
                                         django_capture_on_commit_callbacks):
    client = api_client(adam)
    report = {"conclusion": "Effective.", "spent_days": "3.0", "recommendation": "recommend"}
    with django_capture_on_commit_callbacks(execute=True):
        issued = client.post(f"/api/v1/audits/{audit.pk}/reports", report,
                             content_type="application/json")
    assert issued.status_code == 201 and issued.json()["revision"] == 1
    again = client.post(f"/api/v1/audits/{audit.pk}/reports", report,
                        content_type="application/json")
    assert again.status_code == 409
    no_reason = client.post(f"/api/v1/audits/{audit.pk}/reports/revise",
                            {**report, "correction_reason": ""},
                            content_type="application/json")
    assert "correction_reason" in no_reason.json()["error"]["fields"]
    with django_capture_on_commit_callbacks(execute=True):
        revised = client.post(f"/api/v1/audits/{audit.pk}/reports/revise",
                              {**report, "correction_reason": "Dates corrected."},
                              content_type="application/json")
    assert revised.json()["revision"] == 2

    reports = api_client(alice).get(f"/api/v1/audits/{audit.pk}/reports").json()
    assert [(r["revision"], r["superseded"]) for r in reports] == [(2, False), (1, True)]
    first = api_client(alice).get(f"/api/v1/audit-reports/{reports[1]['id']}").json()
    assert first["superseded"] is True and first["content"]["client"] == \
        "Nordlicht Aluminium GmbH"
    pdf = api_client(alice).get(f"/api/v1/audit-reports/{reports[0]['id']}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"

    assert api_client(alice).post(f"/api/v1/audits/{audit.pk}/close").status_code == 403
    closed = client.post(f"/api/v1/audits/{audit.pk}/close")
    assert closed.json()["status"] == "closed"
