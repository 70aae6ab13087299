"""Energy services: who may write, what they refuse, the audit trail, the pre-fill and
the improvement evidence the certification decision reads."""

import datetime
from decimal import Decimal

import pytest
from django.http import Http404

from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.models import AuditEvent
from isocert.energy import selectors, services
from isocert.energy.demo import monthly_csv, monthly_mapping
from isocert.energy.importer import MappingChoice
from isocert.energy.models import Baseline, Meter, ReportingPeriod


def test_owners_and_editors_set_up_meters_with_an_audit_event(nordlicht, alice, bob):
    meter = services.create_meter(
        organization=nordlicht, actor=bob,
        name="Compressors", carrier="electricity", unit="MWh")
    services.update_meter(meter=meter, actor=alice, name="Compressed air")

    events = AuditEvent.objects.filter(object_type="energy.meter", object_id=str(meter.pk))
    assert [e.action for e in events.order_by("seq")] == ["energy.meter.created",
                                                          "energy.meter.updated"]
    assert events.first().organization_id == nordlicht.pk
    meter.refresh_from_db()
    assert meter.name == "Compressed air"


def test_a_viewer_cannot_write(nordlicht, vera, setup):
    with pytest.raises(NotPermitted):
        services.create_meter(
            organization=nordlicht, actor=vera,
            name="X", carrier="electricity", unit="kWh")
    with pytest.raises(NotPermitted):
        services.delete_energy_use(use=nordlicht.energy_uses.first(), actor=vera)
    with pytest.raises(NotPermitted):
        services.import_energy_data(organization=nordlicht, actor=vera, data=b"a,b\n1,2\n",
                                    file_name="x.csv",
                                    mapping=MappingChoice.from_json({}))
    assert Meter.objects.filter(organization=nordlicht).count() == 2


def test_charlie_gets_404_for_nordlichts_objects(nordlicht, charlie, setup):
    with pytest.raises(Http404):
        selectors.organization_for_energy(user=charlie, pk=nordlicht.pk)
    with pytest.raises(Http404):
        selectors.meter_get(user=charlie, pk=setup["electricity"].pk)


def test_a_meter_in_an_unknown_unit_or_a_duplicate_name_is_refused(nordlicht, alice, setup):
    with pytest.raises(InvalidInput) as unit:
        services.create_meter(
            organization=nordlicht, actor=alice,
            name="Oil", carrier="fuel-oil", unit="barrel")
    with pytest.raises(InvalidInput) as duplicate:
        services.create_meter(
            organization=nordlicht, actor=alice,
            name="Electricity", carrier="electricity", unit="kWh")

    assert "unit" in unit.value.fields and "name" in duplicate.value.fields


def test_a_meter_with_readings_keeps_its_unit_and_cannot_be_deleted(nordlicht, alice, setup):
    services.import_energy_data(organization=nordlicht, actor=alice, file_name="a.csv",
                                data=monthly_csv(months=3).encode(),
                                mapping=MappingChoice.from_json(monthly_mapping(setup)))

    with pytest.raises(InvalidInput):
        services.update_meter(meter=setup["gas"], actor=alice, unit="kWh")
    with pytest.raises(Conflict):
        services.delete_meter(meter=setup["gas"], actor=alice)


def test_the_baseline_is_fitted_and_stored(story):
    baseline = story["baseline"]

    assert baseline.result["names"] == ["Production", "Heating degree days"]
    assert baseline.result["n"] == 12 and baseline.result["usable"]
    assert baseline.result["r2"] > 0.99
    assert AuditEvent.objects.filter(action="energy.baseline.created").exists()


def test_a_baseline_without_enough_data_is_refused(nordlicht, alice, setup):
    services.import_energy_data(organization=nordlicht, actor=alice, file_name="a.csv",
                                data=monthly_csv(months=3).encode(),
                                mapping=MappingChoice.from_json(monthly_mapping(setup)))

    with pytest.raises(InvalidInput, match="too few"):
        services.create_baseline(
            organization=nordlicht, actor=alice,
            name="Short", period_start=datetime.date(2024, 1, 1), period_end=datetime.date(2024, 3, 31),
            variable_ids=[setup["production"].pk, setup["hdd"].pk])
    assert not Baseline.objects.exists()


