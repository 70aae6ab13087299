"""The impartiality API (ISO/IEC 17021-1 §5.2, §6.2): the risk register, its reviews and
the register's periodic review, the committee's members and meetings. CB administrators
write; decision makers read; for anyone else every operation answers 404 as if nothing
existed. Refusals use the one error shape: 403 ``forbidden``, 409 ``invalid_transition``,
422 ``invalid`` with ``fields`` naming the field."""

import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from isocert.core.api import ErrorOut
from isocert.core.errors import InvalidInput

from . import committee, selectors, services
from .models import CommitteeMeeting, CommitteeMember, ImpartialityRisk, RegisterReview

router = Router(tags=["impartiality"])
ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
THREATS = ", ".join(f"`{value}`" for value in ImpartialityRisk.Threat.values)
INTERESTS = ", ".join(f"`{value}`" for value in CommitteeMember.Interest.values)


# --- risks -------------------------------------------------------------------------------------

class RiskReviewOut(Schema):
    reviewed_on: datetime.date
    reviewer: str
    outcome: str
    conclusion: str
    next_review_on: datetime.date | None


class RiskOut(Schema):
    id: int
    reference: str = Field(examples=["IMP-2026-0001"])
    status: str = Field(description="`open`, `mitigated` or `retired`.")
    threat: str = Field(description=f"One of {THREATS}.")
    source: str
    relationship_id: int | None = Field(description="The declared client relationship it "
                                        "comes from (accounts), if any.")
    organization_id: int | None
    description: str
    likelihood: int = Field(description="1 low, 2 medium, 3 high.")
    impact: int = Field(description="1 low, 2 medium, 3 high.")
    level: str = Field(description="Likelihood × impact: `low`, `medium` or `high`.")
    safeguard: str
    owner_id: int | None
    next_review_on: datetime.date
    review_due: bool = Field(description="The next review date has come.")
    review_requested: str = Field(description="Why a review was asked for early, e.g. the "
                                  "relationship ended.")
    created_at: datetime.datetime
    reviews: list[RiskReviewOut]


def _risk_out(risk: ImpartialityRisk) -> dict:
    return {
        **{name: getattr(risk, name) for name in (
            "id", "reference", "status", "threat", "source", "relationship_id",
            "organization_id", "description", "likelihood", "impact", "level", "safeguard",
            "owner_id", "next_review_on", "review_requested", "created_at")},
        "review_due": (risk.status != ImpartialityRisk.Status.RETIRED
                       and risk.next_review_on <= timezone.localdate()),
        "reviews": [{"reviewed_on": r.reviewed_on, "reviewer": str(r.reviewer),
                     "outcome": r.outcome, "conclusion": r.conclusion,
                     "next_review_on": r.next_review_on}
                    for r in risk.reviews.select_related("reviewer")],
    }


class RiskIn(Schema):
    threat: str = Field(description=f"One of {THREATS}.")
    source: str = Field(max_length=300, description="Where the threat comes from.")
    description: str = Field(max_length=10000)
    likelihood: int = Field(2, description="1 low, 2 medium, 3 high.")
    impact: int = Field(2, description="1 low, 2 medium, 3 high.")
    safeguard: str = Field("", max_length=10000, description="How it is eliminated or "
                           "minimized (§5.2.4).")
    owner_id: int | None = Field(None, description="A CB staff member.")
    organization_id: int | None = Field(None, description="The client concerned, if any.")
    next_review_on: datetime.date | None = Field(None, description="Default: "
                                                 "IMPARTIALITY_REVIEW_MONTHS from today.")


class RiskReviewIn(Schema):
    outcome: str = Field(description="`unchanged`, `mitigated` (needs a safeguard), `open` "
                         "(the safeguard did not hold) or `retired` (no longer a threat).")
    conclusion: str = Field(max_length=10000)
    reviewed_on: datetime.date | None = Field(None, description="Default: today.")
    next_review_on: datetime.date | None = Field(None, description="Default: "
                                                 "IMPARTIALITY_REVIEW_MONTHS from today; none "
                                                 "for a retired risk.")


