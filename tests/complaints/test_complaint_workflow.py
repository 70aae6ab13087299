"""The CB's handling of a complaint (ISO/IEC 17021-1 §9.8): acknowledgment, classification
and the client's notice, an investigator and a decider not involved, the actions, formal
notice to the complainant, closing — and every refusal."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone
from helpers.api import assert_error
from helpers.dates import shown

from isocert.audits.models import Audit
from isocert.certification.lifecycle import daily_run
from isocert.certification.models import Certificate
from isocert.complaints import selectors, services
from isocert.complaints.involvement import NotIndependent
from isocert.complaints.models import Complaint
from isocert.core.errors import NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def complaint(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.lodge_complaint(
            name="Petra Public", email="petra@example.org", subject="Scope advertised wrongly",
            description="Their website claims ISO 9001 for all plants.")


@pytest.fixture
def classified(complaint, certificate, ada):
    services.acknowledge_complaint(complaint=complaint, actor=ada)
    return services.classify_complaint(complaint=complaint, actor=ada,
                                       relates_to="certified_client", certificate=certificate)


def mails_to(address: str) -> list[str]:
    return [m.subject for m in mail.outbox if address in m.to]


def test_the_whole_process_with_its_emails_and_audit_trail(
        complaint, certificate, ada, ivan, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.acknowledge_complaint(complaint=complaint, actor=ada)
        services.classify_complaint(complaint=complaint, actor=ada,
                                    relates_to="certified_client", certificate=certificate)
        services.respond_to_complaint(complaint=complaint, actor=alice,
                                      response="Our website was fixed on Monday.")
        services.assign_investigator(complaint=complaint, investigator=ivan, actor=ada)
        services.report_complaint_progress(complaint=complaint, actor=ada,
                                           text="We are checking the website and the scope.")
        services.record_complaint_investigation(complaint=complaint, actor=ivan,
                                                investigation="The old page claimed all plants.")
        services.decide_complaint(complaint=complaint, actor=ada,
                                  outcome="Upheld: the client corrected its claims.")
        services.communicate_complaint_outcome(complaint=complaint, actor=ada)
        services.close_complaint(complaint=complaint, actor=ada)

    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.CLOSED
    assert complaint.certificate == certificate
    assert complaint.organization == certificate.organization
    acknowledgment = [m for m in mail.outbox if m.subject.startswith("Your complaint")][0]
    assert complaint.reference in acknowledgment.body
    assert mails_to("petra@example.org") == [
        f"Your complaint {complaint.reference} was received",
        f"Progress on your complaint {complaint.reference}",
        f"Outcome of your complaint {complaint.reference}"]
    outcome = [m for m in mail.outbox if m.subject.startswith("Outcome")][0]
    assert "the client corrected its claims" in outcome.body
    # The client was told, without the complainant's identity.
    notice = [m for m in mail.outbox if alice.email in m.to][0]
    assert complaint.reference in notice.body and "petra" not in notice.body.lower()
    assert any(ivan.email in m.to for m in mail.outbox)
    assert list(AuditEvent.objects.filter(object_type="complaints.complaint").order_by("seq")
                .values_list("action", flat=True)) == [
        f"complaints.complaint.{a}" for a in (
            "received", "acknowledged", "classified", "client_responded",
            "investigator_assigned", "progress_reported", "investigated", "decided",
            "outcome_communicated", "closed")]


def test_steps_out_of_order_are_refused(complaint, ada):
    with pytest.raises(TransitionNotAllowed):
        services.close_complaint(complaint=complaint, actor=ada)
    with pytest.raises(TransitionNotAllowed):
        services.classify_complaint(complaint=complaint, actor=ada, relates_to="cb_activities")


def test_only_complaint_handlers_act(complaint, ivan, alice):
    for person in (ivan, alice):
        with pytest.raises(NotPermitted):
            services.acknowledge_complaint(complaint=complaint, actor=person)
    assert Complaint.objects.get().status == "received"


def test_a_certified_client_complaint_needs_the_certificate(complaint, ada):
    services.acknowledge_complaint(complaint=complaint, actor=ada)
    with pytest.raises(Exception) as refused:
        services.classify_complaint(complaint=complaint, actor=ada,
                                    relates_to="certified_client")
    assert "certificate_id" in refused.value.fields


@pytest.mark.parametrize("who", ["lead", "decider", "rita"])
def test_an_involved_investigator_is_refused(classified, ada, who, request):
    """The audit team, the decision maker and the application's reviewer (§9.8.5)."""
    person = request.getfixturevalue(who)
    with pytest.raises(NotIndependent) as refused:
        services.assign_investigator(complaint=classified, investigator=person, actor=ada)
    assert "investigator_id" in refused.value.fields
    assert Complaint.objects.get().investigator is None


