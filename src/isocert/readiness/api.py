"""Gap analyses, energy-review facts, and sharing a standard's readiness with the CB."""

import datetime
from decimal import Decimal

from django.http import Http404
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from isocert.accounts import selectors as account_selectors
from isocert.core.api import ErrorBody, ErrorOut
from isocert.core.files import bytes_download_response, stored_file_response

from . import reports, selectors, services
from .models import EnergyReviewFacts, GapAssessment, GapEvidence, GapItem

router = Router(tags=["readiness"])


class StartIn(Schema):
    standard: str = Field(..., description='e.g. "ISO 9001" (its current edition is pinned)')


class GapEvidenceOut(Schema):
    id: int
    title: str
    link: str
    file_name: str
    content_type: str | None
    added_at: datetime.datetime


class ActionRefOut(Schema):
    id: int
    title: str
    status: str


class GapItemOut(Schema):
    id: int
    clause: str
    title: str
    group: str = Field(..., description='"clauses" or "annex_a"')
    main_clause: str
    status: str
    justification: str
    notes: str
    owner_id: int | None
    soa_applicable: bool | None
    soa_justification: str
    soa_implementation: str
    mirrored_from: int | None
    version: int
    updated_at: datetime.datetime
    evidence: list[GapEvidenceOut]
    actions: list[ActionRefOut]


class ScoreOut(Schema):
    key: str
    title: str
    score: Decimal | None
    assessed: int
    rows: int


class OverallOut(Schema):
    score: Decimal | None
    assessed: int
    rows: int


class ScoresOut(Schema):
    clauses: list[ScoreOut]
    overall: OverallOut
    rule: str


class GapAssessmentSummaryOut(Schema):
    id: int
    organization_id: int
    standard: str
    edition: str
    number: int
    status: str
    previous_id: int | None
    created_at: datetime.datetime
    frozen_at: datetime.datetime | None


class GapAssessmentOut(GapAssessmentSummaryOut):
    scores: ScoresOut
    items: list[GapItemOut]


class GapItemPatch(Schema):
    version: int = Field(..., description="The row version you read; a stale one answers 409.")
    status: str | None = Field(None, description="not_assessed | conforms | partial | "
                                                 "nonconforming | not_applicable")
    justification: str | None = Field(None, description="Required for not_applicable")
    notes: str | None = None
    owner_id: int | None = Field(None, description="A member of the organization")
    soa_applicable: bool | None = Field(None, description="Annex A controls only")
    soa_justification: str | None = None
    soa_implementation: str | None = Field(None, description="not_started | partial | "
                                                             "implemented")


class GapItemsPatchRow(GapItemPatch):
    id: int = Field(..., description="The row's id")


class GapItemsPatch(Schema):
    items: list[GapItemsPatchRow] = Field(
        ..., max_length=500, description="The rows you changed, each with the version you "
                                         "read and only the fields to change")


class RowConflictOut(Schema):
    id: int
    clause: str
    error: ErrorBody = Field(..., description='code "conflict": someone saved the row after '
                                              "the version you sent; your change to it was "
                                              "not applied")
    current: GapItemOut = Field(..., description="The row as saved now")


class GapItemsSavedOut(Schema):
    saved: list[GapItemOut] = Field(..., description="Rows changed (new version)")
    unchanged: list[int] = Field(..., description="Ids of rows that already had the answer "
                                                  "sent (version kept)")
    conflicts: list[RowConflictOut] = Field(..., description="Stale rows, not saved")


class MirrorOut(Schema):
    source_id: int
    mirrored_to: list[GapItemOut]


class ChangeOut(Schema):
    clause: str
    fields: list[str]
    old_status: str | None
    new_status: str
    old_notes: str | None
    new_notes: str


class CompareOut(Schema):
    older_id: int | None
    newer_id: int
    changes: list[ChangeOut]


class SignificantUseIO(Schema):
    name: str
    share_percent: Decimal = Field(..., description="Share of total consumption, %")


class EnergyFactsIn(Schema):
    annual_consumption: Decimal
    unit: str = Field(..., description="kWh | MWh | GJ | TJ")
    energy_types: list[str]
    significant_uses: list[SignificantUseIO] = []
    enpis: str = ""
    baseline: str = ""


