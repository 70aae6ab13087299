"""update_application: editing a draft, optimistic concurrency, field-named format errors."""

import pytest

from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.models import AuditEvent
from isocert.registration.models import Application
from isocert.registration.services import request_information, update_application


def standard_codes(application):
    return [line.standard.code for line in application.standard_lines.select_related("standard")]


def snapshot(application):
    application.refresh_from_db()
    return (application.status, application.version, application.scope_statement,
            application.desired_audit_from, application.desired_audit_to,
            sorted(application.sites.values_list("pk", flat=True)), standard_codes(application),
            AuditEvent.objects.count())


def test_owner_edits_a_draft(draft, alice):
    updated = update_application(application=draft, actor=alice,
            scope_statement="  Die casting and machining of aluminium parts.  ",
            consultancy_used=True, consultancy_by="EnergieBeratung Nord")

    draft.refresh_from_db()
    assert updated.version == draft.version == 2
    assert draft.scope_statement == "Die casting and machining of aluminium parts."
    assert (draft.consultancy_used, draft.consultancy_by) == (True, "EnergieBeratung Nord")
    assert standard_codes(draft) == ["ISO 50001"]  # untouched fields stay
    event = AuditEvent.objects.last()
    assert event.action == "registration.application.updated"
    assert event.actor == alice
    assert event.payload == {"changed": ["consultancy_by", "consultancy_used", "scope_statement"]}


def test_replacing_the_standards_adds_and_removes_lines(draft, bob):
    update_application(application=draft, actor=bob,
                       standards=[
        {"standard": "ISO 9001", "effective_personnel": "180"},
        {"standard": "ISO 45001", "effective_personnel": "180", "complexity": "High"},
    ])

    draft.refresh_from_db()
    assert standard_codes(draft) == ["ISO 45001", "ISO 9001"]
    assert draft.is_integrated
    assert draft.standard_lines.get(standard__code="ISO 45001").complexity == "high"


def test_sites_are_chosen_among_the_organizations_own(draft, alice, nordlicht):
    plant = nordlicht.sites.get(name="Oldenburg plant")

    update_application(application=draft, actor=alice, site_ids=[plant.pk])

    assert list(draft.sites.all()) == [plant]


def test_expected_version_guards_against_lost_updates(draft, alice, bob):
    # Alice and Bob both opened version 1; Alice saves first.
    update_application(application=draft, actor=alice, expected_version=1,
                       scope_statement="Alice's scope.")
    before = snapshot(draft)

    with pytest.raises(Conflict) as excinfo:
        update_application(application=draft, actor=bob, expected_version=1,
                           scope_statement="Bob's scope.")

    assert excinfo.value.fields == {"version": "Stale version."}
    assert snapshot(draft) == before
    assert draft.scope_statement == "Alice's scope."
    assert draft.version == 2

    update_application(application=draft, actor=bob, expected_version=2,
                       scope_statement="Bob's scope.")
    draft.refresh_from_db()
    assert (draft.scope_statement, draft.version) == ("Bob's scope.", 3)


