"""Remote and hybrid audits (IAF MD 4): the ICT used and the feasibility assessment are
recorded before the plan is sent, the client agrees, the audit time stays, and the minimum
on-site share holds unless the CB counts remote time as on-site."""

import pytest
from django.core import mail
from programme_helpers import START, audit_of

from isocert.audits.models import AuditPlan, RemoteAudit
from isocert.audits.programme import services as programme
from isocert.audits.programme.errors import AuditNotReady
from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.models import AuditEvent

ASSESSMENT = {
    "ict_used": "Video conference with screen sharing; read access to the document system.",
    "remote_share_percent": 20,
    "connectivity": "Fibre at the head office, tested on a call; phone as fallback.",
    "confidentiality": "No recording; documents shown, not sent.",
    "visible_remotely": "Document review, management review, interviews with management.",
    "not_visible_remotely": "Foundry floor, die-casting cells: audited on site.",
    "feasible": True,
}


@pytest.fixture
def planned(cycle, rita, lead):
    """Stage 1 with dates, Lena leading, one remote session and one on site."""
    audit = audit_of(cycle)
    programme.schedule_audit(audit=audit, actor=rita, start_date=START, end_date=START)
    programme.assign_team_member(audit=audit, actor=rita, auditor=lead, role="lead")
    day = START.isoformat()
    programme.add_plan_session(audit=audit, actor=rita, starts_at=f"{day}T09:00",
                               ends_at=f"{day}T10:00", topic="Management review",
                               auditor_id=lead.pk, is_remote=True)
    programme.add_plan_session(audit=audit, actor=rita, starts_at=f"{day}T10:00",
                               ends_at=f"{day}T16:00", topic="Operations",
                               auditor_id=lead.pk)
    audit.refresh_from_db()
    return audit


def test_a_plan_using_ict_is_not_sent_without_assessment_and_agreement(planned, rita, alice):
    with pytest.raises(AuditNotReady) as refused:
        programme.send_plan(audit=planned, actor=rita)
    assert "remote" in refused.value.fields
    assert AuditPlan.objects.get(audit=planned).status == AuditPlan.Status.DRAFT

    programme.record_remote_assessment(audit=planned, actor=rita, **ASSESSMENT)
    with pytest.raises(AuditNotReady) as refused:
        programme.send_plan(audit=planned, actor=rita)
    assert "agreed" in refused.value.fields["remote"]

    programme.agree_remote_audit(audit=planned, actor=alice)
    plan = programme.send_plan(audit=planned, actor=rita)

    assert plan.status == AuditPlan.Status.SENT
    sent = AuditEvent.objects.filter(action="audits.plan.sent").get()
    assert sent.payload["remote_share_percent"] == 20


def test_the_audit_time_stays_the_same(planned, rita):
    days = planned.planned_days
    programme.record_remote_assessment(audit=planned, actor=rita, **ASSESSMENT)
    planned.refresh_from_db()
    assert planned.planned_days == days


def test_an_unfeasible_assessment_refuses_agreement_and_sending(planned, rita, alice):
    programme.record_remote_assessment(audit=planned, actor=rita,
                                       **{**ASSESSMENT, "feasible": False})
    with pytest.raises(Conflict):
        programme.agree_remote_audit(audit=planned, actor=alice)
    with pytest.raises(AuditNotReady) as refused:
        programme.send_plan(audit=planned, actor=rita)
    assert "not feasible" in refused.value.fields["remote"]


def test_the_minimum_on_site_share_holds_unless_remote_counts(planned, rita, alice, settings):
    programme.record_remote_assessment(audit=planned, actor=rita,
                                       **{**ASSESSMENT, "remote_share_percent": 40})
    programme.agree_remote_audit(audit=planned, actor=alice)
    settings.REMOTE_COUNTS_AS_ONSITE = False
    with pytest.raises(AuditNotReady) as refused:
        programme.send_plan(audit=planned, actor=rita)
    assert "60 % on site" in refused.value.fields["remote_share_percent"]
    assert "80 %" in refused.value.fields["remote_share_percent"]

    settings.REMOTE_COUNTS_AS_ONSITE = True
    assert programme.send_plan(audit=planned, actor=rita).status == AuditPlan.Status.SENT


def test_a_new_assessment_needs_a_new_agreement(planned, rita, alice):
    programme.record_remote_assessment(audit=planned, actor=rita, **ASSESSMENT)
    programme.agree_remote_audit(audit=planned, actor=alice)
    remote = programme.record_remote_assessment(audit=planned, actor=rita,
                                                **{**ASSESSMENT, "remote_share_percent": 10})
    assert not remote.agreed