def test_a_reporting_period_overlapping_the_baseline_is_refused(story, alice):
    with pytest.raises(InvalidInput, match="overlaps"):
        services.add_reporting_period(
            baseline=story["baseline"], actor=alice,
            period_start=datetime.date(2024, 12, 1), period_end=datetime.date(2025, 3, 31))


def test_improvement_evidence_is_demonstrated_for_the_story(nordlicht, story):
    evidence = selectors.improvement_evidence(organization_id=nordlicht.pk)

    assert evidence["demonstrated"] is True
    assert evidence["improvement_percent"] == pytest.approx(
        evidence["savings_kwh"] / evidence["expected_kwh"] * 100, abs=0.01)
    assert 5 < evidence["improvement_percent"] < 10
    assert evidence["baseline"] == "EnB 2024"
    assert evidence["baseline_period"] == "2024-01-01 – 2024-12-31"
    assert evidence["reporting_period"] == "2025-01-01 – 2025-06-30"
    assert evidence["points"] == 12 and evidence["r2"] > 0.99 and evidence["warnings"] == []
    assert evidence["summary"].startswith("Energy performance improvement demonstrated")
    assert evidence["reasons"] == [] and evidence["model_form"] == "linear"
    assert 0 < evidence["fsu"] < 0.5 and evidence["confidence"] == 0.68
    assert evidence["savings_uncertainty_kwh"] == pytest.approx(
        evidence["fsu"] * evidence["savings_kwh"], rel=1e-3)
    assert f"± {evidence['savings_uncertainty_kwh']:,.0f} kWh" in evidence["summary"]
    assert "Reporting period “" in evidence["summary"]
    assert set(evidence) == {"demonstrated", "reasons", "improvement_percent", "savings_kwh",
                             "savings_uncertainty_kwh", "fsu", "confidence", "expected_kwh",
                             "actual_kwh", "baseline", "baseline_period", "reporting_period",
                             "reporting_period_name", "model_form", "cv_rmse", "r2", "points",
                             "warnings", "non_routine_adjustment_kwh", "summary"}
    assert evidence["non_routine_adjustment_kwh"] == 0


def test_a_baseline_fitted_before_the_mv_rules_is_judged_on_read(nordlicht, story):
    baseline = story["baseline"]
    assert baseline.result["valid"] is True and baseline.is_usable
    Baseline.objects.filter(pk=baseline.pk).update(result={
        k: v for k, v in baseline.result.items() if k not in ("valid", "validity")})
    baseline.refresh_from_db()

    fit = selectors.baseline_fit(baseline)
    listed = selectors.assessed_baselines(nordlicht)

    assert fit.valid is True and fit.usable
    assert [b.is_usable for b in listed] == [True]


def test_improvement_evidence_is_none_without_a_reporting_period(nordlicht, brightpath):
    assert selectors.improvement_evidence(organization_id=nordlicht.pk) is None
    assert selectors.improvement_evidence(organization_id=brightpath.pk) is None


def test_no_improvement_is_not_demonstrated(nordlicht, alice, setup):
    data = monthly_csv(months=18, improvement=-0.05)  # 5 % worse after the baseline year
    services.import_energy_data(organization=nordlicht, actor=alice, file_name="w.csv",
                                data=data.encode(), mapping=MappingChoice.from_json(monthly_mapping(setup)))
    baseline = services.create_baseline(
        organization=nordlicht, actor=alice,
        name="EnB", period_start=datetime.date(2024, 1, 1), period_end=datetime.date(2024, 12, 31),
        variable_ids=[setup["production"].pk, setup["hdd"].pk])
    services.add_reporting_period(
        baseline=baseline, actor=alice,
        period_start=datetime.date(2025, 1, 1), period_end=datetime.date(2025, 6, 30))

    evidence = selectors.improvement_evidence(organization_id=nordlicht.pk)

    assert evidence["demonstrated"] is False and evidence["improvement_percent"] < 0
    assert "not demonstrated" in evidence["summary"]


