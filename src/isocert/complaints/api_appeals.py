"""The appeals API (ISO/IEC 17021-1 §9.7): the client lodges and follows its appeals; the
CB acknowledges, appoints the panel, and the panel stays an appealed suspension,
investigates and decides."""

import datetime

from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from isocert.core.pagination import PAGINATED, page_window

from . import appeals, selectors
from .models import Appeal

router = Router(tags=["appeals"])


class AppealOut(Schema):
    id: int
    reference: str = Field(examples=["APL-2026-000001"])
    status: str = Field(description="lodged, acknowledged, panel_appointed, investigated, "
                        "upheld, dismissed or closed.")
    organization_id: int
    subject: str = Field(description="refusal, suspension, withdrawal, scope_reduction or "
                         "finding_grade.")
    decision_id: int | None
    certificate_id: int | None
    finding_id: int | None
    decided_on: datetime.date = Field(description="When the decision appealed was taken.")
    grounds: str
    lodged_at: datetime.datetime
    panel_ids: list[int]
    suspension_stayed: bool = Field(description="The panel stayed the suspension appealed "
                                    "(`POST /appeals/{id}/stay`).")
    stayed_by_id: int | None
    stayed_at: datetime.datetime | None
    stay_reason: str
    stayed_until: datetime.date | None = Field(description="A stayed suspension: the end it "
                                               "had when stayed.")
    resumed_until: datetime.date | None = Field(description="A stayed suspension whose appeal "
                                                "was dismissed: the end of the resumed "
                                                "suspension.")
    investigation: str
    outcome_reasons: str
    regraded_from: str = Field(description="An upheld grading appeal: the finding's grade "
                               "before; empty otherwise.")
    regraded_to: str = Field(description="An upheld grading appeal: the grade the panel "
                             "gave the finding; empty otherwise.")
    attachments: list[str]


def _out(appeal: Appeal) -> dict:
    return {
        **{field: getattr(appeal, field) for field in (
            "id", "reference", "status", "organization_id", "subject", "decision_id",
            "certificate_id", "finding_id", "decided_on", "grounds", "lodged_at",
            "suspension_stayed", "stayed_by_id", "stayed_at", "stay_reason", "stayed_until",
            "resumed_until", "investigation", "outcome_reasons", "regraded_from",
            "regraded_to")},
        "panel_ids": sorted(member.pk for member in appeal.panel.all()),
        "attachments": [attachment.filename for attachment in appeal.attachments.all()],
    }


def _appeal(request, appeal_id: int) -> Appeal:
    return selectors.appeal_get(user=request.auth, pk=appeal_id)


@router.get("/appeals", response=list[AppealOut], summary="Appeals you may see",
            description="A client's members see their organizations' appeals; the CB's "
                        "appeal handlers all; panel members theirs. Newest first. "
                        + PAGINATED)
def list_appeals(request, limit: int | None = None, offset: int = 0):
    # Each appeal's panel and attachments read for the page at once (issue #19).
    appeals = page_window(selectors.appeals_for_user(user=request.auth)
                          .order_by("-lodged_at", "-pk"), limit=limit, offset=offset)
    return [_out(a) for a in appeals.prefetch_related("panel", "attachments")]


@router.post(
    "/appeals", response={201: AppealOut}, summary="Appeal a certification decision",
    description=(
        "An owner or editor of the organization appeals, within `APPEAL_WINDOW_DAYS` "
        "(default 30) of the decision: `refusal` or `scope_reduction` name `decision_id`, "
        "`suspension` or `withdrawal` name `certificate_id` (suspended or withdrawn now), "
        "`finding_grade` names `finding_id`. Multipart, with up to 5 `attachments`. "
        "Past the window, or a subject that does not match, answers 422 naming the field. "
        "An appeal does not stop a suspension unless the appeals panel stays it."),
)
def lodge_appeal(request, subject: Form[str], grounds: Form[str],
                 decision_id: Form[int | None] = None, certificate_id: Form[int | None] = None,
                 finding_id: Form[int | None] = None,
                 attachments: File[list[UploadedFile]] = None):
    user = request.auth
    decision = (selectors.appealable_decision_get(user=user, pk=decision_id)
                if decision_id is not None else None)
    certificate = (selectors.appealable_certificate_get(user=user, pk=certificate_id)
                   if certificate_id is not None else None)
    finding = (selectors.appealable_finding_get(user=user, pk=finding_id)
               if finding_id is not None else None)
    appeal = appeals.lodge_appeal(subject=subject, grounds=grounds, actor=user,
                                  decision=decision, certificate=certificate, finding=finding,
                                  attachments=attachments or [])
    return Status(201, _out(appeal))