def test_every_assessment_field_is_required(planned, rita):
    with pytest.raises(InvalidInput) as refused:
        programme.record_remote_assessment(
            audit=planned, actor=rita, **{**ASSESSMENT, "connectivity": " ",
                                          "not_visible_remotely": "",
                                          "remote_share_percent": 0})
    assert {"connectivity", "not_visible_remotely", "remote_share_percent"} <= set(
        refused.value.fields)
    with pytest.raises(InvalidInput) as refused:
        programme.record_remote_assessment(audit=planned, actor=rita,
                                           **{**ASSESSMENT, "remote_share_percent": "12.5"})
    assert "remote_share_percent" in refused.value.fields
    assert not RemoteAudit.objects.exists()


def test_who_may_assess_and_agree(planned, rita, alice, adam, charlie, bob):
    for person in (alice, adam, charlie):
        with pytest.raises(NotPermitted):
            programme.record_remote_assessment(audit=planned, actor=person, **ASSESSMENT)
    programme.record_remote_assessment(audit=planned, actor=rita, **ASSESSMENT)
    for person in (rita, charlie):
        with pytest.raises(NotPermitted):
            programme.agree_remote_audit(audit=planned, actor=person)
    assert programme.agree_remote_audit(audit=planned, actor=bob).client_agreed_by == bob


def test_the_arrangement_is_frozen_while_the_client_holds_the_plan(planned, rita, alice):
    programme.record_remote_assessment(audit=planned, actor=rita, **ASSESSMENT)
    programme.agree_remote_audit(audit=planned, actor=alice)
    programme.send_plan(audit=planned, actor=rita)
    with pytest.raises(Conflict, match="revise"):
        programme.record_remote_assessment(audit=planned, actor=rita,
                                           **{**ASSESSMENT, "remote_share_percent": 5})


def test_an_audit_fully_on_site_needs_nothing(cycle, rita, lead):
    audit = audit_of(cycle)
    programme.schedule_audit(audit=audit, actor=rita, start_date=START, end_date=START)
    programme.assign_team_member(audit=audit, actor=rita, auditor=lead, role="lead")
    day = START.isoformat()
    programme.add_plan_session(audit=audit, actor=rita, starts_at=f"{day}T09:00",
                               ends_at=f"{day}T10:00", topic="Opening", auditor_id=lead.pk)
    assert not programme.uses_ict(audit)
    assert programme.send_plan(audit=audit, actor=rita).status == AuditPlan.Status.SENT