@pytest.mark.parametrize(("data", "errors"), [
    ({"standards": [{"standard": "ISO 14001", "complexity": "extreme"}]},
     {"standards.0.complexity": "Choose the complexity category for ISO 14001: High, Medium, "
                                "Low or Limited (ISO 14001 only)."}),
    ({"standards": [{"standard": "ISO 45001", "complexity": "limited"}]},
     {"standards.0.complexity": "Choose the complexity category for ISO 45001: High, Medium "
                                "or Low."}),
    ({"standards": [{"standard": "ISO 50001", "complexity": "high"}]},
     {"standards.0.complexity": "ISO 50001 has no complexity category."}),
    ({"standards": [{"standard": "ISO 9001"}, {"standard": "ISO 9002"}]},
     {"standards.1.standard": "Unknown standard 'ISO 9002'."}),
    ({"standards": [{"standard": "ISO 9001"}, {"standard": "ISO 9001"}]},
     {"standards.1.standard": "ISO 9001 is listed twice."}),
    ({"standards": [{"standard": "ISO 9001", "effective_personnel": "-3"}]},
     {"standards.0.effective_personnel": "Effective personnel must be a number above 0."}),
    ({"standards": [{"standard": "ISO 50001", "annual_energy_consumption_tj": "lots",
                     "energy_types": 0, "significant_energy_uses": "1001"}]},
     {"standards.0.annual_energy_consumption_tj": "Annual energy consumption must be a number above 0.",
      "standards.0.energy_types": "Number of energy types must be a whole number from 1 to 1000.",
      "standards.0.significant_energy_uses":
          "Number of significant energy uses must be a whole number from 1 to 1000."}),
    ({"standards": "ISO 9001"}, {"standards": "Give a list of standards."}),
    ({"desired_audit_from": "31/12/2030"}, {"desired_audit_from": "Enter a date (YYYY-MM-DD)."}),
    ({"desired_audit_from": "2030-06-30", "desired_audit_to": "2030-06-01"},
     {"desired_audit_to": "The end of the desired audit period is before its start."}),
    ({"scope_statement": "x" * 5001, "consultancy_by": "y" * 201},
     {"scope_statement": "At most 5000 characters.", "consultancy_by": "At most 200 characters."}),
])
def test_format_errors_name_their_fields_and_nothing_is_saved(draft, alice, data, errors):
    before = snapshot(draft)

    with pytest.raises(InvalidInput) as excinfo:
        update_application(application=draft, actor=alice, **data)

    assert excinfo.value.fields == errors
    assert snapshot(draft) == before


def test_a_valid_field_is_not_saved_alongside_an_invalid_one(draft, alice):
    before = snapshot(draft)

    with pytest.raises(InvalidInput) as excinfo:
        update_application(application=draft, actor=alice,
                           scope_statement="A perfectly good scope.",
                           standards=[{"standard": "ISO 45001", "complexity": "limited"}])

    assert list(excinfo.value.fields) == ["standards.0.complexity"]
    assert snapshot(draft) == before


def test_sites_of_another_organization_are_refused(draft, alice, brightpath):
    leeds = brightpath.sites.get()
    before = snapshot(draft)

    with pytest.raises(InvalidInput) as excinfo:
        update_application(application=draft, actor=alice, site_ids=[leeds.pk])

    assert list(excinfo.value.fields) == ["site_ids"]
    assert snapshot(draft) == before


@pytest.mark.parametrize("actor", ["vera", "rita", "ada", "charlie"])
def test_only_owners_and_editors_edit(request, draft, actor):
    user = request.getfixturevalue(actor)
    before = snapshot(draft)

    with pytest.raises(NotPermitted):
        update_application(application=draft, actor=user, scope_statement="Hijacked.")

    assert snapshot(draft) == before


@pytest.mark.parametrize("state", ["submitted", "under_review"])
def test_the_client_cannot_edit_while_the_cb_has_the_application(request, alice, state):
    application = request.getfixturevalue(state)
    before = snapshot(application)

    with pytest.raises(Conflict):
        update_application(application=application, actor=alice, scope_statement="Late.")

    assert snapshot(application) == before


def test_the_client_edits_again_when_the_cb_asks_for_information(under_review, rita, alice):
    request_information(application=under_review, actor=rita, message="Add the Oldenburg plant?")

    update_application(application=under_review, actor=alice, scope_statement="Wider.",
                       expected_version=4)

    under_review.refresh_from_db()
    assert (under_review.status, under_review.version) == ("information_requested", 5)
    assert under_review.scope_statement == "Wider."


def test_a_registered_application_is_read_only(registered, alice):
    before = snapshot(registered)

    with pytest.raises(Conflict, match="read-only once registered"):
        update_application(application=registered, actor=alice,
                           scope_statement="Changed after registration.")

    assert snapshot(registered) == before
    assert registered.status == Application.Status.REGISTERED
