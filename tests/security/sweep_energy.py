"""The tenant sweep's part for ISO 50001 energy performance: which object each URL
parameter names, Alice's energy objects, and everything a request could change."""

import datetime
from decimal import Decimal

from isocert.energy import services
from isocert.energy.demo import build_energy_story
from isocert.energy.models import (
    Baseline,
    EnergyUse,
    EnPI,
    ImportBatch,
    Meter,
    NonRoutineAdjustment,
    Reading,
    RelevantVariable,
    ReportingPeriod,
    VariableValue,
)

HTML_PK_KINDS = {
    "energy_home": "organization",
    "energy_setup": "organization",
    "energy_import": "organization",
    "energy_import_map": "organization",
    "energy_review": "organization",
    "baseline_list": "organization",
    "enpi_list": "organization",
    "energy_prefill": "organization",
    "meter_edit": "energy_meter",
    "meter_delete": "energy_meter",
    "variable_edit": "energy_variable",
    "variable_delete": "energy_variable",
    "energy_use_edit": "energy_use",
    "energy_use_delete": "energy_use",
    "energy_import_undo": "energy_import",
    "baseline_detail": "energy_baseline",
    "baseline_delete": "energy_baseline",
    "reporting_period_detail": "energy_reporting_period",
    "reporting_period_pdf": "energy_reporting_period",
    "reporting_period_delete": "energy_reporting_period",
    "enpi_delete": "energy_enpi",
    "adjustment_list": "organization",
    "adjustment_edit": "energy_adjustment",
    "adjustment_delete": "energy_adjustment",
}
API_PARAM_KINDS = {
    "meter_id": "energy_meter",
    "variable_id": "energy_variable",
    "energy_use_id": "energy_use",
    "energy_import_id": "energy_import",
    "baseline_id": "energy_baseline",
    "reporting_period_id": "energy_reporting_period",
    "enpi_id": "energy_enpi",
    "adjustment_id": "energy_adjustment",
}


def build_world(*, organization, alice) -> tuple[dict[str, list[int]], list[str]]:
    """Alice's meters, 18 months of data, a baseline with a reporting period and EnPIs."""
    story = build_energy_story(organization=organization, actor=alice)
    adjustment = services.create_adjustment(
        organization=organization, actor=alice, factor="floor_area",
        effective_from=datetime.date(2025, 3, 1), effective_to=datetime.date(2025, 6, 30),
        reason="Hall C added to the heated area", method="engineering",
        calculation="2,400 m² × 85 kWh/m²·a", kwh=Decimal("68000"))
    return {
        "energy_meter": list(Meter.objects.filter(organization=organization)
                             .values_list("pk", flat=True)),
        "energy_variable": list(RelevantVariable.objects.filter(organization=organization)
                                .values_list("pk", flat=True)),
        "energy_use": list(EnergyUse.objects.filter(organization=organization)
                           .values_list("pk", flat=True)),
        "energy_import": list(ImportBatch.objects.filter(organization=organization)
                              .values_list("pk", flat=True)),
        "energy_baseline": [story["baseline"].pk],
        "energy_reporting_period": [story["period"].pk],
        "energy_enpi": list(EnPI.objects.filter(organization=organization)
                            .values_list("pk", flat=True)),
        "energy_adjustment": [adjustment.pk],
    }, ["Hall C added to the heated area", "nordlicht-energy.csv", "Die-casting furnaces", "Normalized consumption index",
        "kWh per tonne", "First reporting period"]


def state(organization) -> dict:
    """Everything of Alice's energy records a request could have changed."""
    return {
        "meters": sorted(Meter.objects.filter(organization=organization).values_list(
            "pk", "name", "carrier_id", "unit", "site_id")),
        "uses": sorted((u.pk, u.name, u.is_significant,
                        tuple(sorted(u.meters.values_list("pk", flat=True))))
                       for u in EnergyUse.objects.filter(organization=organization)),
        "variables": sorted(RelevantVariable.objects.filter(organization=organization)
                            .values_list("pk", "name", "kind", "unit")),
        "readings": sorted(Reading.objects.filter(meter__organization=organization)
                           .values_list("pk", "period_start", "quantity", "kwh")),
        "values": sorted(VariableValue.objects.filter(variable__organization=organization)
                         .values_list("pk", "period_start", "value")),
        "imports": sorted(ImportBatch.objects.filter(organization=organization)
                          .values_list("pk", "sha256", "values")),
        "baselines": sorted((b.pk, b.name, b.period_start, b.period_end, b.result.get("r2"))
                            for b in Baseline.objects.filter(organization=organization)),
        "reporting_periods": sorted(ReportingPeriod.objects.filter(
            baseline__organization=organization).values_list("pk", "period_start",
                                                             "period_end")),
        "enpis": sorted(EnPI.objects.filter(organization=organization)
                        .values_list("pk", "name", "kind")),
        "adjustments": sorted(NonRoutineAdjustment.objects.filter(organization=organization)
                              .values_list("pk", "factor", "effective_from", "effective_to",
                                           "reason", "method", "kwh")),
    }
