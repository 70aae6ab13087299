"""The programme's forms on their pages: a refusal that names a field of the form shows
beside that field, the page answers 422 and what was typed stays in the form; a refusal
naming none of the form's fields (state, permission) is a message after a redirect."""

import datetime
import re

import pytest
from programme_helpers import START, audit_of, event_count

from isocert.audits.models import Audit, PlanSession
from isocert.audits.programme import services as programme

SPECIAL_REASON = "Complaint about a product recall"


@pytest.fixture
def dated(cycle, rita, lead):
    """Stage 1 on START and the day after, Lena leading it; the plan a draft."""
    audit = audit_of(cycle)
    programme.schedule_audit(audit=audit, actor=rita, start_date=START,
                             end_date=START + datetime.timedelta(days=1))
    programme.assign_team_member(audit=audit, actor=rita, auditor=lead, role="lead")
    return audit


def field_errors(page: str, field_id: str) -> list[str]:
    """The errors shown under the field whose id is ``field_id``."""
    found = re.search(rf'<ul class="errorlist" id="{field_id}_error"[^>]*>(.*?)</ul>', page,
                      re.S)
    return re.findall(r"<li>(.*?)</li>", found.group(1)) if found else []


def test_a_session_outside_the_audits_dates_is_shown_on_its_field(dated, rita, api_client):
    outside = START + datetime.timedelta(days=5)
    events = event_count()

    response = api_client(rita).post(f"/audits/{dated.pk}/plan/sessions/", {
        "starts_at": f"{outside}T09:00", "ends_at": f"{outside}T10:00",
        "topic": "Leadership and commitment", "auditee": "Managing director"})

    assert response.status_code == 422
    page = response.content.decode()
    assert field_errors(page, "id_session_starts_at") == [
        "Within the audit&#x27;s dates (5 May 2031 to 6 May 2031)."]
    assert "Please correct the highlighted fields." in page
    # What was typed is still there to correct.
    assert f'value="{outside}T09:00"' in page
    assert 'value="Leadership and commitment"' in page and 'value="Managing director"' in page
    assert not PlanSession.objects.exists() and event_count() == events


def test_a_past_date_asks_for_the_late_entry_on_the_schedule_form(cycle, rita, api_client,
                                                                  today_is):
    today_is(datetime.date(2026, 5, 4))
    audit = audit_of(cycle)
    cb = api_client(rita)

    response = cb.post(f"/audits/{audit.pk}/schedule/", {
        "start_date": "2021-04-12", "end_date": "2021-04-13"})

    assert response.status_code == 422
    page = response.content.decode()
    assert field_errors(page, "id_late_entry_justification") == [
        "At least 20 characters: why the dates are past."]
    assert 'value="2021-04-12"' in page and 'value="2021-04-13"' in page
    assert Audit.objects.get(pk=audit.pk).start_date is None

    reason = "Held in April; recorded late after the portal migration."
    done = cb.post(f"/audits/{audit.pk}/schedule/", {
        "start_date": "2026-04-27", "end_date": "2026-04-28",
        "late_entry_justification": reason})
    assert done.status_code == 302
    page = cb.get(f"/audits/{audit.pk}/planning/").content.decode()
    assert 'data-testid="late-entry"' in page and reason in page


def test_a_year_without_surveillance_is_shown_on_the_start_date(cycle, rita, dora, api_client,
                                                                today_is):
    programme.fix_surveillance_dates(cycle=cycle, decision_date="2026-03-10", actor=dora)
    today_is(datetime.date(2026, 3, 20))
    programme.schedule_audit(audit=audit_of(cycle, "surveillance1"), actor=rita,
                             start_date="2027-01-11", end_date="2027-01-12")
    second = audit_of(cycle, "surveillance2")

    response = api_client(rita).post(f"/audits/{second.pk}/schedule/", {
        "start_date": "2027-11-02", "end_date": "2027-11-03"})

    assert response.status_code == 422
    page = response.content.decode()
    assert field_errors(page, "id_start_date") == ["Keep an audit in 2028."]
    assert "would leave 2028 without an audit" in page
    assert 'value="2027-11-02"' in page
    assert Audit.objects.get(pk=second.pk).start_date is None


def test_a_refusal_without_a_field_of_the_form_is_a_message(dated, rita, alice, lead,
                                                            api_client):
    programme.add_plan_session(audit=dated, actor=rita, starts_at=f"{START}T09:00",
                                                        ends_at=f"{START}T10:00",
                                                        topic="Opening")
    programme.send_plan(audit=dated, actor=rita)

    # The plan is with the client: not editable, a state to change first, not a field.
    response = api_client(rita).post(f"/audits/{dated.pk}/plan/sessions/", {
        "starts_at": f"{START}T11:00", "ends_at": f"{START}T12:00", "topic": "Leadership"},
        follow=True)

    assert response.redirect_chain == [(f"/audits/{dated.pk}/planning/", 302)]
    assert "The plan is sent to the client; it can be edited" in response.content.decode()


def test_a_special_audit_form_keeps_its_input_on_the_cycle_page(cycle, rita, api_client):
    response = api_client(rita).post(f"/cycles/{cycle.pk}/special-audit/", {
        "kind": "short_notice", "planned_days": "1.5", "reason": "no"})

    assert response.status_code == 422
    page = response.content.decode()
    assert field_errors(page, "id_reason") == ["Give the reason (at least 5 characters)."]
    assert 'value="1.5"' in page and re.search(r'<option value="short_notice"[^>]*selected', page)
    assert cycle.audits.count() == 5

    done = api_client(rita).post(f"/cycles/{cycle.pk}/special-audit/", {
        "kind": "short_notice", "reason": SPECIAL_REASON})
    assert done.status_code == 302 and cycle.audits.count() == 6


def test_a_short_change_request_keeps_the_clients_comment(dated, rita, alice, api_client):
    programme.add_plan_session(audit=dated, actor=rita, starts_at=f"{START}T09:00",
                                                        ends_at=f"{START}T10:00",
                                                        topic="Opening")
    programme.send_plan(audit=dated, actor=rita)

    response = api_client(alice).post(f"/audits/{dated.pk}/plan/request-changes/",
                                      {"comment": "Mon"})

    assert response.status_code == 422
    page = response.content.decode()
    assert field_errors(page, "id_comment") == [
        "Describe the change (at least 5 characters)."]
    assert re.search(r'<textarea name="comment"[^>]*>\s*Mon</textarea>', page)
    assert dated.plan.status == "sent"