def test_a_team_member_of_a_chosen_audit_is_refused(complaint, certificate, ada, lead):
    """For a complaint about the CB's activities, the audits chosen name the teams."""
    services.acknowledge_complaint(complaint=complaint, actor=ada)
    stage2 = Audit.objects.get(cycle=certificate.cycle, kind="stage2")
    services.classify_complaint(complaint=complaint, actor=ada, relates_to="cb_activities",
                                audits=[stage2])
    with pytest.raises(NotIndependent):
        services.assign_investigator(complaint=complaint, investigator=lead, actor=ada)


def test_only_the_investigator_records_the_investigation(classified, ada, ivan):
    services.assign_investigator(complaint=classified, investigator=ivan, actor=ada)
    with pytest.raises(NotPermitted):
        services.record_complaint_investigation(complaint=classified, actor=ada,
                                                investigation="Somebody else's findings.")


def test_an_involved_decider_is_refused(classified, ada, ivan, decider):
    services.assign_investigator(complaint=classified, investigator=ivan, actor=ada)
    services.record_complaint_investigation(complaint=classified, actor=ivan,
                                            investigation="The claims were wrong.")
    with pytest.raises(NotIndependent):
        services.decide_complaint(complaint=classified, actor=decider, outcome="Dismissed.")
    assert Complaint.objects.get().status == "investigated"


def investigated(complaint, ada, ivan):
    services.assign_investigator(complaint=complaint, investigator=ivan, actor=ada)
    return services.record_complaint_investigation(complaint=complaint, actor=ivan,
                                                   investigation="The claims were wrong.")


def test_the_outcome_may_suspend_the_certificate(classified, ada, ivan, certificate):
    investigated(classified, ada, ivan)
    services.decide_complaint(complaint=classified, actor=ada, action="suspension",
                              outcome="Upheld: misleading certification claims.")
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.SUSPENDED
    history = certificate.status_history.order_by("-pk").first()
    assert classified.reference in history.reason


def test_the_outcome_may_add_a_short_notice_audit(classified, rita, ada, ivan, certificate, vic):
    """Rita (reviewer, involved) may not decide; the audit is added by the programme's
    service, whose own rule lets a programme manager (an administrator) plan it."""
    investigated(classified, ada, ivan)
    services.decide_complaint(complaint=classified, actor=ada, action="short_notice_audit",
                              outcome="Check the claims on site.")
    classified.refresh_from_db()
    assert classified.special_audit.kind == Audit.Kind.SHORT_NOTICE
    assert classified.special_audit.cycle == certificate.cycle


def test_an_action_refused_by_its_own_service_changes_nothing(classified, ada, ivan, vic,
                                                               certificate):
    """Vic (a decision maker) may suspend but not plan audits: the decision is refused whole."""
    investigated(classified, ada, ivan)
    with pytest.raises(NotPermitted):
        services.decide_complaint(complaint=classified, actor=vic, action="short_notice_audit",
                                  outcome="Check the claims on site.")
    assert Complaint.objects.get().status == "investigated"
    assert not Audit.objects.filter(kind=Audit.Kind.SHORT_NOTICE).exists()