@router.get("/appeals/{appeal_id}", response=AppealOut, summary="One appeal")
def get_appeal(request, appeal_id: int):
    return _out(_appeal(request, appeal_id))


@router.post("/appeals/{appeal_id}/acknowledge", response=AppealOut,
             summary="Acknowledge the appeal (e-mail to the client)")
def acknowledge(request, appeal_id: int):
    return _out(appeals.acknowledge_appeal(appeal=_appeal(request, appeal_id),
                                           actor=request.auth))


class AppealPanelIn(Schema):
    member_ids: list[int]


@router.post("/appeals/{appeal_id}/panel", response=AppealOut,
             summary="Appoint the appeals panel",
             description="CB staff not involved in the decision appealed; anyone involved "
                         "(its decision maker, the audit team, the reviewer, who suspended "
                         "or withdrew) answers 403 `impartiality_threat` naming `member_ids`. "
                         "An appealed suspension stands unless the panel then stays it "
                         "(`POST /appeals/{id}/stay`).")
def panel(request, appeal_id: int, payload: AppealPanelIn):
    appeal = _appeal(request, appeal_id)
    members = [get_object_or_404(selectors.staff_choices(), pk=pk)
               for pk in dict.fromkeys(payload.member_ids)]
    return _out(appeals.appoint_appeal_panel(appeal=appeal, members=members,
                                             actor=request.auth))


class AppealStayIn(Schema):
    reason: str = Field(description="Why the panel stays the suspension; at least 5 "
                        "characters.")


@router.post("/appeals/{appeal_id}/stay", response=AppealOut,
             summary="Stay the suspension appealed while the appeal runs (a panel member)",
             description="ISO/IEC 17021-1 §9.7: an appeal does not stop a suspension unless "
                         "the appeals panel decides so. The certificate is restored, its "
                         "public history saying \"Suspension stayed pending appeal APL-…\" "
                         "with the reason; if the appeal is dismissed the suspension resumes. "
                         "Someone not on the panel answers 403; an appeal not about a "
                         "suspension, before the panel is appointed or after its decision, "
                         "stayed already, or whose certificate is not suspended by the "
                         "suspension appealed answers 409 `invalid_transition`.")
def stay(request, appeal_id: int, payload: AppealStayIn):
    return _out(appeals.stay_suspension(appeal=_appeal(request, appeal_id),
                                        reason=payload.reason, actor=request.auth))


class AppealInvestigationIn(Schema):
    investigation: str


@router.post("/appeals/{appeal_id}/investigation", response=AppealOut,
             summary="Record the investigation (a panel member)")
def investigation(request, appeal_id: int, payload: AppealInvestigationIn):
    return _out(appeals.record_appeal_investigation(
        appeal=_appeal(request, appeal_id), actor=request.auth,
        investigation=payload.investigation))


class AppealDecisionIn(Schema):
    upheld: bool
    reasons: str
    new_grade: str = Field("", description="An upheld `finding_grade` appeal: the finding's "
                           "new grade, lower than the one appealed (`minor`, `observation` or "
                           "`opportunity`); required then, refused otherwise (422).")
    suspended_until: datetime.date | None = Field(
        None, description="A stayed suspension's appeal dismissed whose suspension's end "
        "(`stayed_until`) has passed: the last day of the resumed suspension, required then "
        "(at most `SUSPENSION_MAX_MONTHS` on); refused otherwise (422) — while that end is "
        "still to come the suspension resumes until it.")


@router.post("/appeals/{appeal_id}/decision", response=AppealOut,
             summary="The panel's decision, with formal notice to the client",
             description="Upheld: a refusal or scope reduction is reopened for a new "
                         "certification decision, a suspension lifted, a withdrawal "
                         "reinstated, a finding regraded to `new_grade` through the audit "
                         "conduct (its corrective-action due dates follow the new grade); a "
                         "stayed suspension stays lifted. Dismissed: the reasons are sent to "
                         "the client; a stayed suspension resumes (the certificate is "
                         "suspended again until `stayed_until`, or `suspended_until` once "
                         "that day has passed).")
def decision(request, appeal_id: int, payload: AppealDecisionIn):
    return _out(appeals.decide_appeal(appeal=_appeal(request, appeal_id), actor=request.auth,
                                      upheld=payload.upheld, reasons=payload.reasons,
                                      new_grade=payload.new_grade,
                                      suspended_until=payload.suspended_until))


@router.post("/appeals/{appeal_id}/close", response=AppealOut, summary="Close the appeal")
def close(request, appeal_id: int):
    return _out(appeals.close_appeal(appeal=_appeal(request, appeal_id), actor=request.auth))