def test_the_api_records_shows_and_agrees(planned, rita, alice, charlie, api_client):
    import json

    from helpers.api import assert_error

    url = f"/api/v1/audits/{planned.pk}/remote"
    assert_error(api_client(rita).get(url), 404, "not_found")
    body = {**ASSESSMENT}
    answer = api_client(rita).put(url, json.dumps(body), content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["onsite_percent"] == 80 and answer.json()["client_agreed_at"] is None
    bad = api_client(rita).put(url, json.dumps({**body, "connectivity": ""}),
                               content_type="application/json")
    assert_error(bad, 422, "invalid", "connectivity")
    assert_error(api_client(alice).put(url, json.dumps(body), content_type="application/json"),
                 404, "not_found")   # the client is not on the CB side
    assert_error(api_client(charlie).post(url + "/agree"), 404, "not_found")
    agreed = api_client(alice).post(url + "/agree")
    assert agreed.status_code == 200 and agreed.json()["client_agreed_at"]
    api_client(rita).post(f"/api/v1/audits/{planned.pk}/plan/send")
    plan = api_client(alice).get(f"/api/v1/audits/{planned.pk}/plan").json()
    assert plan["remote"]["ict_used"].startswith("Video conference")
    assert [s["is_remote"] for s in plan["sessions"]] == [True, False]


def test_the_pages_assess_agree_and_show_it(planned, rita, alice, api_client):
    rita_client = api_client(rita)
    page = rita_client.get(f"/audits/{planned.pk}/planning/")
    assert b"Remote and hybrid auditing (IAF MD 4)" in page.content
    assert b"record the assessment before sending the plan" in page.content
    form = {**ASSESSMENT, "feasible": "on"}
    saved = rita_client.post(f"/audits/{planned.pk}/remote/", form)
    assert saved.status_code == 302
    client_page = api_client(alice).get(f"/audits/{planned.pk}/plan/")
    assert b"We agree to the use of ICT" in client_page.content
    api_client(alice).post(f"/audits/{planned.pk}/remote/agree/")
    assert RemoteAudit.objects.get().agreed
    refused = rita_client.post(f"/audits/{planned.pk}/remote/", {**form, "ict_used": ""})
    assert refused.status_code == 422 and RemoteAudit.objects.get().agreed


def test_a_feasible_assessment_asks_the_client_by_e_mail(planned, rita, alice, bob, vera,
                                                       settings,
                                                       django_capture_on_commit_callbacks):
    """MD 4 §4.1: the client's owners and editors (who hear about the plan, and may agree)
    are told what is proposed and where to agree; the viewer is not."""
    with django_capture_on_commit_callbacks(execute=True):
        programme.record_remote_assessment(audit=planned, actor=rita, **ASSESSMENT)
    [notice] = mail.outbox
    assert notice.to == [alice.email, bob.email]
    assert notice.subject == ("Remote auditing of your Stage 1 audit: your agreement is "
                              "needed")
    assert "20 %" in notice.body
    assert ASSESSMENT["ict_used"] in notice.body
    assert ASSESSMENT["not_visible_remotely"] in notice.body
    assert f"{settings.SITE_URL}/audits/{planned.pk}/plan/" in notice.body

    mail.outbox.clear()   # a changed arrangement is asked for again
    with django_capture_on_commit_callbacks(execute=True):
        programme.record_remote_assessment(audit=planned, actor=rita,
                                           **{**ASSESSMENT, "remote_share_percent": 10})
    [notice] = mail.outbox
    assert "10 %" in notice.body


def test_no_e_mail_for_an_unfeasible_or_refused_assessment(planned, rita, alice, adam,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        programme.record_remote_assessment(audit=planned, actor=rita,
                                           **{**ASSESSMENT, "feasible": False})
        with pytest.raises(NotPermitted):
            programme.record_remote_assessment(audit=planned, actor=adam, **ASSESSMENT)
        with pytest.raises(InvalidInput):
            programme.record_remote_assessment(audit=planned, actor=rita,
                                               **{**ASSESSMENT, "ict_used": ""})
    assert mail.outbox == []

    programme.record_remote_assessment(audit=planned, actor=rita, **ASSESSMENT)
    programme.agree_remote_audit(audit=planned, actor=alice)
    programme.send_plan(audit=planned, actor=rita)
    mail.outbox.clear()
    # The client holds the plan.
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Conflict):
        programme.record_remote_assessment(audit=planned, actor=rita, **ASSESSMENT)
    assert mail.outbox == []


def test_the_agreement_is_e_mailed_to_the_cb(planned, rita, alice, lead, settings,
                                             django_capture_on_commit_callbacks):
    """As the client's answer to the plan: the audit's team and the cycle's reviewer."""
    programme.record_remote_assessment(audit=planned, actor=rita, **ASSESSMENT)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        programme.agree_remote_audit(audit=planned, actor=alice)
    [notice] = mail.outbox
    assert notice.to == sorted([lead.email, rita.email])
    assert notice.subject == ("Nordlicht Aluminium GmbH agreed to remote auditing of the "
                              "Stage 1 audit")
    assert "Alice Owner agreed" in notice.body and "20 % remote" in notice.body
    assert f"{settings.SITE_URL}/audits/{planned.pk}/planning/" in notice.body


def test_no_e_mail_for_a_refused_agreement(planned, rita, alice, charlie,
                                           django_capture_on_commit_callbacks):
    # Nothing assessed yet.
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Conflict):
        programme.agree_remote_audit(audit=planned, actor=alice)
    programme.record_remote_assessment(audit=planned, actor=rita,
                                       **{**ASSESSMENT, "feasible": False})
    # Not feasible.
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Conflict):
        programme.agree_remote_audit(audit=planned, actor=alice)
    programme.record_remote_assessment(audit=planned, actor=rita, **ASSESSMENT)
    # Charlie is no member of Nordlicht.
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(NotPermitted):
        programme.agree_remote_audit(audit=planned, actor=charlie)
    assert mail.outbox == []


def test_the_report_states_where_ict_was_used(planned, rita, alice):
    from isocert.audits.conduct.reports import report_content

    fields = {"positive_notes": "", "conclusion": "", "areas_of_concern": "",
              "recommendation": "", "ready_for_stage2": None}
    assert report_content(planned, fields)["remote"]["sessions"][0].endswith(
        "Management review")
    programme.record_remote_assessment(audit=planned, actor=rita, **ASSESSMENT)
    remote = report_content(planned, fields)["remote"]
    assert remote["remote_share_percent"] == 20 and "Video conference" in remote["ict_used"]