def test_an_unusable_model_never_demonstrates_improvement(nordlicht, alice, setup):
    services.import_energy_data(organization=nordlicht, actor=alice, file_name="a.csv",
                                data=monthly_csv(months=12, baseline_months=8).encode(),
                                mapping=MappingChoice.from_json(monthly_mapping(setup)))
    baseline = services.create_baseline(
        organization=nordlicht, actor=alice,
        name="Eight months", period_start=datetime.date(2024, 1, 1), period_end=datetime.date(2024, 8, 31),
        variable_ids=[setup["production"].pk, setup["hdd"].pk])
    services.add_reporting_period(
        baseline=baseline, actor=alice,
        period_start=datetime.date(2024, 9, 1), period_end=datetime.date(2024, 12, 31))

    evidence = selectors.improvement_evidence(organization_id=nordlicht.pk)

    assert evidence["improvement_percent"] > 0 and evidence["demonstrated"] is False
    assert any("full year is needed" in r for r in evidence["reasons"])
    assert not baseline.is_usable


def test_energy_review_by_carrier_use_and_the_iso50003_inputs(nordlicht, story):
    review = selectors.energy_review(nordlicht)

    assert review.start == datetime.date(2024, 7, 1) and review.end == datetime.date(2025, 6, 30)
    assert not review.annualized
    assert {s.name for s in review.by_carrier} == {"Electricity", "Natural gas"}
    assert review.by_use[0].name == "Die-casting furnaces" and review.by_use[0].significant
    assert review.by_use[-1].cumulative_percent == pytest.approx(100)
    assert review.seu_share_percent == pytest.approx(review.by_use[0].percent)
    assert (review.energy_types, review.seu_count) == (2, 1)
    assert review.annual_tj == pytest.approx(review.total_kwh * 0.0000036)


def test_prefill_copies_the_review_into_the_draft_application(nordlicht, alice, draft, story):
    review = selectors.energy_review(nordlicht)

    application = services.prefill_application_inputs(organization=nordlicht, actor=alice)

    line = application.standard_lines.get(standard__code="ISO 50001")
    assert application.pk == draft.pk and application.version == draft.version + 1
    assert line.annual_energy_consumption_tj == Decimal(str(round(review.annual_tj, 3)))
    assert (line.energy_types, line.significant_energy_uses) == (2, 1)
    assert line.effective_personnel == Decimal("24")
    actions = list(AuditEvent.objects.order_by("-seq").values_list("action", flat=True)[:2])
    assert actions == ["energy.application.prefilled", "registration.application.updated"]


def test_prefill_without_a_draft_or_data_is_refused(nordlicht, alice, setup, submitted):
    with pytest.raises(InvalidInput, match="Import meter readings first"):
        services.prefill_application_inputs(organization=nordlicht, actor=alice)
    services.import_energy_data(organization=nordlicht, actor=alice, file_name="a.csv",
                                data=monthly_csv(months=3).encode(),
                                mapping=MappingChoice.from_json(monthly_mapping(setup)))
    with pytest.raises(Conflict, match="no ISO 50001 application in draft"):
        services.prefill_application_inputs(organization=nordlicht, actor=alice)


def test_enpi_trends_by_month(nordlicht, story):
    ratio, regression = (selectors.enpi_trend(e) for e in selectors.enpis_of(nordlicht)
                         .order_by("kind"))

    assert ratio.unit == "kWh/t" and len(ratio.months) == 18
    assert regression.unit == "actual ÷ expected"
    assert all(0.97 < v < 1.03 for v in regression.values[:12])
    assert all(v < 0.97 for v in regression.values[12:])


def test_cb_staff_read_once_nordlicht_deals_with_the_cb(nordlicht, dora, adam, rita, alice,
                                                        draft, story):
    for user in (dora, adam, rita):
        assert not selectors.can_read(user, nordlicht.pk)

    from isocert.registration.services import submit_application

    submit_application(application=draft, actor=alice)

    assert selectors.can_read(dora, nordlicht.pk) and selectors.can_read(rita, nordlicht.pk)
    assert not selectors.can_read(adam, nordlicht.pk)  # not on a team of Nordlicht's audits
    assert not selectors.can_edit(user=dora, organization=nordlicht)


def test_renaming_a_variable_keeps_the_baseline_working(nordlicht, alice, story):
    services.update_variable(variable=story["production"], actor=alice,
                             name="Good castings")

    evidence = selectors.improvement_evidence(organization_id=nordlicht.pk)

    assert evidence["demonstrated"] is True


