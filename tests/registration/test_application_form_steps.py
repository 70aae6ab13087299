"""The multi-step application form: what a step's fields say that submitting would refuse is
shown on that step, on the field, as soon as the draft is saved — the draft is saved, what was
typed stays in the form, and the person stays on the step."""

import datetime
import re

import pytest
from django.utils import timezone

from isocert.core.errors import InvalidInput
from isocert.registration.services import entry_problems, submit_application


def days(n: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


def edit_url(application, step: str) -> str:
    return f"/applications/{application.pk}/edit/{step}/"


def field_error(html: str, field: str) -> str:
    """The error shown under one field of the page ("" when none)."""
    marker = f'id="id_{field}_error"'
    if marker not in html:
        return ""
    start = html.index(marker)
    return html[start:html.index("</ul>", start)]


def test_a_desired_audit_period_in_the_past_is_named_on_its_step(draft, alice, api_client):
    version = draft.version
    response = api_client(alice).post(edit_url(draft, "period"), {
        "version": version, "desired_audit_from": days(-10), "desired_audit_to": days(20)})

    html = response.content.decode()
    assert response.status_code == 200  # stays on the step
    assert "cannot start in the past" in field_error(html, "desired_audit_from")
    assert f'value="{days(-10)}"' in html and f'value="{days(20)}"' in html  # input kept
    assert "Draft saved — correct the highlighted fields" in html
    draft.refresh_from_db()  # the draft keeps what was typed, to be corrected before submit
    assert (draft.desired_audit_from.isoformat(), draft.version) == (days(-10), version + 1)
    assert f'name="version" value="{version + 1}"' in html  # the next save is not stale
    with pytest.raises(InvalidInput) as refused:
        submit_application(application=draft, actor=alice)
    assert "desired_audit_from" in refused.value.fields


def test_consultancy_ticked_without_the_consultant_is_named_on_its_step(draft, alice,
                                                                          api_client):
    response = api_client(alice).post(edit_url(draft, "background"), {
        "version": draft.version, "consultancy_used": "on", "consultancy_by": "  "})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Name who gave the management-system consultancy." in field_error(
        html, "consultancy_by")
    assert " checked" in re.search(r'<input[^>]*name="consultancy_used"[^>]*>', html).group(0)
    draft.refresh_from_db()
    assert draft.consultancy_used is True


def test_a_transfer_ticked_without_the_current_cb_is_named_on_its_step(draft, alice,
                                                                       api_client):
    html = api_client(alice).post(edit_url(draft, "background"), {
        "version": draft.version, "is_transfer": "on",
        "current_certificate_number": "Q-123"}).content.decode()
    assert "Name the certification body" in field_error(html, "current_cb_name")
    assert field_error(html, "current_certificate_number") == ""


@pytest.mark.parametrize("step, data, next_step", [
    ("period", {"desired_audit_from": days(30), "desired_audit_to": days(40)}, "documents"),
    ("background", {"consultancy_used": "on", "consultancy_by": "Qualitas GmbH, J. Weber"},
     "period"),
    ("background", {}, "period"),
])
def test_a_correct_step_saves_and_continues(draft, alice, api_client, step, data, next_step):
    response = api_client(alice).post(edit_url(draft, step), {"version": draft.version, **data})
    assert response.status_code == 302
    assert response["Location"] == edit_url(draft, next_step)


def test_what_is_simply_not_filled_in_yet_does_not_hold_the_step(draft, alice, api_client):
    # A draft may be incomplete: an empty period is for the review step, not an error here.
    response = api_client(alice).post(edit_url(draft, "period"), {
        "version": draft.version, "desired_audit_from": "", "desired_audit_to": ""})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert "desired_audit_from" not in entry_problems(draft)


def test_effective_personnel_is_prefilled_from_the_sites_except_for_iso_50001(
        nordlicht, alice, api_client):
    from isocert.registration.services import create_application

    application = create_application(organization=nordlicht, actor=alice)

    html = api_client(alice).get(edit_url(application, "standards")).content.decode()

    # Bremen head office 180 + Oldenburg plant 95 (IAF MD 5: everyone in the scope).
    quality = re.search(r'<input[^>]*name="iso-9001__personnel"[^>]*>', html).group(0)
    assert 'value="275' in quality
    assert "Pre-filled from the sites (275 FTE)" in html
    # ISO 50003 counts only those who significantly affect energy performance.
    energy = re.search(r'<input[^>]*name="iso-50001__personnel"[^>]*>', html).group(0)
    assert "value=" not in energy
    assert "the sites have 275 FTE in all" in html
