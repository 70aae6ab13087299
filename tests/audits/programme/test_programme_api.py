"""The programme through the API and the pages: same rules, same error shape."""

import datetime

import pytest
from programme_helpers import START, event_count, quoted_application, staffed_cycles

from isocert.audits.models import Audit, AuditPlan, CertificationCycle
from isocert.audits.programme import services as programme
from isocert.core.errors import InvalidInput


@pytest.fixture
def application(nordlicht, alice, rita):
    return quoted_application(nordlicht, alice, rita)


def test_the_whole_programme_through_the_api(application, rita, alice, lead, api_client,
                                            today_is):
    cb, client, auditor_client = api_client(rita), api_client(alice), api_client(lead)
    created = cb.post(f"/api/v1/applications/{application.pk}/cycle")
    assert created.status_code == 201
    cycle = created.json()
    assert [a["kind"] for a in cycle["audits"]] == [
        "stage1", "stage2", "surveillance1", "surveillance2", "recertification"]
    audit_id = cycle["audits"][0]["id"]

    assert cb.post(f"/api/v1/audits/{audit_id}/schedule", {
        "start_date": str(START), "end_date": str(START + datetime.timedelta(days=1))},
        content_type="application/json").status_code == 200
    finder = cb.get(f"/api/v1/audits/{audit_id}/auditor-suggestions").json()
    assert [s["auditor_id"] for s in finder] == [lead.pk]
    member = cb.post(f"/api/v1/audits/{audit_id}/team", {"auditor_id": lead.pk, "role": "lead"},
                     content_type="application/json")
    assert member.status_code == 201
    session = auditor_client.post(f"/api/v1/audits/{audit_id}/plan/sessions", {
        "starts_at": f"{START}T09:00:00", "ends_at": f"{START}T10:00:00", "topic": "Opening",
        "auditor_id": lead.pk}, content_type="application/json")
    assert session.status_code == 201
    assert client.get(f"/api/v1/audits/{audit_id}/plan").json()["sessions"] == []
    assert cb.post(f"/api/v1/audits/{audit_id}/plan/send").json()["status"] == "sent"
    assert len(client.get(f"/api/v1/audits/{audit_id}/plan").json()["sessions"]) == 1

    today_is(START)   # the audit's first day: it may start
    refused = auditor_client.post(f"/api/v1/audits/{audit_id}/start")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "audit_not_ready"
    assert set(refused.json()["error"]["fields"]) == {"declarations", "plan"}

    assert client.post(f"/api/v1/audits/{audit_id}/plan/confirm", {"comment": "OK"},
                       content_type="application/json").json()["status"] == "confirmed"
    assert auditor_client.post(
        f"/api/v1/team-members/{member.json()['id']}/declare-impartiality",
        {"statement": "No link with Nordlicht.", "no_threat": True},
        content_type="application/json").status_code == 200
    started = auditor_client.post(f"/api/v1/audits/{audit_id}/start")
    assert started.status_code == 200 and started.json()["status"] == "in_progress"


def test_api_refusals_use_the_error_shape_and_change_nothing(application, rita, alice, lead,
                                                            api_client):
    cb = api_client(rita)
    assert api_client(alice).post(
        f"/api/v1/applications/{application.pk}/cycle").status_code == 403
    cycle = cb.post(f"/api/v1/applications/{application.pk}/cycle").json()
    audit_id = cycle["audits"][0]["id"]
    events = event_count()

    wrong_role = cb.post(f"/api/v1/audits/{audit_id}/team",
                         {"auditor_id": alice.pk, "role": "lead"},
                         content_type="application/json")
    special = cb.post(f"/api/v1/cycles/{cycle['id']}/audits", {"kind": "stage1", "reason": "x"},
                      content_type="application/json")

    assert wrong_role.status_code == 409
    assert wrong_role.json()["error"]["fields"]["auditor_id"]
    assert special.status_code == 422 and "kind" in special.json()["error"]["fields"]
    assert Audit.objects.filter(cycle_id=cycle["id"]).count() == 5
    assert event_count() == events


