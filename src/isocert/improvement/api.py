"""Implementation actions, internal audits, management reviews and the stage-1 verdict.

Transitions are POST sub-resources carrying the ``version`` the client read;
a stale one answers 409 and changes nothing.
"""

import datetime

from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from isocert.accounts import selectors as account_selectors
from isocert.core.files import stored_file_response
from isocert.readiness import selectors as readiness_selectors

from . import selectors, services, stage1
from .models import Action, InternalAudit, ManagementReview

router = Router(tags=["improvement"])


# --- schemas -----------------------------------------------------------------------------------

class ActionFields(Schema):
    title: str | None = None
    description: str | None = None
    standard: str | None = Field(None, description='e.g. "ISO 9001"; needed with a clause')
    clause: str | None = Field(None, description='Clause number, e.g. "8.5"; optional')
    owner_id: int | None = Field(None, description="A member of the organization")
    due_date: datetime.date | None = None


class ActionCreate(ActionFields):
    title: str
    gap_item_id: int | None = Field(None, description="A partial or nonconforming gap row; "
                                                      "its standard and clause are used")


class ReviewActionCreate(ActionFields):
    title: str


class ActionPatch(ActionFields):
    version: int | None = Field(None, description="The version you read; a stale one is refused.")


class VersionIn(Schema):
    version: int | None = Field(None, description="The version you read; a stale one is refused.")


class NoteIn(Schema):
    text: str


class NoteOut(Schema):
    id: int
    text: str
    author: str
    created_at: datetime.datetime


class ActionEvidenceOut(Schema):
    id: int
    title: str
    link: str
    content_type: str | None
    sha256: str | None
    added_at: datetime.datetime


class ActionOut(Schema):
    id: int
    organization_id: int
    title: str
    description: str
    standard: str | None
    clause: str | None
    owner_id: int | None
    owner: str | None
    due_date: datetime.date | None
    status: str
    version: int
    overdue: bool
    gap_item_id: int | None
    finding_id: int | None
    management_review_id: int | None
    completed_at: datetime.datetime | None
    allowed_actions: list[str]


class TransitionOut(Schema):
    action: ActionOut
    reassess: str = Field("", description="Set when the last open action of a gap row's "
                                          "clause was closed: re-assess that clause.")
    reassess_url: str = ""


class AuditCreate(Schema):
    title: str
    standard: str
    start_date: datetime.date
    end_date: datetime.date
    auditor_ids: list[int] = Field(..., description="Members of the organization")
    clauses: list[str] = Field([], description="Clause numbers; empty = all main clauses")
    processes: str = ""
    site_ids: list[int] = []


class ChecklistItemIn(Schema):
    result: str = Field(..., description="not_checked | conforming | finding")
    notes: str = ""


class ChecklistItemOut(Schema):
    id: int
    clause: str
    title: str
    result: str
    notes: str


class InternalAuditFindingOut(Schema):
    id: int
    kind: str
    clause: str
    statement: str
    evidence: str
    has_file: bool
    corrective_action_id: int | None


class InternalAuditOut(Schema):
    id: int
    organization_id: int
    title: str
    standard: str
    start_date: datetime.date
    end_date: datetime.date
    auditor_ids: list[int]
    clauses: list[str]
    processes: str
    site_ids: list[int]
    status: str
    conclusion: str
    checklist: list[ChecklistItemOut]
    findings: list[InternalAuditFindingOut]


class ConclusionIn(Schema):
    conclusion: str


class ReviewInputIn(Schema):
    key: str
    covered: bool | None = None
    notes: str | None = None


class ReviewInputOut(Schema):
    key: str
    label: str
    covered: bool
    notes: str


class ReviewCreate(Schema):
    standard: str
    date: datetime.date
    attendees: str
    decisions: str = ""
    inputs: list[ReviewInputIn] = []


class ReviewInputsIn(Schema):
    inputs: list[ReviewInputIn]


class DecisionsIn(Schema):
    decisions: str
    attendees: str | None = None


class ManagementReviewOut(Schema):
    id: int
    organization_id: int
    standard: str
    date: datetime.date
    attendees: str
    decisions: str
    inputs: list[ReviewInputOut]
    action_ids: list[int]


# --- helpers -----------------------------------------------------------------------------------

def _action_out(action: Action, user) -> dict:
    return {
        **{f: getattr(action, f) for f in (
            "id", "organization_id", "title", "description", "owner_id", "due_date", "status",
            "version", "gap_item_id", "finding_id", "management_review_id", "completed_at")},
        "standard": action.standard.code if action.standard else None,
        "clause": action.clause.number if action.clause else None,
        "owner": str(action.owner) if action.owner else None,
        "overdue": selectors.is_overdue(action),
        "allowed_actions": selectors.allowed_transitions(action=action, user=user),
    }


