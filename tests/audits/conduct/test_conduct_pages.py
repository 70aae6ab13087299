"""The conduct pages: the auditor's conduct page, findings, the client's answer, the report."""

import pytest
from conduct_helpers import ANSWER, PDF, finding_data, make_audit
from django.core.files.uploadedfile import SimpleUploadedFile

from isocert.audits.conduct import services as conduct
from isocert.audits.models import AuditRecord, Finding

SECRET = "SECRET-CB-NOTE on the energy review"


@pytest.fixture
def audit(registered, adam):
    audit = make_audit(registered, adam)
    conduct.update_coverage(coverage=audit.coverage.get(clause__number="6.3"), actor=adam,
                            covered=True, internal_notes=SECRET)
    conduct.add_record(audit=audit, actor=adam, kind="interview",
                                                text="RECORD-TEXT plant manager",
                       upload=SimpleUploadedFile("notes.pdf", PDF))
    return audit


@pytest.fixture
def minor(audit, adam):
    return conduct.create_finding(audit=audit, actor=adam, **finding_data(audit, "minor"))


def test_the_auditor_records_on_the_conduct_page(audit, adam, api_client):
    client = api_client(adam)
    page = client.get(f"/audits/{audit.pk}/conduct/")
    assert page.status_code == 200
    html = page.content.decode()
    assert SECRET in html and "RECORD-TEXT" in html and "Record a finding" in html

    row = audit.coverage.get(clause__number="4.1")
    saved = client.post(f"/audit-coverage/{row.pk}/", {f"cov{row.pk}-covered": "on",
                                                       f"cov{row.pk}-internal_notes": "ok"},
                        headers={"HX-Request": "true"})
    assert saved.status_code == 200 and "Saved." in saved.content.decode()
    row.refresh_from_db()
    assert row.covered and row.internal_notes == "ok"

    data = finding_data(audit, "major")
    added = client.post(f"/audits/{audit.pk}/conduct/findings/", data)
    assert added.status_code == 302
    finding = Finding.objects.get()
    assert (finding.grade, finding.created_by) == ("major", adam)

    record = client.post(f"/audits/{audit.pk}/conduct/records/", {
        "kind": "observation", "text": "Leak at compressor 3",
        "file": SimpleUploadedFile("leak.pdf", PDF)})
    assert record.status_code == 302
    assert AuditRecord.objects.count() == 2

    refused = client.post(f"/audits/{audit.pk}/conduct/findings/", {"grade": "major"})
    assert refused.status_code == 422
    assert Finding.objects.count() == 1