class EnergyFactsOut(EnergyFactsIn):
    annual_consumption_tj: Decimal


class ReadinessShareIn(Schema):
    standard: str
    shared: bool


class ReadinessShareOut(Schema):
    standard: str
    shared: bool


def _evidence_out(evidence: GapEvidence) -> dict:
    return {"id": evidence.pk, "title": evidence.title, "link": evidence.link,
            "file_name": evidence.original_name,
            "content_type": evidence.file.content_type if evidence.file else None,
            "added_at": evidence.added_at}


def _item_out(item: GapItem) -> dict:
    return {
        "id": item.pk, "clause": item.clause.number, "title": item.clause.title,
        "group": item.clause.group, "main_clause": selectors.main_clause_key(item.clause),
        **{f: getattr(item, f) for f in (
            "status", "justification", "notes", "owner_id", "soa_applicable",
            "soa_justification", "soa_implementation", "version", "updated_at")},
        "mirrored_from": item.mirrored_from_id,
        "evidence": [_evidence_out(e) for e in item.evidence.all()],
        "actions": [{"id": a.pk, "title": a.title, "status": a.status}
                    for a in item.actions.all()],
    }


def _summary_out(assessment: GapAssessment) -> dict:
    return {"id": assessment.pk, "organization_id": assessment.organization_id,
            "standard": assessment.standard.code, "edition": assessment.standard.edition,
            "number": assessment.number, "status": assessment.status,
            "previous_id": assessment.previous_id, "created_at": assessment.created_at,
            "frozen_at": assessment.frozen_at}


def _assessment_out(assessment: GapAssessment) -> dict:
    items = selectors.items_of(assessment)
    return {**_summary_out(assessment),
            "scores": selectors.assessment_scores(assessment, items),
            "items": [_item_out(i) for i in items]}


def _reload_item(request, item_id: int) -> dict:
    item = selectors.gap_item_get(user=request.auth, pk=item_id)
    return _item_out(item)


def _member_organization(request, org_id: int):
    return account_selectors.organization_get(user=request.auth, pk=org_id)


@router.get("/organizations/{org_id}/gap-assessments", response=list[GapAssessmentSummaryOut],
            summary="Gap analyses of an organization (CB staff: shared standards only)")
def list_assessments(request, org_id: int):
    organization = selectors.organization_for_readiness(user=request.auth, pk=org_id)
    return [_summary_out(a) for a in selectors.assessments_for_organization(
        user=request.auth, organization=organization)]


@router.post("/organizations/{org_id}/gap-assessments", response={201: GapAssessmentOut},
             summary="Start a gap analysis: one row per clause (owners and editors)")
def start_assessment(request, org_id: int, payload: StartIn):
    assessment = services.start_gap_assessment(
        organization=_member_organization(request, org_id), standard=payload.standard,
        actor=request.auth)
    return Status(201, _assessment_out(assessment))


@router.get("/gap-assessments/{gap_assessment_id}", response=GapAssessmentOut,
            summary="A gap analysis with its rows and readiness scores")
def get_assessment(request, gap_assessment_id: int):
    return _assessment_out(selectors.assessment_get(user=request.auth, pk=gap_assessment_id))


@router.patch("/gap-items/{gap_item_id}", response=GapItemOut,
              summary="Save a row (send the version you read; stale → 409, nothing saved)")
