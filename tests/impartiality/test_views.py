"""The impartiality pages: administrators keep the register and the committee, decision
makers read them, clients and other staff get 404; a refused form keeps what was typed
and names the field."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from factories import client_for

from isocert.core.models import AuditEvent
from isocert.impartiality import committee
from isocert.impartiality.models import CommitteeMeeting, ImpartialityRisk, RegisterReview

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PAGES = ["/impartiality/", "/impartiality/risks/new/", "/impartiality/register-review/",
         "/impartiality/committee/", "/impartiality/meetings/"]


@pytest.mark.parametrize("who", ["alice", "charlie", "rita", "adam"])
def test_clients_and_other_staff_get_404_everywhere(who, request, risk, meeting, members):
    client = client_for(request.getfixturevalue(who))
    for url in [*PAGES, f"/impartiality/risks/{risk.pk}/",
                f"/impartiality/risks/{risk.pk}/edit/",
                f"/impartiality/meetings/{meeting.pk}/",
                f"/impartiality/meetings/{meeting.pk}/minutes/",
                f"/impartiality/committee/members/{members[0].pk}/edit/"]:
        assert client.get(url).status_code == 404, url
    for url in [f"/impartiality/risks/{risk.pk}/review/",
                f"/impartiality/meetings/{meeting.pk}/hold/"]:
        assert client.post(url, {"outcome": "retired", "conclusion": "Not mine."}
                           ).status_code == 404
    assert ImpartialityRisk.objects.get(pk=risk.pk).status == "open"


def test_a_decision_maker_reads_without_forms(dora, risk, meeting):
    client = client_for(dora)
    for url in [*PAGES[:1], *PAGES[2:], f"/impartiality/risks/{risk.pk}/",
                f"/impartiality/meetings/{meeting.pk}/"]:
        assert client.get(url).status_code == 200, url
    page = client.get(f"/impartiality/risks/{risk.pk}/").content.decode()
    assert risk.reference in page and "Record the review" not in page
    refused = client.post(f"/impartiality/risks/{risk.pk}/review/",
                          {"outcome": "retired", "conclusion": "Dora retires it."})
    assert refused.status_code == 403
    assert ImpartialityRisk.objects.get(pk=risk.pk).status == "open"


def test_the_register_filters_by_status_and_threat(ada, risk):
    other = ImpartialityRisk.objects.create(
        reference="IMP-2026-0099", threat="advocacy", source="Brochure",
        description="d", next_review_on=timezone.localdate(), status="open")
    client = client_for(ada)
    page = client.get("/impartiality/?threat=advocacy").content.decode()
    assert other.reference in page and risk.reference not in page
    page = client.get("/impartiality/?status=mitigated").content.decode()
    assert "No risk." in page


def test_an_administrator_records_a_risk_and_reviews_it(ada, rita):
    client = client_for(ada)
    response = client.post("/impartiality/risks/new/", {
        "threat": "familiarity", "source": "Same lead auditor for nine years",
        "description": "Long association with Hansa Metall.", "likelihood": "2",
        "impact": "2", "safeguard": "Rotate the lead auditor.", "owner_id": str(rita.pk)})
    risk = ImpartialityRisk.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{risk.pk}/")
    response = client.post(f"/impartiality/risks/{risk.pk}/review/", {
        "outcome": "mitigated", "conclusion": "Rotation planned for next cycle."})
    assert response.status_code == 302
    risk.refresh_from_db()
    assert risk.status == "mitigated"
    assert "Rotation planned" in client.get(f"/impartiality/risks/{risk.pk}/").content.decode()


def test_a_refused_risk_keeps_what_was_typed_and_names_the_field(ada):
    response = client_for(ada).post("/impartiality/risks/new/", {
        "threat": "familiarity", "source": "Typed source stays", "description": "Typed.",
        "likelihood": "2", "impact": "2", "next_review_on": "2001-01-01"})
    assert response.status_code == 422
    page = response.content.decode()
    assert 'value="Typed source stays"' in page
    assert 'id="id_next_review_on_error"' in page
    assert not ImpartialityRisk.objects.exists()


def test_a_refused_review_names_the_field_and_changes_nothing(ada):
    risk = ImpartialityRisk.objects.create(
        reference="IMP-2026-0042", threat="self_review", source="Training course",
        description="d", next_review_on=timezone.localdate())
    before = AuditEvent.objects.count()
    response = client_for(ada).post(f"/impartiality/risks/{risk.pk}/review/", {
        "outcome": "mitigated", "conclusion": "No safeguard yet."})
    assert response.status_code == 422
    assert 'id="id_outcome_error"' in response.content.decode()
    risk.refresh_from_db()
    assert risk.status == "open" and AuditEvent.objects.count() == before


def test_editing_a_risk(ada, risk):
    client = client_for(ada)
    form = client.get(f"/impartiality/risks/{risk.pk}/edit/").content.decode()
    assert "Fee dependence" in form
    response = client.post(f"/impartiality/risks/{risk.pk}/edit/", {
        "threat": "self_interest", "source": "Fee dependence (updated)",
        "description": risk.description, "likelihood": "1", "impact": "3",
        "safeguard": risk.safeguard, "owner_id": str(ada.pk)})
    assert response.status_code == 302
    risk.refresh_from_db()
    assert (risk.source, risk.likelihood) == ("Fee dependence (updated)", 1)


def test_the_committee_and_a_meeting_through_the_pages(ada, risk):
    client = client_for(ada)
    today = timezone.localdate().isoformat()
    for name, interest in (("Carla Client", "clients"), ("Ralf Regulator", "regulators")):
        response = client.post("/impartiality/committee/", {
            "name": name, "interest": interest, "email": f"{name.split()[0].lower()}@x.example",
            "appointed_on": today})
        assert response.status_code == 302
    refused = client.post("/impartiality/committee/", {
        "name": "No Mail", "interest": "cb", "email": "nope", "appointed_on": today})
    assert refused.status_code == 422 and 'value="No Mail"' in refused.content.decode()

    response = client.post("/impartiality/meetings/", {"date": today,
                                                       "agenda": "Annual register review."})
    meeting = CommitteeMeeting.objects.get()
    assert response.status_code == 302
    approve_early = client.post(f"/impartiality/meetings/{meeting.pk}/approve_minutes/")
    assert approve_early.status_code == 409
    members = [str(pk) for pk in meeting.attendees.model.objects.values_list("pk", flat=True)]
    response = client.post(f"/impartiality/meetings/{meeting.pk}/hold/", {
        "attendee_ids": members, "minutes": "Register read.", "risk_ids": [str(risk.pk)],
        "minutes_file": SimpleUploadedFile("minutes.pdf", PDF)})
    assert response.status_code == 302
    download = client.get(f"/impartiality/meetings/{meeting.pk}/minutes/")
    assert download.status_code == 200
    response = client.post(f"/impartiality/meetings/{meeting.pk}/approve_minutes/")
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == "minutes_approved"
    assert client.post(f"/impartiality/meetings/{meeting.pk}/nothing/").status_code == 404

    response = client.post("/impartiality/register-review/", {
        "conclusion": "Reviewed at the meeting.", "meeting_id": str(meeting.pk)})
    assert response.status_code == 302
    assert RegisterReview.objects.get().meeting == meeting


def test_a_held_meeting_with_a_majority_shows_the_warning(ada, meeting):
    today = timezone.localdate()
    clients = [committee.add_committee_member(name=n, interest="clients", appointed_on=today,
                                              email=f"{n.lower()}@c.example", actor=ada)
               for n in ("Anna", "Berta")]
    response = client_for(ada).post(f"/impartiality/meetings/{meeting.pk}/hold/", {
        "attendee_ids": [str(m.pk) for m in clients], "minutes": "Two clients met."},
        follow=True)
    assert "§6.2" in response.content.decode()
    assert "formed a majority" in response.content.decode()
