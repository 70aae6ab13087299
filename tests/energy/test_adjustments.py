"""Non-routine adjustments: recorded by editors with date, reason, method and signed kWh,
audit-trailed, listed in the adjustment log, and totalled for a reporting period."""

import datetime
from decimal import Decimal

import pytest
from django.http import Http404
from helpers.pdf import pdf_text

from isocert.core.errors import InvalidInput, NotPermitted
from isocert.core.models import AuditEvent
from isocert.energy import selectors, services
from isocert.energy.models import NonRoutineAdjustment

MARCH, JUNE = datetime.date(2025, 3, 1), datetime.date(2025, 6, 30)


def _record(organization, actor, **changes) -> NonRoutineAdjustment:
    data = {"factor": "production_line", "effective_from": MARCH, "effective_to": JUNE,
            "reason": "Line 4 (extrusion) started", "method": "submeter",
            "calculation": "Sub-meter M-17, 1,000 kWh a day", "kwh": Decimal("122000")}
    return services.create_adjustment(organization=organization, actor=actor,
                                      **(data | changes))


def test_an_editor_records_an_adjustment_with_an_audit_event(nordlicht, alice):
    adjustment = _record(nordlicht, alice)

    assert (adjustment.kwh, adjustment.days, adjustment.created_by) == (Decimal("122000"), 122,
                                                                        alice)
    event = AuditEvent.objects.get(action="energy.adjustment.created")
    assert event.payload["kwh"] == "122000.000" and event.payload["factor"] == "production_line"
    assert event.organization_id == nordlicht.pk


def test_a_negative_adjustment_records_a_shut_building(nordlicht, alice):
    adjustment = _record(nordlicht, alice, factor="shut_down", kwh=Decimal("-3650.5"),
                         reason="Warehouse B closed")
    assert adjustment.kwh == Decimal("-3650.500")


