"""Edition transitions for CB administrators: list, record and change the transitions the CB
entered from IAF/ISO transition notices (``editions``). Anyone else gets 404, as if the
operations did not exist; a refusal answers the shared error shape (422 invalid input, 409
conflict)."""

import datetime
from decimal import Decimal

from django.http import Http404
from ninja import Field, Router, Schema, Status

from isocert.accounts.permissions import can
from isocert.catalog import selectors as catalog_selectors
from isocert.core.api import ErrorOut

from . import editions

router = Router(tags=["edition transitions"])


class EditionTransitionOut(Schema):
    id: int
    from_standard: str = Field(..., description='The superseded edition, e.g. "ISO 9001:2015"')
    to_standard: str = Field(..., description="The new edition of the same standard")
    deadline: datetime.date = Field(..., description="Certificates not transitioned by then "
                                    "expire the day after")
    extra_audit_days: Decimal = Field(..., description="Auditor days added for the "
                                      "transition audit (half days)")
    extra_audit_percent: int = Field(..., description="Percent of the combined surveillance "
                                     "or recertification audit's days added")
    notice_reference: str = Field(..., description="The IAF/ISO notice it was entered from")
    created_at: datetime.datetime


class EditionTransitionIn(Schema):
    from_standard: str = Field(..., description='"CODE:EDITION", e.g. "ISO 9001:2015"')
    to_standard: str = Field(..., description='"CODE:EDITION" of the same code, newer')
    deadline: datetime.date = Field(..., description="In the future")
    extra_audit_days: Decimal = Field(Decimal(0), description="0 or more, in half days")
    extra_audit_percent: int = Field(0, description="0 to 100")
    notice_reference: str = Field(..., description='e.g. "IAF MD 26:2023"')


class EditionTransitionPatch(Schema):
    deadline: datetime.date | None = None
    extra_audit_days: Decimal | None = None
    extra_audit_percent: int | None = None
    notice_reference: str | None = None


def _administrator(request) -> None:
    if not can(request.auth, "administer"):
        raise Http404


def _out(transition) -> dict:
    return {"id": transition.pk, "from_standard": str(transition.from_standard),
            "to_standard": str(transition.to_standard), "deadline": transition.deadline,
            "extra_audit_days": transition.extra_audit_days,
            "extra_audit_percent": transition.extra_audit_percent,
            "notice_reference": transition.notice_reference,
            "created_at": transition.created_at}


@router.get("/catalog/transitions", response={200: list[EditionTransitionOut], 404: ErrorOut},
            summary="Edition transitions the CB recorded (administrators)")
def list_transitions(request):
    _administrator(request)
    return [_out(t) for t in catalog_selectors.transitions_all()]


@router.post("/catalog/transitions",
             response={201: EditionTransitionOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
             summary="Record an edition transition from its IAF/ISO notice (administrators)",
             description="The superseded edition is no longer offered to new applications; "
                         "certificates on it are capped at and expire after the deadline. "
                         "Refused: editions of different standards or not newer (422), an "
                         "edition already superseded (409 `transition_exists`), a deadline "
                         "not in the future (422).")
def record_transition(request, payload: EditionTransitionIn):
    _administrator(request)
    transition = editions.record_transition(actor=request.auth, **payload.dict())
    return Status(201, _out(catalog_selectors.transition_get(transition.pk)))


@router.patch("/catalog/transitions/{transition_id}",
              response={200: EditionTransitionOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
              summary="Change a transition's deadline, extra time or notice (administrators)",
              description="Refused once the deadline has passed (409).")
def change_transition(request, transition_id: int, payload: EditionTransitionPatch):
    _administrator(request)
    transition = catalog_selectors.transition_get(transition_id)
    if transition is None:
        raise Http404
    changes = {key: value for key, value in payload.dict(exclude_unset=True).items()
               if value is not None}
    editions.change_transition(transition=transition, actor=request.auth, **changes)
    return _out(catalog_selectors.transition_get(transition_id))