def _relations(payload: RiskIn) -> dict:
    owner = organization = None
    if payload.owner_id is not None:
        owner = selectors.staff_choices().filter(pk=payload.owner_id).first()
        if owner is None:
            raise InvalidInput("The owner is a member of the CB's staff.",
                               fields={"owner_id": "Choose a CB staff member."})
    if payload.organization_id is not None:
        organization = selectors.organization_choices().filter(
            pk=payload.organization_id).first()
        if organization is None:
            raise InvalidInput("Unknown client.", fields={"organization_id": "Unknown client."})
    return {"owner": owner, "organization": organization}


@router.get("/impartiality/risks", response={200: list[RiskOut], 404: ErrorOut},
            summary="The impartiality risk register",
            description="Every risk, newest first; `status` and `threat` filter. CB "
                        "administrators and decision makers; others 404.")
def list_risks(request, status: str = "", threat: str = ""):
    return [_risk_out(risk) for risk in selectors.risks_for_staff(
        user=request.auth, status=status, threat=threat).prefetch_related("reviews")]


@router.post("/impartiality/risks", response={201: RiskOut, **ERRORS},
             summary="Record a risk to impartiality",
             description="ISO/IEC 17021-1 §5.2.3. Gets the next `IMP-YYYY-NNNN` reference, "
                         "status `open`; the owner is told by e-mail. CB administrators "
                         "(decision makers 403). 422 names the field: an unknown threat or "
                         "level, an owner who is not CB staff, a review date not in the "
                         "future. Declared client relationships enter the register by "
                         "themselves.")
def create_risk(request, payload: RiskIn):
    selectors.risks_for_staff(user=request.auth)
    values = payload.dict(exclude={"owner_id", "organization_id"})
    risk = services.record_risk(actor=request.auth, **values, **_relations(payload))
    return Status(201, _risk_out(risk))


@router.get("/impartiality/risks/{risk_id}", response={200: RiskOut, 404: ErrorOut},
            summary="One risk with its reviews")
def get_risk(request, risk_id: int):
    return _risk_out(selectors.risk_get(user=request.auth, pk=risk_id))


@router.post("/impartiality/risks/{risk_id}/review", response={200: RiskOut, **ERRORS},
             summary="Review a risk",
             description="The outcome moves the risk through its status table (open ⇄ "
                         "mitigated, → retired). 409 for a retired risk; 422 for a missing "
                         "conclusion, `mitigated` without a safeguard, or dates out of "
                         "order.")
def review(request, risk_id: int, payload: RiskReviewIn):
    risk = selectors.risk_get(user=request.auth, pk=risk_id)
    services.review_risk(risk=risk, actor=request.auth, **payload.dict())
    return _risk_out(selectors.risk_get(user=request.auth, pk=risk_id))


# --- the register's periodic review ---------------------------------------------------------------

class RegisterReviewOut(Schema):
    id: int
    reviewed_on: datetime.date
    reviewed_by: str
    meeting_id: int | None
    conclusion: str
    open_risks: int


class RegisterStatusOut(Schema):
    due_on: datetime.date | None = Field(description="When the register is next to be "
                                         "reviewed; none while it is empty and never "
                                         "reviewed.")
    review_due: bool
    last_review: RegisterReviewOut | None
    risks_due: list[str] = Field(description="References of the risks due for review.")


class RegisterReviewIn(Schema):
    conclusion: str = Field(max_length=20000)
    reviewed_on: datetime.date | None = Field(None, description="Default: today.")
    meeting_id: int | None = Field(None, description="The committee meeting (held) that "
                                   "reviewed it, if any.")


def _register_review_out(review: RegisterReview) -> dict:
    return {"id": review.pk, "reviewed_on": review.reviewed_on,
            "reviewed_by": str(review.reviewed_by), "meeting_id": review.meeting_id,
            "conclusion": review.conclusion, "open_risks": review.open_risks}


