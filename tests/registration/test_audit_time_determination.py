"""determine_audit_time: the audit time the CB fixes at application review.

The engine computes from the application's own data and the reviewer's factors;
the reviewer may set a figure by hand only with a written justification; a changed
initial time carries the derived figures along; refusals change nothing.
"""

from decimal import Decimal
from fractions import Fraction

import pytest
from factories import apply_for, client_for

from isocert.accounts.services import add_site
from isocert.catalog.audittime import compute_audit_time
from isocert.catalog.models import EnmsDayTableRow
from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.models import AuditEvent
from isocert.registration.models import Application, AuditTimeDetermination, Quotation
from isocert.registration.services import (
    accept_quotation,
    audit_time_inputs,
    determine_audit_time,
    issue_quotation,
)

FIGURES = ("initial_days", "stage1_days", "stage2_days", "surveillance_days",
           "recertification_days", "min_onsite_days")
WHY = "Three shifts and a die-casting line need a longer stage 2 on site."
ENMS_NOT_CONFIGURED = "ISO 50001 audit-day table (ISO 50003) not configured"


def figures(determination) -> dict:
    determination.refresh_from_db()
    return {key: getattr(determination, key) for key in FIGURES}


def days(*values) -> dict:
    return dict(zip(FIGURES, (None if v is None else Decimal(v) for v in values), strict=True))


@pytest.fixture
def quality(nordlicht, alice, rita) -> Application:
    """Nordlicht's ISO 9001 application (30 persons), under review; one site besides HQ."""
    return apply_for(nordlicht, alice, rita,
                     [{"standard": "ISO 9001", "effective_personnel": "30"}], register=False)


@pytest.fixture
def quality_registered(nordlicht, alice, rita) -> Application:
    return apply_for(nordlicht, alice, rita,
                     [{"standard": "ISO 9001", "effective_personnel": "30"}], register=True)


class Unchanged:
    """The determination, the application and the audit trail as they were."""

    def __init__(self, application):
        self.application = application
        self.state = self.read()

    def read(self):
        row = (AuditTimeDetermination.objects.filter(application=self.application)
               .values("inputs", "computed", "overrides", *FIGURES, "determined_by",
                       "determined_at").first())
        app = Application.objects.get(pk=self.application.pk)
        return (row, app.status, app.version, AuditEvent.objects.count(),
                list(Quotation.objects.filter(application=app).values_list("pk", "status")))

    def check(self):
        assert self.read() == self.state


# --- computed figures -----------------------------------------------------------------------------

def test_computed_figures_are_the_engines_on_the_applications_data(quality, rita):
    determination = determine_audit_time(application=quality, actor=rita)

    determination.refresh_from_db()
    assert determination.inputs == {
        "standards": [{"code": "ISO 9001", "effective_personnel": "30.00"}],
        "adjustments": [],
        "sites": {"count": 1, "sampling_allowed": False},
    }
    assert determination.computed == compute_audit_time(determination.inputs)
    assert determination.computed["standards"] == [
        {"code": "ISO 9001", "table_days": 4.0, "adjusted_days": 4.0}]
    # Minimum on-site: 80 % of 4 days = 3.2, rounded up to 3.5 (IAF MD 5 / IAF MD 11).
    assert figures(determination) == days("4", "1.5", "2.5", "1.5", "2.5", "3.5")
    assert determination.overrides == {}
    assert determination.is_complete
    assert determination.determined_by == rita


def test_the_inputs_come_from_the_applications_lines_and_sites(quality):
    inputs = audit_time_inputs(quality, adjustments=[], sampling_allowed=True)

    assert inputs == {"standards": [{"code": "ISO 9001", "effective_personnel": "30.00"}],
                      "adjustments": [], "sites": {"count": 1, "sampling_allowed": True}}