def test_choice_errors_name_the_choices_as_the_page_shows_them(nordlicht, alice):
    with pytest.raises(InvalidInput) as refused:
        services.create_variable(organization=nordlicht, actor=alice,
                                 name="Output", kind="tonnage", unit="t")
    assert refused.value.fields["kind"] == (
        "Choose the kind: Production, Heating degree days, Cooling degree days, Operating "
        "hours, Occupancy or Other.")
    with pytest.raises(InvalidInput) as refused:
        services.create_enpi(organization=nordlicht, actor=alice,
                             name="?", kind="magic")
    assert refused.value.fields["kind"] == ("Choose the kind: kWh per unit of a variable or "
                                            "Actual ÷ expected by the baseline model.")


# --- refused: a reporting period before its baseline, a near-singular baseline ---------------

def test_a_reporting_period_before_the_baseline_is_refused(story, alice):
    with pytest.raises(InvalidInput, match="comes before the baseline period") as refused:
        services.add_reporting_period(
            baseline=story["baseline"], actor=alice,
            period_start=datetime.date(2023, 1, 1), period_end=datetime.date(2023, 6, 30))

    assert refused.value.fields == {"period_start": "Choose a period after 1 Jan 2024 – "
                                                    "31 Dec 2024."}
    assert ReportingPeriod.objects.filter(baseline=story["baseline"]).count() == 1


def test_a_near_singular_baseline_is_refused_naming_the_variables(nordlicht, alice, setup,
                                                                  near_duplicate):
    shifts = near_duplicate

    with pytest.raises(InvalidInput) as refused:
        services.create_baseline(
            organization=nordlicht, actor=alice,
            name="EnB", period_start=datetime.date(2024, 1, 1), period_end=datetime.date(2024, 12, 31),
            meter_ids=[setup["electricity"].pk],
            variable_ids=[setup["production"].pk, shifts.pk])

    assert refused.value.message.startswith(
        "The baseline cannot be fitted: “Production” and “Shifts” (nearly) follow from one "
        "another")
    assert "remove one of them" in refused.value.fields["variable_ids"]
    assert not Baseline.objects.exists()


# --- the certification decision's window ---------------------------------------------------

def test_improvement_evidence_within_a_window(nordlicht, story):
    within = selectors.improvement_evidence(organization_id=nordlicht.pk,
                                            starts_from=datetime.date(2025, 1, 1),
                                            ends_by=datetime.date(2025, 6, 30))
    assert within["demonstrated"] is True


@pytest.mark.parametrize("starts_from, ends_by, why", [
    (datetime.date(2025, 1, 2), datetime.date(2026, 5, 4),
     "starts before 2 Jan 2025, when the cycle being decided began"),
    (None, datetime.date(2025, 6, 29),
     "ends after 29 Jun 2025, the decision date: its data is not complete"),
])
def test_improvement_evidence_outside_the_window_is_not_demonstrated(nordlicht, story,
                                                                     starts_from, ends_by,
                                                                     why):
    evidence = selectors.improvement_evidence(organization_id=nordlicht.pk,
                                              starts_from=starts_from, ends_by=ends_by)

    assert evidence["demonstrated"] is False
    assert evidence["reporting_period"] == "2025-01-01 – 2025-06-30"
    assert evidence["summary"].startswith(
        "Energy performance improvement not demonstrated: no reporting period lies within "
        "the cycle being decided")
    assert f"“First reporting period” (1 Jan 2025 – 30 Jun 2025), {why}" in evidence["summary"]


def test_a_partial_update_changes_and_records_only_what_it_names(nordlicht, alice, setup):
    meter = setup["electricity"]
    site = meter.site

    services.update_meter(meter=meter, actor=alice, name="Main electricity")
    services.update_meter(meter=meter, actor=alice, site_id=None)

    meter.refresh_from_db()
    assert (meter.name, meter.unit, meter.site) == ("Main electricity", "kWh", None)
    assert site is not None
    payloads = [e.payload for e in AuditEvent.objects.filter(
        action="energy.meter.updated").order_by("seq")]
    assert payloads == [{"changed": ["name"]}, {"changed": ["site_id"]}]
