"""The audit report: recommendation rules, revisions, the PDF, closing the audit."""

import io

import pytest
from conduct_helpers import ANSWER, events, finding_data, make_audit
from django.core import mail
from pypdf import PdfReader

from isocert.audits.conduct import services as conduct
from isocert.audits.models import Audit, AuditReport
from isocert.core.errors import Conflict, InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.files import open_stored

REPORT = {"conclusion": "The energy management system is effectively implemented.",
          "positive_notes": "Metering of compressed air is exemplary.", "spent_days": "3.5"}


@pytest.fixture
def audit(registered, adam):
    return make_audit(registered, adam)


@pytest.fixture
def stage1(registered, adam):
    return make_audit(registered, adam, kind="stage1")


def pdf_text(report: AuditReport) -> str:
    report.refresh_from_db()
    with open_stored(report.pdf) as handle:
        pages = PdfReader(io.BytesIO(handle.read())).pages
        return " ".join(" ".join(page.extract_text() for page in pages).split())


def test_recommend_is_refused_while_a_major_is_not_verified(audit, adam, alice):
    major = conduct.create_finding(audit=audit, actor=adam, **finding_data(audit, "major"))
    before = events()

    with pytest.raises(InvalidInput) as refused:
        conduct.issue_report(audit=audit, actor=adam, **{**REPORT,
                                                            "recommendation": "recommend"})
    assert list(refused.value.fields) == ["recommendation"]
    assert not AuditReport.objects.exists() and events() == before
    audit.refresh_from_db()
    assert audit.spent_days is None

    conduct.submit_corrective_action(finding=major, actor=alice, **ANSWER)
    conduct.review_corrective_action(finding=major, actor=adam, decision="verify")
    report = conduct.issue_report(audit=audit, actor=adam,
                                  **{**REPORT, "recommendation": "recommend"})
    assert report.recommendation == "recommend"


def test_after_majors_needs_majors(audit, adam):
    conduct.create_finding(audit=audit, actor=adam, **finding_data(audit, "minor"))

    with pytest.raises(InvalidInput, match="not issued") as refused:
        conduct.issue_report(audit=audit, actor=adam,
                             **{**REPORT, "recommendation": "after_majors"})
    assert "no major" in refused.value.fields["recommendation"]

    conduct.create_finding(audit=audit, actor=adam, **finding_data(audit, "major"))
    report = conduct.issue_report(audit=audit, actor=adam,
                                  **{**REPORT, "recommendation": "after_majors"})
    assert report.recommendation == "after_majors"


def test_a_stage2_report_needs_a_recommendation_and_a_conclusion(audit, adam):
    with pytest.raises(InvalidInput) as refused:
        conduct.issue_report(audit=audit, actor=adam, recommendation="")
    assert set(refused.value.fields) == {"recommendation", "conclusion", "spent_days"}


def test_stage1_reports_readiness_not_a_recommendation(stage1, adam):
    with pytest.raises(InvalidInput) as refused:
        conduct.issue_report(audit=stage1, actor=adam,
                             **{**REPORT, "recommendation": "recommend"})
    assert set(refused.value.fields) == {"recommendation", "ready_for_stage2"}

    report = conduct.issue_report(audit=stage1, actor=adam, **{
        **REPORT, "ready_for_stage2": False,
        "areas_of_concern": "Legal register incomplete for the Oldenburg plant."})
    assert (report.ready_for_stage2, report.recommendation) == (False, "")
    assert report.content["areas_of_concern"].startswith("Legal register")


@pytest.mark.parametrize("who", ["bob", "rita", "member"])
def test_only_the_lead_auditor_issues(registered, adam, request, who):
    from factories import make_user

    member = make_user("mia@cb.example", "Mia Auditor", roles=["auditor"])
    audit = make_audit(registered, adam, members=[member])
    actor = member if who == "member" else request.getfixturevalue(who)
    before = events()

    with pytest.raises(NotPermitted):
        conduct.issue_report(audit=audit, actor=actor,
                             **{**REPORT, "recommendation": "recommend"})
    assert not AuditReport.objects.exists() and events() == before


def test_the_report_goes_to_the_client_with_its_pdf(audit, adam, nordlicht,
                                                    django_capture_on_commit_callbacks):
    conduct.update_coverage(coverage=audit.coverage.get(clause__number="6.3"), actor=adam,
                            covered=True, internal_notes="SECRET-CB-NOTE")
    conduct.create_finding(audit=audit, actor=adam, **finding_data(
        audit, "minor", site_id=nordlicht.sites.get(name="Oldenburg plant").pk))

    with django_capture_on_commit_callbacks(execute=True):
        report = conduct.issue_report(audit=audit, actor=adam,
                                      **{**REPORT, "recommendation": "recommend"})

    assert report.revision == 1 and report.correction_reason == ""
    audit.refresh_from_db()
    assert str(audit.spent_days) == "3.5"
    assert mail.outbox[-1].to == ["alice@nordlicht.example", "bob@nordlicht.example"]
    assert "Audit report" in mail.outbox[-1].subject
    text = pdf_text(report)
    for expected in ("Nordlicht Aluminium GmbH", "Revision 1", "Compressor 3 is not listed",
                     "Minor nonconformity", "Oldenburg plant", "Recommend certification",
                     "Metering of compressed air", "3.0 planned, 3.5 spent", "6.3"):
        assert expected in text, expected
    assert "SECRET-CB-NOTE" not in text