def test_adjustments_integration_and_sampling_are_applied(nordlicht, alice, rita):
    for number in range(2, 5):
        add_site(organization=nordlicht, actor=alice, name=f"Warehouse {number}",
                 address=f"Lagerweg {number}, Bremen", effective_personnel=5, shifts=1)
    application = apply_for(nordlicht, alice, rita, [
        {"standard": "ISO 9001", "effective_personnel": "120"},
        {"standard": "ISO 14001", "effective_personnel": "120", "complexity": "medium"}],
        register=False)
    adjustments = [{"reason": "Mature, well-documented system", "percent": "-10"}]

    determination = determine_audit_time(application=application, actor=rita,
                                         adjustments=adjustments, sampling_allowed=True,
                                         integration_reduction_percent="10")

    determination.refresh_from_db()
    expected_input = {
        "standards": [{"code": "ISO 14001", "effective_personnel": "120.00",
                       "complexity": "medium"},
                      {"code": "ISO 9001", "effective_personnel": "120.00"}],
        "adjustments": adjustments,
        "sites": {"count": 4, "sampling_allowed": True},
        "integration_reduction_percent": "10",
    }
    assert determination.inputs == expected_input
    computed = determination.computed
    assert computed == compute_audit_time(expected_input)
    assert computed["net_adjustment_percent"] == -10.0
    assert computed["integration_reduction_percent"] == 10.0
    assert [(s["code"], s["table_days"], s["adjusted_days"]) for s in computed["standards"]] == [
        ("ISO 9001", 7.0, 6.3), ("ISO 14001", 8.0, 7.2)]
    # 6.3 + 7.2 = 13.5, less 10 % for integration = 12.15 -> 12 days.
    # Minimum on-site 12 x 0.8 = 9.6 -> 10 (rounded up: never below 80 %).
    assert figures(determination) == days("12", "4", "8", "4", "8", "10")
    # IAF MD 1 with sampling over 4 sites: ceil(sqrt 4) = 2, ceil(0.6 x 2) = 2, ceil(0.8 x 2) = 2.
    assert computed["sites_to_visit"] == {"initial": 2, "surveillance": 2, "recertification": 2,
                                          "central_function": True}

    without_sampling = determine_audit_time(application=application, actor=rita,
                                            adjustments=adjustments, sampling_allowed=False,
                                            integration_reduction_percent="10")
    assert without_sampling.computed["sites_to_visit"] == {
        "initial": 4, "surveillance": 2, "recertification": 4, "central_function": True}
    assert AuditTimeDetermination.objects.filter(application=application).count() == 1


def test_the_stage_1_share_setting_splits_the_initial_time(quality, rita, settings):
    settings.AUDIT_TIME_STAGE1_SHARE = "1/4"

    determination = determine_audit_time(application=quality, actor=rita)

    assert determination.computed == compute_audit_time(determination.inputs,
                                                         stage1_share=Fraction(1, 4))
    assert figures(determination) == days("4", "1", "3", "1.5", "2.5", "3.5")


# --- figures set by hand ------------------------------------------------------------------------

@pytest.mark.parametrize(("overrides", "expected"), [
    # A changed initial time carries every derived figure along.
    ({"initial_days": "6"}, ("6", "2", "4", "2", "4", "5")),
    ({"initial_days": "7.5"}, ("7.5", "2.5", "5", "2.5", "5", "6")),
    # The minimum on-site time follows rounded UP, never below 80 % (IAF MD 5 / IAF MD 11):
    # 9 x 0.8 = 7.2 -> 7.5, 14.5 x 0.8 = 11.6 -> 12, 4 x 0.8 = 3.2 -> 3.5.
    ({"initial_days": "9"}, ("9", "3", "6", "3", "6", "7.5")),
    ({"initial_days": "14.5"}, ("14.5", "5", "9.5", "5", "9.5", "12")),
    ({"initial_days": "4", "stage1_days": "1"}, ("4", "1", "3", "1.5", "2.5", "3.5")),
    # ... unless a derived figure was set by hand too.
    ({"initial_days": "6", "stage1_days": "1.5", "surveillance_days": "2.5"},
     ("6", "1.5", "4.5", "2.5", "4", "5")),
    ({"initial_days": "6", "recertification_days": "3.5"}, ("6", "2", "4", "2", "3.5", "5")),
    # Without a changed initial time the others keep the computed figures.
    ({"stage1_days": "1"}, ("4", "1", "3", "1.5", "2.5", "3.5")),
    ({"surveillance_days": "2"}, ("4", "1.5", "2.5", "2", "2.5", "3.5")),
    ({"recertification_days": "3"}, ("4", "1.5", "2.5", "1.5", "3", "3.5")),
])
def test_figures_set_by_hand_and_what_follows_them(quality, rita, overrides, expected):
    given = {key: {"value": value, "justification": f"{WHY} ({key})"}
             for key, value in overrides.items()}

    determination = determine_audit_time(application=quality, actor=rita, overrides=given)

    assert figures(determination) == days(*expected)
    assert determination.overrides == {
        key: {"value": float(value), "justification": f"{WHY} ({key})"}
        for key, value in overrides.items()}
    # The computed figures are kept beside the applying ones.
    assert determination.computed["initial_days"] == 4.0
    assert determination.computed["stage1_days"] == 1.5
    assert [f["override"] for f in determination.figures()] == [
        determination.overrides.get(key) for key in FIGURES]