@router.get("/impartiality/register", response={200: RegisterStatusOut, 404: ErrorOut},
            summary="Is the register's review due?",
            description="The register is reviewed at least every IMPARTIALITY_REVIEW_MONTHS "
                        "(12); the daily run e-mails the administrators once when it falls "
                        "due.")
def register_status(request):
    selectors.risks_for_staff(user=request.auth)  # 404 for anyone who does not read it
    status = selectors.register_status(user=request.auth, today=timezone.localdate())
    last = status["last_review"]
    return {"due_on": status["due_on"], "review_due": status["review_due"],
            "last_review": _register_review_out(last) if last else None,
            "risks_due": [risk.reference for risk in status["risks_due"]]}


@router.get("/impartiality/register/reviews",
            response={200: list[RegisterReviewOut], 404: ErrorOut},
            summary="The register's reviews, newest first")
def list_register_reviews(request):
    return [_register_review_out(r) for r in selectors.register_reviews(user=request.auth)]


@router.post("/impartiality/register/reviews", response={201: RegisterReviewOut, **ERRORS},
             summary="Record a review of the whole register",
             description="§5.2.3. By a CB administrator, possibly at a committee meeting "
                         "that was held (409 for one still planned). 422: a missing "
                         "conclusion, a date to come.")
def create_register_review(request, payload: RegisterReviewIn):
    meeting = None
    if payload.meeting_id is not None:
        meeting = get_object_or_404(selectors.meetings_for_staff(user=request.auth),
                                    pk=payload.meeting_id)
    else:
        selectors.risks_for_staff(user=request.auth)
    review_row = services.review_register(actor=request.auth, conclusion=payload.conclusion,
                                          reviewed_on=payload.reviewed_on, meeting=meeting)
    return Status(201, _register_review_out(review_row))


# --- the committee (§6.2) ------------------------------------------------------------------------

class MemberOut(Schema):
    id: int
    name: str
    organization: str
    interest: str = Field(description=f"One of {INTERESTS}.")
    email: str
    appointed_on: datetime.date
    term_ends_on: datetime.date | None
    active: bool


class MemberIn(Schema):
    name: str = Field(max_length=150)
    organization: str = Field("", max_length=200)
    interest: str = Field(description=f"One of {INTERESTS}.")
    email: str = Field(max_length=254)
    appointed_on: datetime.date
    term_ends_on: datetime.date | None = None


class MemberPatch(Schema):
    name: str | None = Field(None, max_length=150)
    organization: str | None = Field(None, max_length=200)
    interest: str | None = None
    email: str | None = Field(None, max_length=254)
    appointed_on: datetime.date | None = None
    term_ends_on: datetime.date | None = None
    active: bool | None = Field(None, description="false when the member leaves.")


@router.get("/impartiality/committee/members", response={200: list[MemberOut], 404: ErrorOut},
            summary="The committee's members")
def list_members(request):
    return list(selectors.members_for_staff(user=request.auth))


@router.post("/impartiality/committee/members", response={201: MemberOut, **ERRORS},
             summary="Appoint a committee member",
             description="Records the interest represented (§6.2). 422 names the field.")
def create_member(request, payload: MemberIn):
    selectors.members_for_staff(user=request.auth)
    return Status(201, committee.add_committee_member(actor=request.auth, **payload.dict()))


@router.patch("/impartiality/committee/members/{member_id}", response={200: MemberOut, **ERRORS},
              summary="Change a member's record (`active: false` when they leave)")
def update_member(request, member_id: int, payload: MemberPatch):
    member = selectors.member_get(user=request.auth, pk=member_id)
    return committee.update_committee_member(member=member, actor=request.auth,
                                             **payload.dict(exclude_unset=True))