def _action(request, action_id: int) -> dict:
    return _action_out(selectors.action_get(user=request.auth, pk=action_id), request.auth)


def _audit_out(audit: InternalAudit) -> dict:
    return {
        **{f: getattr(audit, f) for f in ("id", "organization_id", "title", "start_date",
                                          "end_date", "processes", "status", "conclusion")},
        "standard": audit.standard.code,
        "auditor_ids": sorted(u.pk for u in audit.auditors.all()),
        "clauses": [c.number for c in audit.clauses.order_by("position")],
        "site_ids": sorted(s.pk for s in audit.sites.all()),
        "checklist": [{"id": i.pk, "clause": i.clause.number, "title": i.clause.title,
                       "result": i.result, "notes": i.notes}
                      for i in audit.checklist.select_related("clause")],
        "findings": [{"id": f.pk, "kind": f.kind, "clause": f.clause.number,
                      "statement": f.statement, "evidence": f.evidence,
                      "has_file": f.file_id is not None,
                      "corrective_action_id": Action.objects.filter(finding=f).values_list(
                          "pk", flat=True).first()}
                     for f in audit.findings.select_related("clause")],
    }


def _review_out(review: ManagementReview) -> dict:
    return {
        **{f: getattr(review, f) for f in ("id", "organization_id", "date", "attendees",
                                           "decisions")},
        "standard": review.standard.code,
        "inputs": list(review.inputs.values("key", "label", "covered", "notes")),
        "action_ids": list(review.actions.order_by("pk").values_list("pk", flat=True)),
    }


def _transition(request, action_id: int, transition: str, payload: VersionIn | None) -> dict:
    outcome = services.transition_action(
        action=selectors.action_get(user=request.auth, pk=action_id), transition=transition,
        actor=request.auth, expected_version=payload.version if payload else None)
    return {"action": _action(request, action_id), "reassess": outcome.reassess_message,
            "reassess_url": outcome.reassess_url}


# --- actions -----------------------------------------------------------------------------------

@router.get("/organizations/{org_id}/actions", response=list[ActionOut],
            summary="The organization's actions, filtered")
def list_actions(request, org_id: int, status: str = "", standard: str = "", clause: str = "",
                 owner_id: int | None = None, overdue: bool = False):
    organization = account_selectors.organization_get(user=request.auth, pk=org_id)
    filters = selectors.ActionFilters(status=status, standard=standard, clause=clause,
                                      owner_id=owner_id, overdue=overdue)
    return [_action_out(a, request.auth) for a in selectors.actions_for_organization(
        user=request.auth, organization=organization, filters=filters)]


@router.post("/organizations/{org_id}/actions", response={201: ActionOut},
             summary="Raise an action (directly or from a gap row)")
def create_action(request, org_id: int, payload: ActionCreate):
    organization = account_selectors.organization_get(user=request.auth, pk=org_id)
    action = services.create_action(organization=organization, actor=request.auth,
                                    **payload.dict(exclude_unset=True))
    return Status(201, _action(request, action.pk))


@router.get("/actions/{action_id}", response=ActionOut)
def get_action(request, action_id: int):
    return _action(request, action_id)


@router.patch("/actions/{action_id}", response=ActionOut, summary="Change an action")
def update_action(request, action_id: int, payload: ActionPatch):
    data = payload.dict(exclude_unset=True)
    data.pop("version", None)
    services.update_action(action=selectors.action_get(user=request.auth, pk=action_id),
                           actor=request.auth, **data, expected_version=payload.version)
    return _action(request, action_id)


@router.delete("/actions/{action_id}", response={204: None},
               summary="Delete an action (owners; cancel it to keep its history)")
def delete_action(request, action_id: int):
    services.delete_action(action=selectors.action_get(user=request.auth, pk=action_id),
                           actor=request.auth)
    return Status(204, None)


@router.post("/actions/{action_id}/start", response=TransitionOut)
def start_action(request, action_id: int, payload: VersionIn | None = None):
    return _transition(request, action_id, "start", payload)


@router.post("/actions/{action_id}/complete", response=TransitionOut)
def complete_action(request, action_id: int, payload: VersionIn | None = None):
    return _transition(request, action_id, "complete", payload)


@router.post("/actions/{action_id}/cancel", response=TransitionOut)
def cancel_action(request, action_id: int, payload: VersionIn | None = None):
    return _transition(request, action_id, "cancel", payload)