def test_stage_2_is_the_initial_time_less_stage_1(quality, rita):
    determination = determine_audit_time(application=quality, actor=rita, overrides={
        "initial_days": {"value": "9.5", "justification": WHY},
        "stage1_days": {"value": "3", "justification": "Two sites to visit for stage 1."}})

    assert (determination.initial_days, determination.stage1_days,
            determination.stage2_days) == (Decimal("9.5"), Decimal("3"), Decimal("6.5"))


def test_a_new_determination_replaces_the_last_one_overrides_included(quality, rita):
    determine_audit_time(application=quality, actor=rita,
                         overrides={"initial_days": {"value": "6", "justification": WHY}})

    determination = determine_audit_time(application=quality, actor=rita)

    assert determination.overrides == {}
    assert figures(determination) == days("4", "1.5", "2.5", "1.5", "2.5", "3.5")
    assert AuditTimeDetermination.objects.filter(application=quality).count() == 1


def test_an_empty_override_is_no_override_and_justifications_are_trimmed(quality, rita):
    determination = determine_audit_time(application=quality, actor=rita, overrides={
        "initial_days": {"value": "5", "justification": f"   {WHY}\n"},
        "stage1_days": {"value": "", "justification": ""},
        "surveillance_days": None,
    })

    assert determination.overrides == {"initial_days": {"value": 5.0, "justification": WHY}}
    assert figures(determination) == days("5", "1.5", "3.5", "1.5", "3.5", "4")


def test_a_justification_of_exactly_ten_characters_is_enough(quality, rita):
    determination = determine_audit_time(
        application=quality, actor=rita,
        overrides={"initial_days": {"value": "4.5", "justification": "  ten chars!  "}})

    assert determination.overrides["initial_days"]["justification"] == "ten chars!"
    assert determination.initial_days == Decimal("4.5")


def test_the_audit_event_carries_figures_overrides_and_justification(quality, rita, nordlicht):
    overrides = {"initial_days": {"value": "6", "justification": WHY},
                 "surveillance_days": {"value": "2.5", "justification": "Yearly visit of both "
                                                                        "sites."}}
    before = AuditEvent.objects.count()

    determine_audit_time(application=quality, actor=rita, overrides=overrides,
                         adjustments=[{"reason": "Several languages", "percent": "10"}])

    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.order_by("seq").last()
    assert event.action == "registration.audit_time.determined"
    assert (event.object_type, event.object_id) == ("registration.application", str(quality.pk))
    assert event.actor == rita
    assert event.organization_id == nordlicht.pk
    assert set(event.payload) == {"figures", "overrides", "net_adjustment_percent",
                                  "needs_configuration"}
    assert event.payload["overrides"] == {
        "initial_days": {"value": 6.0, "justification": WHY},
        "surveillance_days": {"value": 2.5, "justification": "Yearly visit of both sites."}}
    assert {k: Decimal(v) for k, v in event.payload["figures"].items()} == days(
        "6", "2", "4", "2.5", "4", "5")
    assert event.payload["net_adjustment_percent"] == 10.0
    assert event.payload["needs_configuration"] == []


# --- refusals -----------------------------------------------------------------------------------

@pytest.fixture
def determined(quality, rita):
    """A first determination to leave untouched."""
    determine_audit_time(application=quality, actor=rita,
                         overrides={"initial_days": {"value": "5", "justification": WHY}})
    return quality


@pytest.mark.parametrize("who", ["alice", "bob", "charlie", "adam", "ada"])
def test_only_a_cb_reviewer_determines_audit_time(determined, who, request):
    actor = request.getfixturevalue(who)
    unchanged = Unchanged(determined)

    with pytest.raises(NotPermitted) as refused:
        determine_audit_time(application=determined, actor=actor)

    assert refused.value.fields == {}
    unchanged.check()


