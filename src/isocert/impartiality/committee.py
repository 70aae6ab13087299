"""The committee for safeguarding impartiality (ISO/IEC 17021-1 §6.2, the mechanism of
§5.2.2): its members, who represent the interested parties — no single interest
predominating — and its meetings, from planned to held (attendees and minutes) to minutes
approved. Every write is atomic with its audit event."""

import collections
import datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from isocert.accounts.models import User
from isocert.core.audit import record_event
from isocert.core.dates import display_date
from isocert.core.errors import InvalidInput
from isocert.core.files import check_upload, store_file
from isocert.core.validation import choice_error, clean_date
from isocert.notifications.services import notify

from .models import MEETING_LIFECYCLE, CommitteeMeeting, CommitteeMember, ImpartialityRisk
from .services import clean_text, ensure_manager

Interest = CommitteeMember.Interest
MEMBER_FIELDS = ("name", "organization", "interest", "email", "appointed_on", "term_ends_on",
                 "active")


def _member_values(values: dict) -> dict:
    """The member's fields, checked; only those given."""
    clean = {}
    if "name" in values:
        clean["name"] = clean_text(values["name"], "name", limit=150, what="the name")
    if "organization" in values:
        clean["organization"] = clean_text(values["organization"], "organization", limit=200,
                                           what="the organization", required=False)
    if "interest" in values:
        if values["interest"] not in Interest.values:
            message = choice_error(Interest, what="the interest represented")
            raise InvalidInput(message, fields={"interest": message})
        clean["interest"] = values["interest"]
    if "email" in values:
        email = clean_text(values["email"], "email", limit=254, what="the e-mail address")
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidInput("Please give a valid e-mail address.",
                               fields={"email": "Enter a valid e-mail address."})
        clean["email"] = email
    if "appointed_on" in values:
        clean["appointed_on"] = clean_date(values["appointed_on"], "appointed_on")
    if "term_ends_on" in values:
        clean["term_ends_on"] = clean_date(values["term_ends_on"], "term_ends_on",
                                           required=False)
    if "active" in values:
        clean["active"] = bool(values["active"])
    return clean


def _check_term(member: CommitteeMember) -> None:
    if member.term_ends_on and member.term_ends_on < member.appointed_on:
        raise InvalidInput("The term cannot end before the appointment.",
                           fields={"term_ends_on":
                                   f"On or after {display_date(member.appointed_on)}."})


def _member_snapshot(member: CommitteeMember) -> dict:
    return {name: (value.isoformat() if isinstance(value, datetime.date) else value)
            for name in MEMBER_FIELDS for value in [getattr(member, name)]}


@transaction.atomic
def add_committee_member(*, name: str, interest: str, email: str, appointed_on,
                         actor: User | None, organization: str = "",
                         term_ends_on=None) -> CommitteeMember:
    """Appoint a member and record the interest they represent (§6.2). Refused (422,
    naming the field): a missing name, e-mail or appointment date, an unknown interest, a
    term ending before the appointment; (403) anyone but a CB administrator. ``actor=None``
    only from trusted set-up code (seed-demo)."""
    if actor is not None:
        ensure_manager(actor)
    values = _member_values({"name": name, "organization": organization, "interest": interest,
                             "email": email, "appointed_on": appointed_on,
                             "term_ends_on": term_ends_on})
    member = CommitteeMember(**values)
    _check_term(member)
    member.save()
    record_event(actor=actor, action="impartiality.committee_member.added", obj=member,
                 payload=_member_snapshot(member))
    return member


@transaction.atomic
def update_committee_member(*, member: CommitteeMember, actor: User,
                            **changes) -> CommitteeMember:
    """Change a member's record — ``active=False`` when they leave (the record and their
    attendances stay). The audit event lists each change."""
    ensure_manager(actor)
    unknown = set(changes) - set(MEMBER_FIELDS)
    if unknown:
        raise InvalidInput("Unknown field.", fields=dict.fromkeys(
            sorted(unknown), "Not a field of a member."))
    values = _member_values(changes)
    member = CommitteeMember.objects.select_for_update().get(pk=member.pk)
    before = _member_snapshot(member)
    for name, value in values.items():
        setattr(member, name, value)
    _check_term(member)
    after = _member_snapshot(member)
    diff = {name: {"from": before[name], "to": after[name]}
            for name in MEMBER_FIELDS if before[name] != after[name]}
    if diff:
        member.save()
        record_event(actor=actor, action="impartiality.committee_member.updated", obj=member,
                     payload={"name": member.name, "changes": diff})
    return member


# --- meetings ----------------------------------------------------------------------------------

def predominant_interest(members) -> str:
    """The interest that forms a majority of ``members``, or "" (§6.2: no single interest
    predominates)."""
    counts = collections.Counter(member.interest for member in members)
    if not counts:
        return ""
    interest, count = counts.most_common(1)[0]
    return interest if count * 2 > sum(counts.values()) else ""


