"""The tenant sweep's part for gap analyses and stage-1 readiness: which object each URL
parameter names, Alice's objects, and everything a request could change."""

from django.core.files.uploadedfile import SimpleUploadedFile

from isocert.readiness import services
from isocert.readiness.models import (
    EnergyReviewFacts,
    GapAssessment,
    GapEvidence,
    GapItem,
    ReadinessShare,
)

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

HTML_PK_KINDS = {
    "gap_assessment_list": "organization",
    "gap_assessment_start": "organization",
    "readiness": "organization",
    "readiness_share": "organization",
    "gap_assessment_detail": "gap_assessment",
    "gap_assessment_edit_rows": "gap_assessment",
    "gap_assessment_freeze": "gap_assessment",
    "gap_assessment_new_version": "gap_assessment",
    "gap_assessment_carry": "gap_assessment",
    "gap_assessment_compare": "gap_assessment",
    "gap_energy_facts": "gap_assessment",
    "gap_report_pdf": "gap_assessment",
    "gap_report_xlsx": "gap_assessment",
    "gap_item_edit": "gap_item",
    "gap_evidence_add": "gap_item",
    "gap_item_mirror": "gap_item",
    "gap_evidence_download": "gap_evidence",
    "gap_evidence_delete": "gap_evidence",
}
API_PARAM_KINDS = {
    "gap_assessment_id": "gap_assessment",
    "gap_item_id": "gap_item",
    "gap_evidence_id": "gap_evidence",
}


def build_world(*, organization, alice, bob) -> tuple[dict[str, list[int]], list[str]]:
    """Alice's ISO 50001 gap analysis (frozen v1, open v2 with facts and evidence) and an
    open ISO 9001 one, so rows can be mirrored; her readiness is shared with the CB."""
    v1 = services.start_gap_assessment(organization=organization, standard="ISO 50001",
                                       actor=alice)
    item = v1.items.get(clause__number="4.1")
    services.update_gap_item(item=item, actor=alice, expected_version=1, status="partial",
                             notes="Nordlicht context SWOT pending.")
    services.freeze_gap_assessment(assessment=v1, actor=alice)
    v2 = services.start_new_version(assessment=v1, actor=bob)
    services.save_energy_facts(assessment=v2, actor=alice, annual_consumption="86111111",
            unit="kWh", energy_types=["Electricity", "Gas"],
            significant_uses=[{"name": "Nordlicht melting furnaces", "share_percent": "60"}])
    row = v2.items.get(clause__number="5.1")
    row = services.update_gap_item(item=row, actor=alice, expected_version=1,
                                   status="conforms")
    evidence = services.add_gap_evidence(
        item=row, actor=alice, title="Nordlicht energy policy",
        upload=SimpleUploadedFile("nordlicht-energy-policy.pdf", PDF))
    link = services.add_gap_evidence(item=row, actor=alice, link="https://intranet.example/enpi")
    v9001 = services.start_gap_assessment(organization=organization, standard="ISO 9001",
                                          actor=alice)
    services.set_readiness_share(organization=organization, standard="ISO 50001", actor=alice,
                                 shared=True)
    return ({"gap_assessment": [v2.pk, v1.pk, v9001.pk],
             "gap_item": [row.pk, item.pk, v9001.items.get(clause__number="5.1").pk],
             "gap_evidence": [evidence.pk, link.pk]},
            ["Nordlicht context SWOT pending.", "Nordlicht energy policy",
             "nordlicht-energy-policy.pdf", "Nordlicht melting furnaces"])


def state(organization) -> dict:
    return {
        "gap_assessments": sorted(GapAssessment.objects.filter(organization=organization)
                                  .values_list("pk", "standard_id", "number", "status",
                                               "frozen_at")),
        "gap_items": sorted(GapItem.objects.filter(assessment__organization=organization)
                            .values_list("pk", "status", "notes", "justification", "owner_id",
                                         "version", "mirrored_from", "soa_applicable",
                                         "updated_at")),
        "gap_evidence": sorted(GapEvidence.objects.filter(
            item__assessment__organization=organization).values_list("pk", "item_id", "title")),
        "energy_facts": sorted(EnergyReviewFacts.objects.filter(
            assessment__organization=organization).values_list(
            "pk", "annual_consumption_tj", "energy_types", "updated_at")),
        "readiness_shares": sorted(ReadinessShare.objects.filter(organization=organization)
                                   .values_list("standard_id", "is_shared", "changed_at")),
    }