@pytest.mark.parametrize("state", ["draft", "submitted"])
def test_audit_time_is_determined_only_under_review_or_registered(state, rita, request):
    application = request.getfixturevalue(state)
    unchanged = Unchanged(application)

    with pytest.raises(Conflict) as refused:
        determine_audit_time(application=application, actor=rita)

    assert refused.value.fields == {}
    assert "under review or registered" in refused.value.message
    unchanged.check()
    assert not AuditTimeDetermination.objects.filter(application=application).exists()


@pytest.mark.parametrize(("overrides", "field"), [
    ({"initial_days": {"value": "6"}}, "overrides.initial_days.justification"),
    ({"initial_days": {"value": "6", "justification": ""}},
     "overrides.initial_days.justification"),
    ({"initial_days": {"value": "6", "justification": "Too short"}},
     "overrides.initial_days.justification"),
    ({"stage1_days": {"value": "1", "justification": "   123456789    "}},
     "overrides.stage1_days.justification"),
    ({"initial_days": {"value": "4.3", "justification": WHY}}, "overrides.initial_days.value"),
    ({"initial_days": {"value": "4.25", "justification": WHY}}, "overrides.initial_days.value"),
    ({"initial_days": {"value": "0", "justification": WHY}}, "overrides.initial_days.value"),
    ({"surveillance_days": {"value": "-1.5", "justification": WHY}},
     "overrides.surveillance_days.value"),
    ({"recertification_days": {"value": "many", "justification": WHY}},
     "overrides.recertification_days.value"),
    ({"initial_days": {"value": "1000", "justification": WHY}}, "overrides.initial_days.value"),
    ({"initial_days": {"value": "NaN", "justification": WHY}}, "overrides.initial_days.value"),
    ({"stage2_days": {"value": "3", "justification": WHY}}, "overrides.stage2_days"),
    ({"min_onsite_days": {"value": "3", "justification": WHY}}, "overrides.min_onsite_days"),
    ({"travel_days": {"value": "1", "justification": WHY}}, "overrides.travel_days"),
    # Stage 1 must leave time for stage 2.
    ({"stage1_days": {"value": "4", "justification": WHY}}, "overrides.stage1_days.value"),
    ({"stage1_days": {"value": "6", "justification": WHY}}, "overrides.stage1_days.value"),
    ({"initial_days": {"value": "3", "justification": WHY},
      "stage1_days": {"value": "3", "justification": WHY}}, "overrides.stage1_days.value"),
])
def test_refused_overrides_change_nothing(determined, rita, overrides, field):
    unchanged = Unchanged(determined)

    with pytest.raises(InvalidInput) as refused:
        determine_audit_time(application=determined, actor=rita, overrides=overrides)

    assert list(refused.value.fields) == [field]
    unchanged.check()


def test_the_audit_time_is_fixed_once_a_quotation_is_accepted(quality_registered, rita, alice):
    determine_audit_time(application=quality_registered, actor=rita)
    accept_quotation(quotation=issue_quotation(application=quality_registered, actor=rita),
                     actor=alice)
    unchanged = Unchanged(quality_registered)

    with pytest.raises(Conflict) as refused:
        determine_audit_time(application=quality_registered, actor=rita, overrides={
            "initial_days": {"value": "8", "justification": WHY}})

    assert refused.value.fields == {}
    assert "accepted a quotation" in refused.value.message
    unchanged.check()


def test_a_registered_application_may_be_determined_again_before_acceptance(
        quality_registered, rita):
    determine_audit_time(application=quality_registered, actor=rita)
    issue_quotation(application=quality_registered, actor=rita)

    determination = determine_audit_time(application=quality_registered, actor=rita, overrides={
        "initial_days": {"value": "5", "justification": WHY}})

    assert determination.initial_days == Decimal("5")


# --- ISO 50001 and the CB's ISO 50003 table -----------------------------------------------------