def meeting_warnings(meeting: CommitteeMeeting) -> list[str]:
    """What the CB should know of a meeting's make-up (warned, not refused)."""
    if not meeting.predominant_interest:
        return []
    label = Interest(meeting.predominant_interest).label
    return [f"{label} formed a majority of the attendees: ISO/IEC 17021-1 §6.2 asks that "
            "no single interest predominates."]


def _event(actor, action: str, meeting: CommitteeMeeting, payload: dict | None = None) -> None:
    record_event(actor=actor, action=f"impartiality.meeting.{action}", obj=meeting,
                 payload={"date": meeting.date.isoformat(), "status": meeting.status,
                          **(payload or {})})


@transaction.atomic
def plan_meeting(*, date, agenda: str, actor: User | None) -> CommitteeMeeting:
    """Plan a committee meeting with its agenda. Refused: a missing date or agenda (422)."""
    if actor is not None:
        ensure_manager(actor)
    day = clean_date(date, "date")
    agenda = clean_text(agenda, "agenda", limit=10000, what="the agenda")
    meeting = CommitteeMeeting.objects.create(date=day, agenda=agenda, created_by=actor)
    _event(actor, "planned", meeting)
    return meeting


@transaction.atomic
def hold_meeting(*, meeting: CommitteeMeeting, actor: User | None,
                 attendees: list[CommitteeMember], minutes: str = "", minutes_file=None,
                 risks_reviewed: list[ImpartialityRisk] | None = None) -> CommitteeMeeting:
    """Record that the meeting was held: who attended, the minutes (text and/or a file,
    through the portal's upload checks) and the risks it reviewed. When one interest forms
    a majority of the attendees the meeting is recorded with a warning citing §6.2 — the
    committee met, and hiding that would be worse. Refused: a meeting not planned (409), a
    date still to come, no attendees or a member no longer active (422)."""
    if actor is not None:
        ensure_manager(actor)
    minutes = clean_text(minutes, "minutes", limit=50000, what="the minutes", required=False)
    checked = check_upload(minutes_file, field="minutes_file") if minutes_file else None
    attendees = list(attendees)
    if not attendees:
        raise InvalidInput("Who attended?", fields={"attendee_ids": "Choose the attendees."})
    if any(not member.active for member in attendees):
        raise InvalidInput("Only active members attend.",
                           fields={"attendee_ids": "Choose active members."})
    meeting = CommitteeMeeting.objects.select_for_update().get(pk=meeting.pk)
    MEETING_LIFECYCLE.apply(meeting, "hold")
    if meeting.date > timezone.localdate():
        raise InvalidInput("A meeting is recorded as held on or after its date.",
                           fields={"date": "The meeting is planned for "
                                           f"{display_date(meeting.date)}."})
    meeting.minutes = minutes
    if checked is not None:
        meeting.minutes_file = store_file(checked)
        meeting.minutes_filename = (getattr(minutes_file, "name", "") or "minutes")[:200]
    meeting.predominant_interest = predominant_interest(attendees)
    meeting.held_recorded_by = actor
    meeting.save()
    meeting.attendees.set(attendees)
    meeting.risks_reviewed.set(risks_reviewed or [])
    _event(actor, "held", meeting, {
        "attendees": sorted(member.pk for member in attendees),
        "risks_reviewed": sorted(risk.reference for risk in risks_reviewed or []),
        "minutes_file": meeting.minutes_filename or None,
        "predominant_interest": meeting.predominant_interest or None})
    return meeting


@transaction.atomic
def approve_minutes(*, meeting: CommitteeMeeting, actor: User | None) -> CommitteeMeeting:
    """Approve the minutes of a meeting that was held; the attendees receive them by
    e-mail. Refused: a meeting not held (409), no minutes on record (422)."""
    if actor is not None:
        ensure_manager(actor)
    meeting = CommitteeMeeting.objects.select_for_update().get(pk=meeting.pk)
    MEETING_LIFECYCLE.apply(meeting, "approve_minutes")
    if not meeting.minutes and not meeting.minutes_file_id:
        raise InvalidInput("There are no minutes to approve.",
                           fields={"minutes": "Record the minutes first."})
    meeting.approved_by = actor
    meeting.approved_at = timezone.now()
    meeting.save()
    _event(actor, "minutes_approved", meeting)
    notify(template="impartiality_minutes_approved",
           to=list(meeting.attendees.values_list("email", flat=True)), context={
               "date": meeting.date.isoformat(), "minutes": meeting.minutes,
               "minutes_file": meeting.minutes_filename,
               "path": reverse("impartiality_meeting_detail", args=[meeting.pk])})
    return meeting