def test_the_client_never_sees_the_cb_internal_notes(audit, minor, alice, api_client):
    client = api_client(alice)
    record = AuditRecord.objects.get()
    row = audit.coverage.get(clause__number="6.3")

    for url in (f"/audits/{audit.pk}/conduct/", f"/audit-records/{record.pk}/download/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/audit-coverage/{row.pk}/", {}).status_code == 404
    for url in (f"/audits/{audit.pk}/findings/", f"/findings/{minor.pk}/",
                f"/audits/{audit.pk}/report/"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert SECRET not in page.content.decode() and "RECORD-TEXT" not in page.content.decode()
    findings = client.get(f"/audits/{audit.pk}/findings/").content.decode()
    assert "Compressor 3 is not listed" in findings and "SEU register rev. 4" in findings


def test_the_client_answers_on_the_finding_page_and_sees_the_history(minor, alice, adam,
                                                                     api_client):
    client = api_client(alice)
    page = client.get(f"/findings/{minor.pk}/").content.decode()
    assert "Answer this nonconformity" in page and "Review version" not in page

    sent = client.post(f"/findings/{minor.pk}/answer/", {
        **ANSWER, "evidence": SimpleUploadedFile("register.pdf", PDF)})
    assert sent.status_code == 302
    minor.refresh_from_db()
    assert minor.status == "submitted"

    auditor = api_client(adam)
    assert "Review version 1" in auditor.get(f"/findings/{minor.pk}/").content.decode()
    refused = auditor.post(f"/findings/{minor.pk}/review/", {"decision": "return"})
    assert refused.status_code == 422
    assert "A comment is required" in refused.content.decode()
    auditor.post(f"/findings/{minor.pk}/review/", {"decision": "return",
                                                    "comment": "Dig deeper."})

    history = client.get(f"/findings/{minor.pk}/").content.decode()
    assert "Version 1" in history and "Dig deeper." in history and "Answer again" in history
    response = minor.responses.get()
    download = client.get(f"/ca-responses/{response.pk}/evidence/")
    assert download.status_code == 200 and download["Content-Disposition"].startswith(
        "attachment")


def test_a_viewer_sees_the_finding_but_cannot_answer(minor, nordlicht, api_client):
    from factories import make_user

    from isocert.accounts.models import Membership

    viola = make_user("viola@nordlicht.example", "Viola Viewer")
    Membership.objects.create(organization=nordlicht, user=viola, role="viewer")
    client = api_client(viola)

    assert "Answer this nonconformity" not in client.get(f"/findings/{minor.pk}/").content.decode()
    refused = client.post(f"/findings/{minor.pk}/answer/", ANSWER)
    assert refused.status_code == 422
    minor.refresh_from_db()
    assert minor.status == "open" and not minor.responses.exists()


def test_overdue_items_are_flagged(minor, alice, api_client):
    Finding.objects.filter(pk=minor.pk).update(plan_due="2020-01-01")

    page = api_client(alice).get(f"/audits/{minor.audit_id}/findings/").content.decode()
    assert "1 overdue" in page and "answer was due 1 Jan 2020" in page
    detail = api_client(alice).get(f"/findings/{minor.pk}/").content.decode()
    assert "Overdue: answer was due 1 Jan 2020" in detail


def test_the_report_page_issues_revises_and_links_the_pdfs(audit, adam, alice, api_client,
                                                          django_capture_on_commit_callbacks):
    client = api_client(adam)
    form = client.get(f"/audits/{audit.pk}/report/").content.decode()
    assert "Issue the report" in form

    with django_capture_on_commit_callbacks(execute=True):
        issued = client.post(f"/audits/{audit.pk}/report/issue/", {
            "conclusion": "Effective.", "spent_days": "3", "recommendation": "recommend"})
    assert issued.status_code == 302
    refused = client.post(f"/audits/{audit.pk}/report/issue/", {
        "conclusion": "Effective.", "recommendation": "recommend"})
    assert refused.status_code == 422 and "reason" in refused.content.decode().lower()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/audits/{audit.pk}/report/issue/", {
            "conclusion": "Effective, corrected.", "recommendation": "recommend",
            "correction_reason": "Team list was wrong."})

    first, second = audit.reports.order_by("revision")
    page = api_client(alice).get(f"/audits/{audit.pk}/report/").content.decode()
    assert "Revision 2" in page and "Effective, corrected." in page
    assert "superseded" in page and f"/audit-reports/{first.pk}/pdf/" in page
    assert "Issue the" not in page  # the client can't issue
    old = api_client(alice).get(f"/audit-reports/{first.pk}/").content.decode()
    assert 'data-testid="superseded"' in old and "Effective." in old
    pdf = api_client(alice).get(f"/audit-reports/{second.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"

    closed = client.post(f"/audits/{audit.pk}/conduct/close/")
    assert closed.status_code == 302
    audit.refresh_from_db()
    assert audit.status == "closed"


def test_an_auditor_not_on_the_team_gets_404(audit, minor, api_client):
    from factories import make_user

    otto = make_user("otto@cb.example", "Otto Auditor", roles=["auditor"])
    client = api_client(otto)
    for url in (f"/audits/{audit.pk}/conduct/", f"/audits/{audit.pk}/findings/",
                f"/findings/{minor.pk}/", f"/audits/{audit.pk}/report/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/audits/{audit.pk}/conduct/findings/",
                       finding_data(audit)).status_code == 404
    assert Finding.objects.count() == 1


def test_a_reviewer_reads_the_conduct_page_but_cannot_record(audit, rita, api_client):
    client = api_client(rita)
    page = client.get(f"/audits/{audit.pk}/conduct/").content.decode()
    assert SECRET in page and "read only" in page and "Record a finding" not in page
    refused = client.post(f"/audits/{audit.pk}/conduct/findings/", finding_data(audit),
                          follow=True)
    assert "Only a member of this audit" in refused.content.decode()
    assert not Finding.objects.exists()


def test_a_refused_checklist_save_shows_in_the_row(registered, adam, api_client):
    audit = make_audit(registered, adam, status="closed")
    row = audit.coverage.get(clause__number="6.3")

    answer = api_client(adam).post(f"/audit-coverage/{row.pk}/",
                                   {f"cov{row.pk}-covered": "on"}, headers={"HX-Request": "1"})

    assert answer.status_code == 200
    assert "only possible while it is in progress" in answer.content.decode()
    row.refresh_from_db()
    assert not row.covered


def test_the_audit_pages_link_to_the_conduct(audit, adam, alice, api_client):
    planning = api_client(adam).get(f"/audits/{audit.pk}/planning/").content.decode()
    assert f"/audits/{audit.pk}/conduct/" in planning and f"/audits/{audit.pk}/report/" in planning
    client_page = api_client(alice).get(f"/audits/{audit.pk}/plan/")
    assert client_page.status_code == 200
    assert f"/audits/{audit.pk}/findings/" in client_page.content.decode()
    assert f"/audits/{audit.pk}/conduct/" not in client_page.content.decode()


def test_no_grade_is_preselected_and_a_finding_without_one_is_refused(audit, adam, api_client):
    client = api_client(adam)
    html = client.get(f"/audits/{audit.pk}/conduct/").content.decode()
    assert '<option value="" selected>Choose a grade…</option>' in html

    data = {**finding_data(audit), "grade": ""}
    refused = client.post(f"/audits/{audit.pk}/conduct/findings/", data)

    assert refused.status_code == 422
    assert "This field is required." in refused.content.decode()
    assert data["statement"] in refused.content.decode()   # what was typed is kept
    assert not Finding.objects.exists()
