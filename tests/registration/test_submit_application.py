"""submit_application: a complete draft goes to the CB, sent by an owner or editor only."""

import datetime

import pytest
from django.utils import timezone
from factories import complete_application_data

from isocert.accounts.services import update_organization
from isocert.core.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent
from isocert.registration.models import Application
from isocert.registration.services import create_application, submit_application


def assert_unchanged(application, *, status, version, events):
    application.refresh_from_db()
    assert (application.status, application.version) == (status, version)
    if status == Application.Status.DRAFT:
        assert application.submitted_at is None
    assert AuditEvent.objects.count() == events


def test_owner_submits_a_complete_draft(draft, alice):
    assert (draft.status, draft.version) == ("draft", 1)

    result = submit_application(application=draft, actor=alice)

    draft.refresh_from_db()
    assert draft.status == Application.Status.SUBMITTED
    assert draft.version == 2
    assert draft.submitted_at is not None
    assert abs(draft.submitted_at - timezone.now()) < datetime.timedelta(minutes=1)
    assert result.pk == draft.pk and result.status == "submitted"
    event = AuditEvent.objects.order_by("seq").last()
    assert event.action == "registration.application.submitted"
    assert event.actor == alice
    assert event.object_id == str(draft.pk)
    assert event.payload == {"from": "draft", "to": "submitted", "standards": ["ISO 50001:2018"]}


def test_editor_bob_may_submit(draft, bob):
    submit_application(application=draft, actor=bob)

    draft.refresh_from_db()
    assert draft.status == "submitted"
    assert AuditEvent.objects.last().actor == bob


def test_viewer_cannot_submit(draft, vera):
    events = AuditEvent.objects.count()
    with pytest.raises(NotPermitted):
        submit_application(application=draft, actor=vera)
    assert_unchanged(draft, status="draft", version=1, events=events)


@pytest.mark.parametrize("staff", ["rita", "ada"])
def test_cb_staff_cannot_submit_for_the_client(request, draft, staff):
    actor = request.getfixturevalue(staff)
    events = AuditEvent.objects.count()
    with pytest.raises(NotPermitted):
        submit_application(application=draft, actor=actor)
    assert_unchanged(draft, status="draft", version=1, events=events)


def test_another_organizations_owner_cannot_submit(draft, charlie, brightpath):
    events = AuditEvent.objects.count()
    with pytest.raises(NotPermitted):
        submit_application(application=draft, actor=charlie)
    assert_unchanged(draft, status="draft", version=1, events=events)


def test_an_empty_draft_is_refused_naming_what_is_missing(nordlicht, alice):
    application = create_application(organization=nordlicht, actor=alice)
    events = AuditEvent.objects.count()

    with pytest.raises(InvalidInput) as excinfo:
        submit_application(application=application, actor=alice)

    assert set(excinfo.value.fields) == {"standards", "desired_audit_from"}
    assert_unchanged(application, status="draft", version=1, events=events)


def test_standard_lines_are_checked_field_by_field(nordlicht, alice):
    application = create_application(organization=nordlicht, actor=alice, **complete_application_data(
        standards=[{"standard": "ISO 14001"},
                   {"standard": "ISO 50001", "effective_personnel": "24"}]))

    with pytest.raises(InvalidInput) as excinfo:
        submit_application(application=application, actor=alice)

    # Lines are ordered by standard code: ISO 14001 is line 0, ISO 50001 line 1.
    assert set(excinfo.value.fields) == {
        "standards.0.effective_personnel", "standards.0.complexity",
        "standards.1.annual_energy_consumption_tj", "standards.1.energy_types",
        "standards.1.significant_energy_uses",
    }
    assert "ISO 14001" in excinfo.value.fields["standards.0.complexity"]
    application.refresh_from_db()
    assert application.status == "draft"


# What IAF MD 2 §2.2 needs of a transfer besides the CB and the number.
TRANSFER_CYCLE = {"current_certificate_expiry": datetime.date(2028, 5, 31),
                  "current_cycle_decision_date": datetime.date(2025, 6, 1),
                  "current_cycle_stage": "surveillance1"}


@pytest.mark.parametrize(("overrides", "field"), [
    ({"consultancy_used": True}, "consultancy_by"),
    ({"is_transfer": True, "current_certificate_number": "Q-1", **TRANSFER_CYCLE},
     "current_cb_name"),
    ({"is_transfer": True, "current_cb_name": "Other CB", **TRANSFER_CYCLE},
     "current_certificate_number"),
    ({"is_transfer": True, "current_cb_name": "Other CB", "current_certificate_number": "Q-1",
      **{k: v for k, v in TRANSFER_CYCLE.items() if k != "current_cycle_stage"}},
     "current_cycle_stage"),
    ({"scope_statement": "   "}, "scope_statement"),
    ({"desired_audit_from": datetime.date(2020, 1, 1), "desired_audit_to": datetime.date(2020, 2, 1)},
     "desired_audit_from"),
])
def test_incomplete_declarations_are_refused(nordlicht, alice, overrides, field):
    application = create_application(organization=nordlicht, actor=alice,
                                     **complete_application_data(**overrides))
    events = AuditEvent.objects.count()

    with pytest.raises(InvalidInput) as excinfo:
        submit_application(application=application, actor=alice)

    assert list(excinfo.value.fields) == [field]
    assert_unchanged(application, status="draft", version=1, events=events)


def test_the_central_function_must_be_among_the_sites(nordlicht, alice):
    plant = nordlicht.sites.get(is_central_function=False)
    application = create_application(organization=nordlicht, actor=alice,
                                     **complete_application_data(site_ids=[plant.pk]))

    with pytest.raises(InvalidInput) as excinfo:
        submit_application(application=application, actor=alice)

    assert excinfo.value.fields == {"site_ids": "Include the central function among the sites."}


def test_the_organization_needs_sector_codes(draft, nordlicht, alice):
    update_organization(organization=nordlicht, actor=alice, sector_codes=[])

    with pytest.raises(InvalidInput) as excinfo:
        submit_application(application=draft, actor=alice)

    assert list(excinfo.value.fields) == ["sector_codes"]


@pytest.mark.parametrize(("state", "version"), [
    ("submitted", 2), ("under_review", 3), ("registered", 4),
])
def test_only_a_draft_can_be_submitted(request, alice, state, version):
    application = request.getfixturevalue(state)
    events = AuditEvent.objects.count()

    with pytest.raises(TransitionNotAllowed):
        submit_application(application=application, actor=alice)

    application.refresh_from_db()
    assert (application.status, application.version) == (state, version)
    assert AuditEvent.objects.count() == events