def test_someone_outside_the_organization_may_not_respond(classified, charlie):
    with pytest.raises(NotPermitted):
        services.respond_to_complaint(complaint=classified, actor=charlie, response="Not mine.")


def test_overdue_complaints_are_listed_and_reminded_daily(complaint, ada, rita, settings,
                                                          django_capture_on_commit_callbacks):
    received = complaint.received_at.date()
    later = received + datetime.timedelta(days=settings.COMPLAINT_ACKNOWLEDGE_DAYS + 1)
    assert services.overdue_reasons(complaint, received) == []
    assert "acknowledgment" in services.overdue_reasons(complaint, later)[0]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        summary = daily_run(today=later)
    assert summary["complaints_overdue"] == 1
    reminder = [m for m in mail.outbox if m.subject.startswith("Complaints past")]
    assert reminder and complaint.reference in reminder[0].body
    assert set(reminder[0].to) == {ada.email, rita.email}
    # Once a day.
    with django_capture_on_commit_callbacks(execute=True):
        assert daily_run(today=later)["complaints_overdue"] == 0


def test_the_outcome_target_counts_until_the_complainant_is_told(complaint, ada, settings):
    """§9.8.3, §9.8.7: the target is met by the formal notice, not by the decision."""
    services.acknowledge_complaint(complaint=complaint, actor=ada)
    complaint = services.classify_complaint(complaint=complaint, actor=ada,
                                            relates_to="cb_activities")
    late = complaint.received_at.date() + datetime.timedelta(
        days=settings.COMPLAINT_OUTCOME_DAYS + 1)
    assert services.overdue_reasons(complaint, late) == [
        "formal notice of the outcome to the complainant was due "
        f"{shown(services.due_dates(complaint)['outcome'])}"]


def _late_day(complaint, settings) -> datetime.date:
    return timezone.localtime(complaint.received_at).date() + datetime.timedelta(
        days=settings.COMPLAINT_OUTCOME_DAYS + 1)


def test_decided_but_not_told_past_the_target_is_overdue_and_reminded(
        classified, ada, ivan, settings, django_capture_on_commit_callbacks):
    investigated(classified, ada, ivan)
    decided = services.decide_complaint(complaint=classified, actor=ada,
                                        outcome="Upheld: the client corrected its claims.")
    assert decided.status == Complaint.Status.DECIDED
    late = _late_day(decided, settings)
    reasons = services.overdue_reasons(decided, late)
    assert len(reasons) == 1 and reasons[0].startswith("formal notice of the outcome")
    assert [c for c, _ in selectors.overdue_complaints(user=ada, today=late)] == [decided]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert daily_run(today=late)["complaints_overdue"] == 1
    reminder = [m for m in mail.outbox if m.subject.startswith("Complaints past")]
    assert reminder and decided.reference in reminder[0].body


def test_told_is_not_overdue(classified, ada, ivan, settings,
                             django_capture_on_commit_callbacks):
    investigated(classified, ada, ivan)
    services.decide_complaint(complaint=classified, actor=ada,
                              outcome="Upheld: the client corrected its claims.")
    told = services.communicate_complaint_outcome(complaint=classified, actor=ada)
    late = _late_day(told, settings)
    assert services.overdue_reasons(told, late) == []
    assert selectors.overdue_complaints(user=ada, today=late) == []
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert daily_run(today=late)["complaints_overdue"] == 0
    assert not [m for m in mail.outbox if m.subject.startswith("Complaints past")]


# --- the API --------------------------------------------------------------------------------------

