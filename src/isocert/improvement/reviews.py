"""Management reviews (clause 9.3 of the management-system standards): the inputs the
standard requires, what was said about them, the decisions and the actions they raise."""

import datetime
import json
from functools import cache
from pathlib import Path

from django.db import transaction

from isocert.accounts.models import Organization, User
from isocert.accounts.services import ensure_can_edit
from isocert.catalog.models import Standard
from isocert.core.audit import record_event
from isocert.core.errors import InvalidInput
from isocert.core.validation import clean_date, collect
from isocert.core.values import UNSET, given

from .actions import create_action
from .common import (
    clean_standard,
    clean_text,
    raise_errors,
)
from .models import (
    Action,
    ManagementReview,
    ReviewInput,
)

INPUTS_FILE = Path(__file__).resolve().parent / "data" / "management_review_inputs.json"


@cache
def _inputs_data() -> dict:
    with INPUTS_FILE.open(encoding="utf-8") as fh:
        return json.load(fh)


def review_inputs_for(standard: Standard) -> list[dict]:
    """The inputs a management review for ``standard`` must consider, in order."""
    data = _inputs_data()
    return [*data["common"], *data["standards"].get(standard.code, [])]


def _apply_inputs(review: ManagementReview, inputs) -> list[str]:
    if not isinstance(inputs, list):
        raise InvalidInput("Give the inputs as a list.", fields={"inputs": "A list is required."})
    rows = {row.key: row for row in review.inputs.all()}
    errors, changed = {}, []
    for index, entry in enumerate(inputs):
        entry = dict(entry)
        row = rows.get(str(entry.get("key") or ""))
        if row is None:
            errors[f"inputs.{index}.key"] = f"Unknown input {entry.get('key')!r}."
            continue
        if "covered" in entry and entry["covered"] is not None:
            row.covered = bool(entry["covered"])
        if "notes" in entry and entry["notes"] is not None:
            notes = str(entry["notes"]).strip()
            if len(notes) > 5000:
                errors[f"inputs.{index}.notes"] = "At most 5000 characters."
            row.notes = notes
        changed.append(row.key)
    raise_errors(errors)
    for key in changed:
        rows[key].save()
    return changed


@transaction.atomic
def create_management_review(
        *, organization: Organization, standard: Standard | str,
        date: datetime.date | str | None, attendees: str, decisions: str = "",
        inputs: list | None = None, actor: User) -> ManagementReview:
    """Record a management review; its inputs are the standard's checklist, optionally
    ticked at once (``inputs``: ``[{"key", "covered", "notes"}]``)."""
    ensure_can_edit(organization, actor)
    errors: dict[str, str] = {}
    standard = clean_standard(standard, "standard", errors, required=True)
    date = collect(errors, clean_date, date, "date", required=False)
    if date is None and "date" not in errors:
        errors["date"] = "Give the date of the review."
    attendees = collect(errors, clean_text, attendees, "attendees", "Attendees", required=True,
                        limit=5000)
    decisions = collect(errors, clean_text, decisions, "decisions", "Decisions", limit=10000)
    raise_errors(errors)
    review = ManagementReview.objects.create(organization=organization, standard=standard,
                                             date=date, attendees=attendees, decisions=decisions,
                                             created_by=actor)
    ReviewInput.objects.bulk_create([ReviewInput(review=review, key=i["key"], label=i["label"])
                                     for i in review_inputs_for(standard)])
    if inputs:
        _apply_inputs(review, inputs)
    record_event(actor=actor, action="improvement.management_review.created", obj=review,
                 organization_id=organization.pk, payload={
                     "standard": standard.code, "date": date, "attendees": attendees,
                     "covered": sorted(review.inputs.filter(covered=True)
                                       .values_list("key", flat=True))})
    return review


@transaction.atomic
def update_review_inputs(*, review: ManagementReview, actor: User, inputs: list
                         ) -> ManagementReview:
    """Tick inputs as covered and note what was said about them."""
    ensure_can_edit(review.organization, actor)
    review = ManagementReview.objects.select_for_update().get(pk=review.pk)
    changed = _apply_inputs(review, inputs)
    record_event(actor=actor, action="improvement.management_review.inputs_updated", obj=review,
                 organization_id=review.organization_id, payload={
                     "changed": changed,
                     "covered": sorted(review.inputs.filter(covered=True)
                                       .values_list("key", flat=True))})
    return review


@transaction.atomic
def record_review_decisions(*, review: ManagementReview, actor: User, decisions: str,
                            attendees: str | None = None) -> ManagementReview:
    """Record the review's decisions (and correct the attendees, if given)."""
    ensure_can_edit(review.organization, actor)
    review = ManagementReview.objects.select_for_update().get(pk=review.pk)
    review.decisions = clean_text(decisions, "decisions", "Decisions", limit=10000)
    if attendees is not None:
        review.attendees = clean_text(attendees, "attendees", "Attendees",
                                 required=True, limit=5000)
    review.save()
    record_event(actor=actor, action="improvement.management_review.decisions_recorded",
                 obj=review, organization_id=review.organization_id,
                 payload={"decisions": review.decisions, "attendees": review.attendees})
    return review


@transaction.atomic
def add_review_action(
        *, review: ManagementReview, title: str = UNSET, description: str = UNSET,
        standard=UNSET, clause=UNSET, owner_id: int | None = UNSET,
        due_date: datetime.date | str | None = UNSET,
        actor: User) -> Action:
    """An action resulting from a management-review decision."""
    fields = given(title=title, description=description, standard=standard, clause=clause,
                 owner_id=owner_id, due_date=due_date)
    fields["standard"] = fields.get("standard") or review.standard
    return create_action(organization=review.organization, actor=actor,
                         management_review=review, **fields)
