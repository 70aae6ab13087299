"""The tenant sweep's part for implementation actions, internal audits and management reviews:
which object each URL parameter names, Alice's objects, and everything a request could change.
"""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from isocert.improvement import services
from isocert.improvement.models import (
    ACTION_LIFECYCLE,
    Action,
    ActionEvidence,
    ActionNote,
    ChecklistItem,
    InternalAudit,
    InternalFinding,
    ManagementReview,
    ReviewInput,
)

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

HTML_PK_KINDS = {
    "action_list": "organization",
    "action_board": "organization",
    "action_create": "organization",
    "action_detail": "action",
    "action_edit": "action",
    "action_note_add": "action",
    "action_evidence_add": "action",
    "action_transition": "action",
    "action_evidence_download": "action_evidence",
    "internal_audit_list": "organization",
    "internal_audit_create": "organization",
    "internal_audit_detail": "internal_audit",
    "internal_finding_add": "internal_audit",
    "internal_audit_complete": "internal_audit",
    "checklist_item_update": "checklist_item",
    "internal_finding_download": "internal_finding",
    "management_review_list": "organization",
    "management_review_create": "organization",
    "management_review_detail": "management_review",
    "management_review_inputs": "management_review",
    "management_review_decisions": "management_review",
    "management_review_action_add": "management_review",
}
HTML_SLUG_VALUES = {
    ("action_transition", "transition"): [*ACTION_LIFECYCLE.transitions, "no-such-transition"],
}
API_PARAM_KINDS = {
    "action_id": "action",
    "action_evidence_id": "action_evidence",
    "internal_audit_id": "internal_audit",
    "checklist_item_id": "checklist_item",
    "management_review_id": "management_review",
}


def build_world(*, organization, alice, bob) -> tuple[dict[str, list[int]], list[str]]:
    """One of each of Alice's improvement objects; returns their ids and telltale names."""
    today = timezone.localdate()
    action = services.create_action(organization=organization, actor=alice,
                                    title="Nordlicht furnace insulation", standard="ISO 50001",
                                    clause="6.2", owner_id=bob.pk,
                                    due_date=today - datetime.timedelta(days=2))
    services.start_action(action=action, actor=alice)
    services.add_action_note(action=action, actor=alice, text="Quote from insulator received")
    evidence = services.add_action_evidence(
        action=action, actor=alice, title="Insulation quote",
        upload=SimpleUploadedFile("quote.pdf", PDF))
    audit = services.create_internal_audit(organization=organization, actor=alice,
                                           title="Nordlicht energy audit", standard="ISO 50001",
                                           clauses="6.3, 9.2", start_date=today, end_date=today,
                                           auditor_ids=[bob.pk])
    finding = services.add_internal_finding(
        audit=audit, actor=bob, upload=SimpleUploadedFile("meter.pdf", PDF),
                                            kind="nonconformity", clause="6.3",
                                            statement="Compressor SEU not listed")
    review = services.create_management_review(organization=organization, actor=alice,
                                               standard="ISO 50001", date=today,
                                               attendees="Alice, managing director",
                                               decisions="Replace compressor 3")
    return {
        "action": [action.pk, finding.corrective_action.pk],
        "action_evidence": [evidence.pk],
        "internal_audit": [audit.pk],
        "checklist_item": list(audit.checklist.values_list("pk", flat=True)),
        "internal_finding": [finding.pk],
        "management_review": [review.pk],
    }, ["Nordlicht furnace insulation", "Insulation quote", "Nordlicht energy audit",
        "Compressor SEU not listed", "Replace compressor 3"]


def state(organization) -> dict:
    """Everything of Alice's improvement records a request could have changed."""
    return {
        "actions": sorted(Action.objects.filter(organization=organization).values_list(
            "pk", "title", "status", "version", "owner_id", "due_date", "clause_id",
            "last_reminded_on")),
        "notes": sorted(ActionNote.objects.filter(action__organization=organization)
                        .values_list("pk", "text")),
        "evidence": sorted(ActionEvidence.objects.filter(action__organization=organization)
                           .values_list("pk", "title", "file_id", "link")),
        "audits": sorted(InternalAudit.objects.filter(organization=organization).values_list(
            "pk", "title", "status", "conclusion", "start_date", "end_date")),
        "checklist": sorted(ChecklistItem.objects.filter(audit__organization=organization)
                            .values_list("pk", "result", "notes")),
        "findings": sorted(InternalFinding.objects.filter(audit__organization=organization)
                           .values_list("pk", "kind", "statement")),
        "reviews": sorted(ManagementReview.objects.filter(organization=organization)
                          .values_list("pk", "date", "attendees", "decisions")),
        "review_inputs": sorted(ReviewInput.objects.filter(review__organization=organization)
                                .values_list("pk", "covered", "notes")),
    }