@router.post("/actions/{action_id}/reopen", response=TransitionOut)
def reopen_action(request, action_id: int, payload: VersionIn | None = None):
    return _transition(request, action_id, "reopen", payload)


@router.get("/actions/{action_id}/notes", response=list[NoteOut])
def list_notes(request, action_id: int):
    action = selectors.action_get(user=request.auth, pk=action_id)
    return [{"id": n.pk, "text": n.text, "author": str(n.author or ""),
             "created_at": n.created_at} for n in action.notes.select_related("author")]


@router.post("/actions/{action_id}/notes", response={201: NoteOut},
             summary="Add a progress note")
def add_note(request, action_id: int, payload: NoteIn):
    note = services.add_action_note(action=selectors.action_get(user=request.auth, pk=action_id),
                                    actor=request.auth, text=payload.text)
    return Status(201, {"id": note.pk, "text": note.text, "author": str(note.author),
                        "created_at": note.created_at})


def _evidence_out(evidence) -> dict:
    return {"id": evidence.pk, "title": evidence.title, "link": evidence.link,
            "content_type": evidence.file.content_type if evidence.file else None,
            "sha256": evidence.file.sha256 if evidence.file else None,
            "added_at": evidence.added_at}


@router.get("/actions/{action_id}/evidence", response=list[ActionEvidenceOut])
def list_evidence(request, action_id: int):
    action = selectors.action_get(user=request.auth, pk=action_id)
    return [_evidence_out(e) for e in action.evidence.select_related("file")]


@router.post("/actions/{action_id}/evidence", response={201: ActionEvidenceOut},
             summary="Add evidence: a file (PDF, Office, image) or a link")
def add_evidence(request, action_id: int, title: Form[str], link: Form[str] = "",
                 file: File[UploadedFile] = None):
    evidence = services.add_action_evidence(
        action=selectors.action_get(user=request.auth, pk=action_id), actor=request.auth,
        title=title, link=link, upload=file)
    return Status(201, _evidence_out(evidence))


@router.get("/action-evidence/{action_evidence_id}/download", response={200: None},
            summary="Download an evidence file (as an attachment)")
def download_evidence(request, action_evidence_id: int):
    from django.http import Http404

    evidence = selectors.evidence_get(user=request.auth, pk=action_evidence_id)
    if evidence.file is None:
        raise Http404("This evidence is a link")
    return stored_file_response(evidence.file, evidence.title[:100])


# --- internal audits ---------------------------------------------------------------------------

@router.get("/organizations/{org_id}/internal-audits", response=list[InternalAuditOut])
def list_internal_audits(request, org_id: int):
    organization = account_selectors.organization_get(user=request.auth, pk=org_id)
    return [_audit_out(a) for a in selectors.internal_audits_for_organization(
        user=request.auth, organization=organization)]


@router.post("/organizations/{org_id}/internal-audits", response={201: InternalAuditOut},
             summary="Plan an internal audit (its checklist is generated from the scope)")
def create_internal_audit(request, org_id: int, payload: AuditCreate):
    organization = account_selectors.organization_get(user=request.auth, pk=org_id)
    audit = services.create_internal_audit(organization=organization, actor=request.auth,
                                           **payload.dict())
    return Status(201, _audit_out(audit))


@router.get("/internal-audits/{internal_audit_id}", response=InternalAuditOut)
def get_internal_audit(request, internal_audit_id: int):
    return _audit_out(selectors.internal_audit_get(user=request.auth, pk=internal_audit_id))


@router.put("/checklist-items/{checklist_item_id}", response=ChecklistItemOut,
            summary="Record the result of one checklist row")
def update_checklist_item(request, checklist_item_id: int, payload: ChecklistItemIn):
    item = services.update_checklist_item(
        item=selectors.checklist_item_get(user=request.auth, pk=checklist_item_id),
        actor=request.auth, result=payload.result, notes=payload.notes)
    return {"id": item.pk, "clause": item.clause.number, "title": item.clause.title,
            "result": item.result, "notes": item.notes}


@router.post("/internal-audits/{internal_audit_id}/findings",
             response={201: InternalAuditFindingOut},
             summary="Record a finding; a nonconformity raises a corrective action")