@pytest.mark.parametrize(("changes", "field"), [
    ({"factor": "weather"}, "factor"),
    ({"method": "guess"}, "method"),
    ({"reason": "  "}, "reason"),
    ({"kwh": Decimal(0)}, "kwh"),
    ({"kwh": Decimal("NaN")}, "kwh"),
    ({"kwh": None}, "kwh"),
    ({"effective_to": datetime.date(2025, 2, 1)}, "effective_to"),
    ({"effective_from": None}, "effective_from"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(nordlicht, alice,
                                                                      changes, field):
    with pytest.raises(InvalidInput) as refused:
        _record(nordlicht, alice, **changes)

    assert field in refused.value.fields
    assert not NonRoutineAdjustment.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="energy.adjustment").exists()


def test_an_editor_records_but_a_viewer_and_another_organization_cannot(nordlicht, bob,
                                                                          vera, charlie):
    for outsider in (vera, charlie):
        with pytest.raises(NotPermitted):
            _record(nordlicht, outsider)
    assert not NonRoutineAdjustment.objects.exists()

    assert _record(nordlicht, bob).created_by == bob


def test_editing_keeps_before_and_after_in_the_audit_trail(nordlicht, alice):
    adjustment = _record(nordlicht, alice)

    services.update_adjustment(adjustment=adjustment, actor=alice, kwh=Decimal("100000"),
                               reason="Line 4 started (corrected sub-meter reading)")

    adjustment.refresh_from_db()
    assert adjustment.kwh == Decimal("100000")
    event = AuditEvent.objects.get(action="energy.adjustment.updated")
    assert event.payload["changed"] == ["kwh", "reason"]
    assert (event.payload["before"]["kwh"], event.payload["after"]["kwh"]) == (
        "122000.000", "100000.000")


def test_a_refused_change_leaves_the_adjustment_as_it_was(nordlicht, alice):
    adjustment = _record(nordlicht, alice)
    with pytest.raises(InvalidInput):
        services.update_adjustment(adjustment=adjustment, actor=alice,
                                   effective_to=datetime.date(2024, 1, 1))
    adjustment.refresh_from_db()
    assert adjustment.effective_to == JUNE


def test_deleting_is_audit_trailed(nordlicht, alice):
    adjustment = _record(nordlicht, alice)
    services.delete_adjustment(adjustment=adjustment, actor=alice)

    assert not NonRoutineAdjustment.objects.exists()
    assert AuditEvent.objects.get(action="energy.adjustment.deleted").payload["kwh"] == \
        "122000.000"


def test_the_total_for_a_period_takes_each_adjustment_s_share_of_days(nordlicht, alice,
                                                                        brightpath, charlie):
    _record(nordlicht, alice)                                     # 1,000 kWh a day, Mar–Jun
    _record(nordlicht, alice, factor="shut_down", kwh=Decimal("-310"),
            effective_from=datetime.date(2025, 1, 1), effective_to=datetime.date(2025, 1, 31),
            reason="Warehouse B closed for January")              # -10 kWh a day, January
    _record(brightpath, charlie, kwh=Decimal("999999"))           # another organization

    first_half = selectors.adjustments_for(organization_id=nordlicht.pk,
                                           start=datetime.date(2025, 1, 1), end=JUNE)
    april = selectors.adjustments_for(organization_id=nordlicht.pk,
                                      start=datetime.date(2025, 4, 1),
                                      end=datetime.date(2025, 4, 30))
    before = selectors.adjustments_for(organization_id=nordlicht.pk,
                                       start=datetime.date(2024, 1, 1),
                                       end=datetime.date(2024, 12, 31))

    assert first_half.kwh == pytest.approx(122000 - 310)
    assert [r.days for r in first_half.records] == [31, 122]
    assert april.kwh == pytest.approx(30_000) and [r.days for r in april.records] == [30]
    assert (before.kwh, before.records) == (0, [])


def test_the_total_for_a_reporting_period(story, nordlicht, alice):
    # The story's reporting period is 2025-01 … 2025-06.
    _record(nordlicht, alice)
    total = selectors.adjustments_for_period(story["period"])
    assert total.kwh == pytest.approx(122000)


def test_the_evaluation_adds_the_adjustments_to_the_expected_consumption(story, nordlicht,
                                                                        alice):
    before = selectors.evaluate_period(story["period"])
    _record(nordlicht, alice, kwh=Decimal("5000"))

    after = selectors.evaluate_period(story["period"])
    assert after.evaluation.expected_kwh == pytest.approx(before.evaluation.expected_kwh + 5000)
    assert after.evaluation.savings_kwh == pytest.approx(before.evaluation.savings_kwh + 5000)
    assert after.adjustments.kwh == pytest.approx(5000)
    assert "including +5,000 kWh of 1 non-routine adjustment" in after.summary
    assert "Non-routine adjustments (ISO 50015): Production line added or removed from 1 Mar 2025 " \
        "to 30 Jun 2025, +5,000 kWh in this period" in after.summary


def test_the_page_the_report_and_the_decision_show_the_adjustment_log(story, nordlicht, alice,
                                                                      client):
    _record(nordlicht, alice, kwh=Decimal("5000"))
    client.force_login(alice)

    page = client.get(f"/energy/reporting-periods/{story['period'].pk}/").content.decode()
    assert 'data-testid="adjustment-log"' in page and "Line 4 (extrusion) started" in page
    evidence = selectors.improvement_evidence(organization_id=nordlicht.pk)
    assert evidence["non_routine_adjustment_kwh"] == pytest.approx(5000)
    assert "Line 4 (extrusion) started" in evidence["summary"]
    report = pdf_text(client.get(f"/energy/reporting-periods/{story['period'].pk}/report.pdf")
                      .content)
    assert "Non-routine adjustments" in report and "Line 4 (extrusion) started" in report


def test_another_organization_s_adjustment_answers_404(nordlicht, alice, charlie):
    adjustment = _record(nordlicht, alice)
    with pytest.raises(Http404):
        selectors.adjustment_get(user=charlie, pk=adjustment.pk)
    assert selectors.adjustment_get(user=alice, pk=adjustment.pk) == adjustment


# --- pages and API -------------------------------------------------------------------------

def test_the_adjustment_log_page_records_lists_edits_and_deletes(nordlicht, alice, api_client):
    client = api_client(alice)
    url = f"/organizations/{nordlicht.pk}/energy/adjustments/"
    form = {"factor": "floor_area", "effective_from": "2025-03-01",
            "effective_to": "2025-06-30", "reason": "Hall C added to the heated area",
            "method": "engineering", "calculation": "2,400 m² × 85 kWh/m²·a × 122/365",
            "kwh": "68186"}

    refused = client.post(url, form | {"kwh": "0"})
    recorded = client.post(url, form)
    adjustment = NonRoutineAdjustment.objects.get()
    page = client.get(url).content.decode()
    edited = client.post(f"/energy/adjustments/{adjustment.pk}/edit/", form | {"kwh": "-500"})
    deleted = client.post(f"/energy/adjustments/{adjustment.pk}/delete/")

    assert refused.status_code == 200 and "changes nothing" in refused.content.decode()
    assert recorded.status_code == 302
    assert 'data-testid="adjustment-log"' in page and "Hall C added to the heated area" in page
    assert "+68,186" in page and "Engineering calculation" in page
    assert edited.status_code == 302
    assert AuditEvent.objects.get(action="energy.adjustment.updated").payload["after"][
        "kwh"] == "-500.000"
    assert deleted.status_code == 302 and not NonRoutineAdjustment.objects.exists()


def test_a_viewer_reads_the_log_but_cannot_record(nordlicht, alice, vera, api_client):
    adjustment = _record(nordlicht, alice)
    client = api_client(vera)
    url = f"/organizations/{nordlicht.pk}/energy/adjustments/"

    page = client.get(url).content.decode()
    posted = client.post(url, {"factor": "floor_area"})
    edit = client.get(f"/energy/adjustments/{adjustment.pk}/edit/")

    assert "Line 4 (extrusion) started" in page and "Record an adjustment" not in page
    assert posted.status_code == 404 and edit.status_code == 404
    assert NonRoutineAdjustment.objects.count() == 1


def test_the_api_records_lists_totals_and_refuses_naming_the_field(story, nordlicht, alice,
                                                                    api_client):
    client = api_client(alice)
    base = f"/api/v1/organizations/{nordlicht.pk}/energy"
    body = {"factor": "production_line", "effective_from": "2025-03-01",
            "effective_to": "2025-06-30", "reason": "Line 4 started", "method": "submeter",
            "kwh": 122000}

    created = client.post(base + "/adjustments", body, content_type="application/json")
    refused = client.post(base + "/adjustments", body | {"method": "guess"},
                          content_type="application/json")
    listed = client.get(base + "/adjustments").json()
    total = client.get(f"{base}/reporting-periods/{story['period'].pk}/adjustments").json()
    patched = client.patch(f"{base}/adjustments/{created.json()['id']}", {"kwh": -100},
                           content_type="application/json")

    assert created.status_code == 201 and created.json()["kwh"] == 122000
    assert refused.status_code == 422 and "method" in refused.json()["error"]["fields"]
    assert [a["reason"] for a in listed] == ["Line 4 started"]
    assert total["kwh"] == pytest.approx(122000) and total["records"][0]["days"] == 122
    assert patched.json()["kwh"] == -100
    assert client.delete(f"{base}/adjustments/{created.json()['id']}").status_code == 204