class MeetingOut(Schema):
    id: int
    status: str = Field(description="`planned`, `held` or `minutes_approved`.")
    date: datetime.date
    agenda: str
    attendee_ids: list[int]
    minutes: str
    minutes_filename: str
    risk_ids: list[int] = Field(description="The risks the meeting reviewed.")
    predominant_interest: str = Field(description="An interest that formed a majority of "
                                      "the attendees, or empty.")
    warnings: list[str] = Field(description="§6.2: no single interest predominates "
                                "(warned, not refused).")
    approved_at: datetime.datetime | None


def _meeting_out(meeting: CommitteeMeeting) -> dict:
    return {
        **{name: getattr(meeting, name) for name in (
            "id", "status", "date", "agenda", "minutes", "minutes_filename",
            "predominant_interest", "approved_at")},
        "attendee_ids": sorted(member.pk for member in meeting.attendees.all()),
        "risk_ids": sorted(risk.pk for risk in meeting.risks_reviewed.all()),
        "warnings": committee.meeting_warnings(meeting),
    }


class MeetingIn(Schema):
    date: datetime.date
    agenda: str = Field(max_length=10000)


class HoldIn(Schema):
    attendee_ids: list[int] = Field(description="Active members who attended.")
    minutes: str = Field("", max_length=50000, description="The minutes (a file goes "
                         "through the page).")
    risk_ids: list[int] = Field([], description="Risks the meeting reviewed.")


@router.get("/impartiality/committee/meetings",
            response={200: list[MeetingOut], 404: ErrorOut}, summary="The committee's meetings")
def list_meetings(request):
    return [_meeting_out(m) for m in selectors.meetings_for_staff(user=request.auth)]


@router.post("/impartiality/committee/meetings", response={201: MeetingOut, **ERRORS},
             summary="Plan a committee meeting")
def create_meeting(request, payload: MeetingIn):
    selectors.meetings_for_staff(user=request.auth)
    meeting = committee.plan_meeting(actor=request.auth, **payload.dict())
    return Status(201, _meeting_out(meeting))


@router.get("/impartiality/committee/meetings/{meeting_id}",
            response={200: MeetingOut, 404: ErrorOut}, summary="One meeting")
def get_meeting(request, meeting_id: int):
    return _meeting_out(selectors.meeting_get(user=request.auth, pk=meeting_id))


@router.post("/impartiality/committee/meetings/{meeting_id}/hold",
             response={200: MeetingOut, **ERRORS}, summary="Record that the meeting was held",
             description="Attendees, minutes and the risks reviewed. A majority of one "
                         "interest among the attendees is recorded with a warning (§6.2). "
                         "409 for a meeting not planned; 422 for no attendees, an inactive "
                         "or unknown member or risk, a date still to come.")
def hold(request, meeting_id: int, payload: HoldIn):
    meeting = selectors.meeting_get(user=request.auth, pk=meeting_id)
    members = list(selectors.members_for_staff(user=request.auth)
                   .filter(pk__in=payload.attendee_ids))
    if len(members) != len(set(payload.attendee_ids)):
        raise InvalidInput("Unknown member.", fields={"attendee_ids": "Choose members."})
    risks = list(selectors.risks_for_staff(user=request.auth).filter(pk__in=payload.risk_ids))
    if len(risks) != len(set(payload.risk_ids)):
        raise InvalidInput("Unknown risk.", fields={"risk_ids": "Choose risks."})
    committee.hold_meeting(meeting=meeting, actor=request.auth, attendees=members,
                           minutes=payload.minutes, risks_reviewed=risks)
    return _meeting_out(selectors.meeting_get(user=request.auth, pk=meeting_id))


@router.post("/impartiality/committee/meetings/{meeting_id}/approve-minutes",
             response={200: MeetingOut, **ERRORS}, summary="Approve the minutes",
             description="Only of a meeting that was held (409 otherwise) with minutes on "
                         "record (422); the attendees receive them by e-mail.")
def approve(request, meeting_id: int):
    meeting = selectors.meeting_get(user=request.auth, pk=meeting_id)
    committee.approve_minutes(meeting=meeting, actor=request.auth)
    return _meeting_out(selectors.meeting_get(user=request.auth, pk=meeting_id))