def add_finding(request, internal_audit_id: int, kind: Form[str], clause: Form[str],
                statement: Form[str], evidence: Form[str] = "",
                owner_id: Form[int | None] = None, due_date: Form[datetime.date | None] = None,
                file: File[UploadedFile] = None):
    audit = selectors.internal_audit_get(user=request.auth, pk=internal_audit_id)
    finding = services.add_internal_finding(
        audit=audit, kind=kind, clause=clause, statement=statement, evidence=evidence,
        owner_id=owner_id, due_date=due_date, upload=file, actor=request.auth)
    return Status(201, {"id": finding.pk, "kind": finding.kind, "clause": finding.clause.number,
                        "statement": finding.statement, "evidence": finding.evidence,
                        "has_file": finding.file_id is not None,
                        "corrective_action_id": Action.objects.filter(finding=finding)
                        .values_list("pk", flat=True).first()})


@router.post("/internal-audits/{internal_audit_id}/complete", response=InternalAuditOut,
             summary="Complete the audit (every row checked, conclusion required)")
def complete_internal_audit(request, internal_audit_id: int, payload: ConclusionIn):
    audit = services.complete_internal_audit(
        audit=selectors.internal_audit_get(user=request.auth, pk=internal_audit_id),
        actor=request.auth, conclusion=payload.conclusion)
    return _audit_out(audit)


# --- management reviews ------------------------------------------------------------------------

@router.get("/organizations/{org_id}/management-reviews", response=list[ManagementReviewOut])
def list_management_reviews(request, org_id: int):
    organization = account_selectors.organization_get(user=request.auth, pk=org_id)
    return [_review_out(r) for r in selectors.management_reviews_for_organization(
        user=request.auth, organization=organization)]


@router.post("/organizations/{org_id}/management-reviews", response={201: ManagementReviewOut},
             summary="Record a management review with the standard's inputs")
def create_management_review(request, org_id: int, payload: ReviewCreate):
    organization = account_selectors.organization_get(user=request.auth, pk=org_id)
    review = services.create_management_review(organization=organization, actor=request.auth,
                                               **payload.dict())
    return Status(201, _review_out(review))


@router.get("/management-reviews/{management_review_id}", response=ManagementReviewOut)
def get_management_review(request, management_review_id: int):
    return _review_out(selectors.management_review_get(user=request.auth,
                                                       pk=management_review_id))


@router.put("/management-reviews/{management_review_id}/inputs", response=ManagementReviewOut,
            summary="Tick inputs as covered and note what was said")
def update_review_inputs(request, management_review_id: int, payload: ReviewInputsIn):
    review = services.update_review_inputs(
        review=selectors.management_review_get(user=request.auth, pk=management_review_id),
        actor=request.auth, inputs=[i.dict() for i in payload.inputs])
    return _review_out(review)


@router.put("/management-reviews/{management_review_id}/decisions", response=ManagementReviewOut,
            summary="Record the review's decisions")
def record_decisions(request, management_review_id: int, payload: DecisionsIn):
    review = services.record_review_decisions(
        review=selectors.management_review_get(user=request.auth, pk=management_review_id),
        actor=request.auth, decisions=payload.decisions, attendees=payload.attendees)
    return _review_out(review)


@router.post("/management-reviews/{management_review_id}/actions", response={201: ActionOut},
             summary="Add an action resulting from a decision")
def add_review_action(request, management_review_id: int, payload: ReviewActionCreate):
    review = selectors.management_review_get(user=request.auth, pk=management_review_id)
    action = services.add_review_action(review=review, actor=request.auth,
                                        **payload.dict(exclude_unset=True))
    return Status(201, _action(request, action.pk))


# --- the stage-1 verdict ----------------------------------------------------------------------

class ReadinessCheckOut(Schema):
    key: str
    label: str
    ok: bool
    detail: str


class ReadinessOut(Schema):
    standard: str
    edition: str
    verdict: str
    ready: bool
    reasons: list[str]
    checks: list[ReadinessCheckOut]
    assessment_id: int | None
    shared: bool


def _readiness_out(entry) -> dict:
    return {"standard": entry.standard.code, "edition": entry.standard.edition,
            "verdict": entry.verdict, "ready": entry.ready, "reasons": entry.reasons,
            "checks": [vars(c) for c in entry.checks],
            "assessment_id": entry.assessment.pk if entry.assessment else None,
            "shared": entry.shared}


# Listed under "readiness" with the operation id it had there, so API clients see no change.
@router.get("/organizations/{org_id}/readiness", response=list[ReadinessOut],
            summary="Readiness for stage 1 per standard, with reasons "
                    "(CB staff: shared standards only)",
            tags=["readiness"], operation_id="isocert_readiness_api_readiness")
def readiness(request, org_id: int):
    organization = readiness_selectors.organization_for_readiness(user=request.auth, pk=org_id)
    return [_readiness_out(e) for e in stage1.readiness_for_organization(
        user=request.auth, organization=organization)]