def test_a_correction_makes_a_new_revision_and_keeps_the_old(audit, adam,
                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = conduct.issue_report(audit=audit, actor=adam,
                                     **{**REPORT, "recommendation": "do_not_recommend"})
    before = events()
    with pytest.raises(InvalidInput) as refused:
        conduct.revise_report(audit=audit, actor=adam, correction_reason=" ",
                              **{**REPORT, "recommendation": "recommend"})
    assert list(refused.value.fields) == ["correction_reason"]
    assert events() == before
    with pytest.raises(Conflict):
        conduct.issue_report(audit=audit, actor=adam,
                             **{**REPORT, "recommendation": "recommend"})

    with django_capture_on_commit_callbacks(execute=True):
        second = conduct.revise_report(audit=audit, actor=adam,
                                       correction_reason="Wrong recommendation typed.",
                                       **{**REPORT, "recommendation": "recommend"})

    assert second.revision == 2
    assert list(audit.reports.values_list("revision", "recommendation")) == [
        (2, "recommend"), (1, "do_not_recommend")]
    assert "(revision 2)" in mail.outbox[-1].subject
    text = pdf_text(second)
    assert "Revision 2" in text and "Wrong recommendation typed." in text
    assert "Recommend certification" in text
    assert "Revision 1" in pdf_text(first) and "Do not recommend" in pdf_text(first)


def test_revising_needs_an_issued_report(audit, adam):
    with pytest.raises(Conflict):
        conduct.revise_report(audit=audit, actor=adam, correction_reason="x",
                              **{**REPORT, "recommendation": "recommend"})


def test_closing_needs_the_report(audit, stage1, adam, bob):
    before = events()
    with pytest.raises(Conflict, match="Issue the audit report"):
        conduct.close_audit(audit=audit, actor=adam)
    with pytest.raises(NotPermitted):
        conduct.close_audit(audit=audit, actor=bob)
    assert events() == before

    conduct.issue_report(audit=stage1, actor=adam, **{**REPORT, "ready_for_stage2": True})
    closed = conduct.close_audit(audit=stage1, actor=adam)

    assert closed.status == "closed" and closed.closed_at
    with pytest.raises(TransitionNotAllowed):
        conduct.close_audit(audit=stage1, actor=adam)


def test_a_closed_stage1_report_without_readiness_cannot_close(stage1, adam):
    conduct.issue_report(audit=stage1, actor=adam, **{**REPORT, "ready_for_stage2": True})
    AuditReport.objects.filter(audit=stage1).update(ready_for_stage2=None)

    with pytest.raises(Conflict, match="ready for stage 2"):
        conduct.close_audit(audit=stage1, actor=adam)
    stage1.refresh_from_db()
    assert stage1.status == Audit.Status.IN_PROGRESS


def test_a_report_can_be_corrected_after_closing(stage1, adam):
    conduct.issue_report(audit=stage1, actor=adam, **{**REPORT, "ready_for_stage2": False})
    conduct.close_audit(audit=stage1, actor=adam)

    report = conduct.revise_report(audit=stage1, actor=adam, correction_reason="Typo.",
                                   **{**REPORT, "ready_for_stage2": True})

    assert report.revision == 2 and report.ready_for_stage2 is True


def test_an_unknown_recommendation_is_named_by_the_labels_the_page_shows(audit, adam):
    with pytest.raises(InvalidInput) as refused:
        conduct.issue_report(audit=audit, actor=adam, **{**REPORT, "recommendation": "yes"})
    assert refused.value.fields["recommendation"] == (
        "Choose the recommendation: Recommend certification, Recommend after the major "
        "nonconformities are closed or Do not recommend.")
    assert "after_majors" not in refused.value.fields["recommendation"]


def test_no_finding_is_split_across_a_page_break(audit, adam,
                                                 django_capture_on_commit_callbacks):
    """Issue #19: each finding's row stays on one page of the report PDF."""
    for n in range(1, 13):
        conduct.create_finding(audit=audit, actor=adam, **finding_data(
            audit, "minor", statement=f"Finding{n}start " + "The requirement is not met. " * 12
            + f"Finding{n}end", objective_evidence="Record reviewed on site. " * 8))

    with django_capture_on_commit_callbacks(execute=True):
        report = conduct.issue_report(audit=audit, actor=adam,
                                      **{**REPORT, "recommendation": "recommend"})

    report.refresh_from_db()
    with open_stored(report.pdf) as handle:
        pages = [page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages]
    assert len(pages) > 2
    for n in range(1, 13):
        [start_page] = [i for i, text in enumerate(pages) if f"Finding{n}start" in text]
        [end_page] = [i for i, text in enumerate(pages) if f"Finding{n}end" in text]
        assert start_page == end_page, f"finding {n} runs from page {start_page + 1} to {end_page + 1}"