def test_iso_50001_without_the_table_gives_no_days_and_no_quotation(registered, rita):
    determination = determine_audit_time(application=registered, actor=rita)

    assert figures(determination) == days(None, None, None, None, None, None)
    assert not determination.is_complete
    assert determination.computed["needs_configuration"] == [ENMS_NOT_CONFIGURED]
    assert determination.computed["standards"] == [
        {"code": "ISO 50001", "complexity": "medium", "complexity_score": 1.25,
         "table_days": None, "adjusted_days": None}]
    event = AuditEvent.objects.order_by("seq").last()
    assert event.payload["needs_configuration"] == [ENMS_NOT_CONFIGURED]
    assert event.payload["figures"] == dict.fromkeys(FIGURES)

    unchanged = Unchanged(registered)
    with pytest.raises(Conflict) as refused:
        issue_quotation(application=registered, actor=rita)
    assert "ISO 50003" in refused.value.message
    unchanged.check()


def test_iso_50001_a_derived_figure_alone_does_not_make_it_complete(registered, rita):
    determination = determine_audit_time(application=registered, actor=rita, overrides={
        "surveillance_days": {"value": "2", "justification": WHY}})

    assert figures(determination) == days(None, None, None, None, None, None)
    with pytest.raises(Conflict):
        issue_quotation(application=registered, actor=rita)


def test_iso_50001_initial_days_set_by_hand_allow_the_quotation(registered, rita):
    justification = "ISO 50003 table A.1: 24 persons, medium complexity, 5 days."

    determination = determine_audit_time(application=registered, actor=rita, overrides={
        "initial_days": {"value": "5", "justification": justification}})

    assert figures(determination) == days("5", "1.5", "3.5", "1.5", "3.5", "4")
    assert determination.is_complete
    assert determination.computed["initial_days"] is None
    quotation = issue_quotation(application=registered, actor=rita)
    assert quotation.audit_time["overrides"] == {
        "initial_days": {"value": 5.0, "justification": justification}}
    assert quotation.audit_time["needs_configuration"] == [ENMS_NOT_CONFIGURED]


def test_iso_50001_with_the_cbs_table_computes_the_days(registered, rita):
    EnmsDayTableRow.objects.create(personnel_min=1, personnel_max=65, high=Decimal("7"),
                                   medium=Decimal("6"), low=Decimal("5"))
    EnmsDayTableRow.objects.create(personnel_min=66, personnel_max=None, high=Decimal("10"),
                                   medium=Decimal("9"), low=Decimal("8"))

    determination = determine_audit_time(application=registered, actor=rita)

    determination.refresh_from_db()
    table = [{"personnel_min": 1, "personnel_max": 65, "high": 7, "medium": 6, "low": 5},
             {"personnel_min": 66, "personnel_max": None, "high": 10, "medium": 9, "low": 8}]
    assert determination.computed == compute_audit_time(determination.inputs,
                                                        enms_days_table=table)
    assert determination.computed["needs_configuration"] == []
    assert determination.computed["standards"][0]["table_days"] == 6.0
    assert figures(determination) == days("6", "2", "4", "2", "4", "5")
    assert determination.is_complete


# --- the reviewer's page ------------------------------------------------------------------------

def test_the_review_page_form_is_for_cb_reviewers_only(quality, alice):
    unchanged = Unchanged(quality)

    response = client_for(alice).post(f"/review/{quality.pk}/audit-time/",
                                      {"override_initial_days": "6",
                                       "justification_initial_days": WHY})

    assert response.status_code == 404
    unchanged.check()


def test_the_review_page_form_needs_a_justification_for_a_figure_set_by_hand(quality, rita):
    client = client_for(rita)
    unchanged = Unchanged(quality)

    refused = client.post(f"/review/{quality.pk}/audit-time/",
                          {"override_initial_days": "6", "justification_initial_days": "short"})

    assert refused.status_code == 400
    assert "Explain why (at least 10 characters)." in refused.content.decode()
    unchanged.check()

    saved = client.post(f"/review/{quality.pk}/audit-time/", {
        "override_initial_days": "6", "justification_initial_days": WHY,
        "adjustment_0_reason": "Several languages", "adjustment_0_percent": "10",
        "sampling_allowed": "on"})

    assert saved.status_code == 302
    assert saved["Location"] == f"/review/{quality.pk}/#audit-time"
    determination = AuditTimeDetermination.objects.get(application=quality)
    assert determination.overrides == {"initial_days": {"value": 6.0, "justification": WHY}}
    assert determination.inputs["adjustments"] == [{"reason": "Several languages",
                                                    "percent": "10"}]
    assert determination.inputs["sites"] == {"count": 1, "sampling_allowed": True}
    page = client.get(f"/review/{quality.pk}/").content.decode()
    assert WHY in page