def test_the_api_runs_the_steps_and_refuses_an_involved_investigator(
        complaint, certificate, ada, ivan, lead, api_client):
    client = api_client(ada)
    base = f"/api/v1/complaints/{complaint.pk}"
    assert client.post(f"{base}/acknowledge").json()["status"] == "acknowledged"
    answer = client.post(f"{base}/classify", {"relates_to": "certified_client",
                                              "certificate_id": certificate.pk},
                         content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["certificate_id"] == certificate.pk
    assert_error(client.post(f"{base}/investigator", {"investigator_id": lead.pk},
                             content_type="application/json"),
                 403, "impartiality_threat", "investigator_id")
    answer = client.post(f"{base}/investigator", {"investigator_id": ivan.pk},
                         content_type="application/json")
    assert answer.json()["status"] == "investigating"
    assert_error(client.post(f"{base}/close"), 409, "invalid_transition")


def test_clients_and_other_staff_get_404(complaint, alice, ivan, api_client):
    for person in (alice, ivan):
        client = api_client(person)
        assert_error(client.get(f"/api/v1/complaints/{complaint.pk}"), 404, "not_found")
        assert_error(client.post(f"/api/v1/complaints/{complaint.pk}/acknowledge"),
                     404, "not_found")


# --- what the CB sees elsewhere ------------------------------------------------------------------

def test_open_complaints_show_in_the_decision_checklist_and_page(classified, ready_cycle,
                                                                 decider, api_client):
    """Nordlicht's open complaint appears for the decision on its (other) cycle."""
    client = api_client(decider)
    checklist = client.get(f"/api/v1/cycles/{ready_cycle.pk}/decision-checklist").json()
    assert checklist["open_matters"] == [{"kind": "complaint", "reference": classified.reference,
                                          "status": "classified",
                                          "subject": "Scope advertised wrongly"}]
    page = client.get(f"/cb/cycles/{ready_cycle.pk}/decision/")
    assert page.status_code == 200
    assert classified.reference in page.content.decode()


def test_the_pages_run_the_steps(complaint, certificate, ada, ivan, api_client):
    client = api_client(ada)
    listing = client.get("/cb/complaints/").content.decode()
    assert complaint.reference in listing
    response = client.post(f"/cb/complaints/{complaint.pk}/acknowledge/")
    assert response.status_code == 302
    response = client.post(f"/cb/complaints/{complaint.pk}/classify/",
                           {"relates_to": "certified_client"})
    assert response.status_code == 422
    assert "Choose the certificate." in response.content.decode()
    response = client.post(f"/cb/complaints/{complaint.pk}/classify/",
                           {"relates_to": "certified_client",
                            "certificate_id": str(certificate.pk)})
    assert response.status_code == 302
    assert Complaint.objects.get().status == "classified"
    assert client.post(f"/cb/complaints/{complaint.pk}/no-such-step/").status_code == 404


def test_the_cb_sees_open_complaints_on_the_record_and_overdue_ones_in_its_queue(
        classified, ada, alice, api_client, settings):
    """The client's record at the CB is its certificate's page."""
    page = f"/certificates/{classified.certificate_id}/"
    assert classified.reference in api_client(ada).get(page).content.decode()
    # The client's members do not see complaints about them there.
    client_view = api_client(alice).get(page)
    assert client_view.status_code == 200
    assert classified.reference not in client_view.content.decode()
    settings.COMPLAINT_OUTCOME_DAYS = -1
    dashboard = api_client(ada).get("/dashboard/").content.decode()
    assert (classified.reference in dashboard
            and "formal notice of the outcome to the complainant was due" in dashboard)


def test_the_page_names_who_was_involved_and_refuses_them(classified, ada, lead, api_client):
    client = api_client(ada)
    page = client.get(f"/cb/complaints/{classified.pk}/").content.decode()
    assert "Adam Lead was on the audit team (Stage 2)" in page
    response = client.post(f"/cb/complaints/{classified.pk}/assign_investigator/",
                           {"investigator_id": str(lead.pk)})
    assert response.status_code == 403
    html = response.content.decode()
    assert ('id="id_investigator_id_error"><li>Adam Lead was on the audit team (Stage 2).</li>'
            in html)
    summary = html.split("data-error-summary", 1)[1].split("</div>", 1)[0]
    assert ('<a href="#id_investigator_id">Investigator: Adam Lead was on the audit team'
            ' (Stage 2).</a>' in summary)
    assert Complaint.objects.get().investigator is None