def update_item(request, gap_item_id: int, payload: GapItemPatch):
    item = selectors.gap_item_get(user=request.auth, pk=gap_item_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    services.update_gap_item(item=item, actor=request.auth, expected_version=version, **data)
    return _reload_item(request, gap_item_id)


@router.patch("/gap-assessments/{gap_assessment_id}/items",
              response={200: GapItemsSavedOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
                        422: ErrorOut},
              summary="Save several rows at once (each with the version you read)",
              description="Every row is checked first: an invalid field in any row answers "
                          "422 with nothing saved, each field named `items.<index>.<field>`. "
                          "Then the rows are saved in one transaction; a row someone saved "
                          "after the version you sent is not saved but listed under "
                          "`conflicts` with what is saved now, and the others are saved. A "
                          "frozen version answers 409, a viewer 403.")
def update_items(request, gap_assessment_id: int, payload: GapItemsPatch):
    assessment = selectors.assessment_get(user=request.auth, pk=gap_assessment_id)
    result = services.update_gap_items(
        assessment=assessment, actor=request.auth,
        changes=payload.dict(exclude_unset=True)["items"])
    rows = {item.pk: item for item in selectors.items_of(assessment)}
    return {"saved": [_item_out(rows[item.pk]) for item in result.saved],
            "unchanged": [item.pk for item in result.unchanged],
            "conflicts": [{"id": c.item.pk, "clause": c.item.clause.number,
                           "error": {"code": "conflict", "message": c.message,
                                     "fields": c.fields},
                           "current": _item_out(rows[c.item.pk])}
                          for c in result.conflicts]}


@router.post("/gap-items/{gap_item_id}/evidence", response={201: GapEvidenceOut},
             summary="Attach evidence to a row: a file (multipart) or a link")
def add_evidence(request, gap_item_id: int, file: File[UploadedFile | None] = None,
                 title: Form[str] = "", link: Form[str] = ""):
    item = selectors.gap_item_get(user=request.auth, pk=gap_item_id)
    evidence = services.add_gap_evidence(item=item, actor=request.auth, title=title,
                                         upload=file, link=link)
    return Status(201, _evidence_out(evidence))


@router.get("/gap-evidence/{gap_evidence_id}/download", response={200: None},
            summary="Download an evidence file (as an attachment)")
def download_evidence(request, gap_evidence_id: int):
    evidence = selectors.evidence_get(user=request.auth, pk=gap_evidence_id)
    if evidence.file is None:
        raise Http404
    return stored_file_response(evidence.file, evidence.original_name or evidence.title)


@router.delete("/gap-evidence/{gap_evidence_id}", response={204: None})
def delete_evidence(request, gap_evidence_id: int):
    evidence = selectors.evidence_get(user=request.auth, pk=gap_evidence_id)
    services.remove_gap_evidence(evidence=evidence, actor=request.auth)
    return Status(204, None)


@router.post("/gap-items/{gap_item_id}/mirror", response=MirrorOut,
             summary="Copy a clause 4–10 answer to the organization's other open gap analyses")
def mirror_item(request, gap_item_id: int):
    item = selectors.gap_item_get(user=request.auth, pk=gap_item_id)
    targets = services.mirror_gap_item(item=item, actor=request.auth)
    return {"source_id": item.pk, "mirrored_to": [_reload_item(request, t.pk) for t in targets]}


@router.post("/gap-assessments/{gap_assessment_id}/freeze", response=GapAssessmentSummaryOut,
             summary="Freeze the version: a read-only snapshot")
def freeze(request, gap_assessment_id: int):
    assessment = selectors.assessment_get(user=request.auth, pk=gap_assessment_id)
    return _summary_out(services.freeze_gap_assessment(assessment=assessment,
                                                       actor=request.auth))


@router.post("/gap-assessments/{gap_assessment_id}/new-version", response={201: GapAssessmentOut},
             summary="Start the next version as a copy of this frozen one")
def new_version(request, gap_assessment_id: int):
    assessment = selectors.assessment_get(user=request.auth, pk=gap_assessment_id)
    new = services.start_new_version(assessment=assessment, actor=request.auth)
    return Status(201, _assessment_out(new))


@router.post("/gap-assessments/{gap_assessment_id}/carry-to-new-edition",
             response={201: GapAssessmentOut},
             summary="Carry a gap analysis on a superseded edition to the new edition",
             description="Version 1 on the edition the CB recorded as superseding this one: "
                         "rows whose clause has the same number and title keep their answers "
                         "and evidence, new clauses start not assessed. Owners and editors; "
                         "409 when the edition is not superseded or the organization already "
                         "has a gap analysis on the new edition.")
def carry_to_new_edition(request, gap_assessment_id: int):
    assessment = selectors.assessment_get(user=request.auth, pk=gap_assessment_id)
    new = services.carry_gap_analysis(assessment=assessment, actor=request.auth)
    return Status(201, _assessment_out(new))


@router.get("/gap-assessments/{gap_assessment_id}/compare", response=CompareOut,
            summary="Rows whose status, notes or SoA differ from another version "
                    "(default: the previous one)")
def compare(request, gap_assessment_id: int, with_id: int | None = None):
    assessment = selectors.assessment_get(user=request.auth, pk=gap_assessment_id)
    other = assessment.previous
    if with_id is not None:
        other = selectors.versions_of(user=request.auth, assessment=assessment).filter(
            pk=with_id).first()
        if other is None:
            raise Http404
    if other is None:
        return {"older_id": None, "newer_id": assessment.pk, "changes": []}
    older, newer = (other, assessment) if other.number < assessment.number else (assessment,
                                                                                 other)
    return {"older_id": older.pk, "newer_id": newer.pk, "changes": [{
        "clause": c["clause"].number, "fields": c["fields"],
        "old_status": c["old"].status if c["old"] else None, "new_status": c["new"].status,
        "old_notes": c["old"].notes if c["old"] else None, "new_notes": c["new"].notes,
    } for c in selectors.compare(older=older, newer=newer)]}


def _facts_out(facts: EnergyReviewFacts) -> dict:
    return {"annual_consumption": facts.annual_consumption, "unit": facts.unit,
            "annual_consumption_tj": Decimal(facts.consumption_tj_text),
            "energy_types": facts.energy_types, "enpis": facts.enpis,
            "baseline": facts.baseline,
            "significant_uses": [{"name": u.name, "share_percent": u.share_percent}
                                 for u in facts.significant_uses.all()]}


@router.get("/gap-assessments/{gap_assessment_id}/energy-facts", response=EnergyFactsOut,
            summary="ISO 50001 energy-review facts (404 until recorded)")
def get_energy_facts(request, gap_assessment_id: int):
    assessment = selectors.assessment_get(user=request.auth, pk=gap_assessment_id)
    facts = EnergyReviewFacts.objects.filter(assessment=assessment).first()
    if facts is None:
        raise Http404
    return _facts_out(facts)


@router.put("/gap-assessments/{gap_assessment_id}/energy-facts", response=EnergyFactsOut,
            summary="Record the ISO 50001 energy review (consumption converted to TJ exactly)")
def put_energy_facts(request, gap_assessment_id: int, payload: EnergyFactsIn):
    assessment = selectors.assessment_get(user=request.auth, pk=gap_assessment_id)
    data = payload.dict()
    data["significant_uses"] = [dict(u) for u in data["significant_uses"]]
    facts = services.save_energy_facts(assessment=assessment, actor=request.auth, **data)
    return _facts_out(facts)


@router.post("/organizations/{org_id}/readiness/share", response=ReadinessShareOut,
             summary="Share (or stop sharing) a standard's readiness with the CB (owners)")
def share(request, org_id: int, payload: ReadinessShareIn):
    result = services.set_readiness_share(organization=_member_organization(request, org_id),
                                          standard=payload.standard, actor=request.auth,
                                          shared=payload.shared)
    return {"standard": result.standard.code, "shared": result.is_shared}


@router.get("/gap-assessments/{gap_assessment_id}/report.pdf", response={200: None},
            summary="The gap report as PDF")
def report_pdf(request, gap_assessment_id: int):
    assessment = selectors.assessment_get(user=request.auth, pk=gap_assessment_id)
    return bytes_download_response(reports.gap_report_pdf(assessment=assessment),
                                   "application/pdf", reports.report_filename(assessment, "pdf"))


@router.get("/gap-assessments/{gap_assessment_id}/report.xlsx", response={200: None},
            summary="The gap report as an Excel workbook")
def report_xlsx(request, gap_assessment_id: int):
    assessment = selectors.assessment_get(user=request.auth, pk=gap_assessment_id)
    return bytes_download_response(
        reports.gap_report_xlsx(assessment=assessment),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        reports.report_filename(assessment, "xlsx"))