def test_the_pages(application, rita, alice, lead, api_client):
    cb = api_client(rita)
    review = cb.get(f"/review/{application.pk}/").content.decode()
    assert "Start certification cycle" in review
    response = cb.post(f"/applications/{application.pk}/cycle/start/")
    cycle = CertificationCycle.objects.get()
    assert response.status_code == 302 and response.url == f"/cycles/{cycle.pk}/"
    assert "Certification cycle" in cb.get(f"/review/{application.pk}/").content.decode()
    assert f"/cycles/{cycle.pk}/" in api_client(alice).get(
        f"/applications/{application.pk}/").content.decode()

    page = cb.get(f"/cycles/{cycle.pk}/").content.decode()
    assert "Surveillance 1" in page and "Add a special audit" in page
    assert "Add a special audit" not in api_client(alice).get(
        f"/cycles/{cycle.pk}/").content.decode()

    audit = cycle.audits.get(kind="stage1")
    cb.post(f"/audits/{audit.pk}/schedule/", {"start_date": START,
                                             "end_date": START + datetime.timedelta(days=1)})
    planning = cb.get(f"/audits/{audit.pk}/planning/").content.decode()
    assert "The team needs a lead auditor." in planning and "Lena Lead" in planning
    cb.post(f"/audits/{audit.pk}/team/", {"auditor_id": lead.pk, "role": "lead"})
    cb.post(f"/audits/{audit.pk}/plan/sessions/", {
        "starts_at": f"{START}T09:00", "ends_at": f"{START}T10:00", "topic": "Opening"})
    cb.post(f"/audits/{audit.pk}/plan/send/")
    assert AuditPlan.objects.get(audit=audit).status == "sent"
    planning = cb.get(f"/audits/{audit.pk}/planning/").content.decode()
    assert "Impartiality declaration not signed by Lena Lead." in planning


def test_an_impossible_date_is_a_422_naming_the_field(application, rita, api_client):
    cb = api_client(rita)
    audit_id = cb.post(f"/api/v1/applications/{application.pk}/cycle").json()["audits"][0]["id"]

    response = cb.post(f"/api/v1/audits/{audit_id}/schedule",
                       {"start_date": "2027-02-27", "end_date": "2027-02-30"},
                       content_type="application/json")

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["end_date"]
    assert Audit.objects.get(pk=audit_id).start_date is None


def test_the_service_refuses_an_impossible_date_naming_the_field(application, rita):
    cycle = programme.create_cycle(application=application, actor=rita)
    audit = cycle.audits.get(kind=Audit.Kind.STAGE1)

    with pytest.raises(InvalidInput) as refused:
        programme.schedule_audit(audit=audit, actor=rita, start_date="2027-02-27",
                                 end_date="2027-02-30")

    assert refused.value.fields == {"end_date": "Enter a date (YYYY-MM-DD)."}
    audit.refresh_from_db()
    assert audit.start_date is None


def test_a_page_of_audits_reads_as_each_audit_alone(nordlicht, brightpath, rita, alice,
                                                    api_client):
    """The lists read their audits' teams, plans, sites and start problems for the whole
    page at once (issue #19): each item is what the audit's own GET answers, for the CB,
    the client and an auditor on some of the teams."""
    staffed_cycles(nordlicht, brightpath)(2)
    lead = Audit.objects.filter(kind="stage2").order_by("pk").first().team.get(
        role="lead").auditor
    for user in (rita, alice, lead):
        client = api_client(user)
        audits = client.get("/api/v1/audits").json()
        assert audits and any(a["problems"] for a in audits) == (user != alice)
        # Only a planned audit can be kept from starting: a closed or cancelled one says so.
        assert all(a["problems"] == ({} if user != alice else None)
                   for a in audits if a["status"] != "planned")
        assert "closed" in {a["status"] for a in audits}
        assert audits == [client.get(f"/api/v1/audits/{a['id']}").json() for a in audits]
        cycles = client.get("/api/v1/cycles").json()
        assert cycles == [client.get(f"/api/v1/cycles/{c['id']}").json() for c in cycles]
        in_cycles = [a for c in cycles for a in c["audits"]]
        assert sorted(in_cycles, key=lambda a: a["id"]) == sorted(audits, key=lambda a: a["id"])
