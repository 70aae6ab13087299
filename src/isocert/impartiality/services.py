"""The impartiality risk register (ISO/IEC 17021-1 §5.2): every write, each atomic with
its audit event.

§5.2.3: the CB identifies, analyses, evaluates, treats, monitors and documents the risks
to its impartiality, including those from the relationships of its personnel; §5.2.4: it
shows how it eliminates or minimizes each. Here a risk is recorded (by hand, or from a
declared client relationship through ``accounts.signals``), reviewed — each review says
whether the safeguard holds and when to look again — and the whole register is reviewed
at least every ``IMPARTIALITY_REVIEW_MONTHS`` (the interval is the CB's). The daily run
tells the administrators once when that review, or a risk's own review, falls due.
"""

import calendar
import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from isocert.accounts.models import ClientRelationship, Organization, User
from isocert.accounts.permissions import can, staff_emails
from isocert.core.audit import record_event
from isocert.core.dates import display_date
from isocert.core.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.sequences import next_value
from isocert.core.validation import choice_error, clean_date, clean_reason
from isocert.notifications.services import notify

from .models import (
    RISK_LIFECYCLE,
    CommitteeMeeting,
    ImpartialityRisk,
    Level,
    RegisterReview,
    RegisterReviewNotice,
    RiskReview,
)

R = ImpartialityRisk
REFERENCE_FORMAT = "IMP-{year}-{seq:04d}"
# The threat a declared relationship poses (ISO/IEC 17021-1 §4.2 notes, §5.2): having
# consulted on the client's system, the person would audit or decide on their own work
# (self-review); having worked for the client, on former colleagues (familiarity).
RELATIONSHIP_THREATS = {
    ClientRelationship.Kind.CONSULTANCY: R.Threat.SELF_REVIEW,
    ClientRelationship.Kind.EMPLOYMENT: R.Threat.FAMILIARITY,
}
EDITABLE = ("threat", "source", "description", "likelihood", "impact", "safeguard", "owner",
            "next_review_on", "organization")


# --- small helpers -----------------------------------------------------------------------------

def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus whole months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month,
                       day=min(day.day, calendar.monthrange(year, month)[1]))


def ensure_manager(actor: User) -> None:
    if not can(actor, "manage_impartiality"):
        raise NotPermitted("Only CB administrators keep the impartiality register.")


def clean_text(value, field: str, *, limit: int, what: str, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"Please give {what}.", fields={field: f"Give {what}."})
    if len(text) > limit:
        raise InvalidInput(f"{what[0].upper()}{what[1:]} is too long.",
                           fields={field: f"At most {limit} characters."})
    return text


def _level(value, field: str) -> int:
    try:
        level = int(value)
    except (TypeError, ValueError):
        level = 0
    if level not in Level.values:
        raise InvalidInput(choice_error(Level, what=f"the {field}"),
                           fields={field: choice_error(Level, what=f"the {field}")})
    return level


def _threat(value) -> str:
    if value not in R.Threat.values:
        message = choice_error(R.Threat, what="the kind of threat")
        raise InvalidInput(message, fields={"threat": message})
    return value


def _owner(owner: User | None) -> User | None:
    if owner is not None and not (owner.is_active and owner.staff_roles_set):
        raise InvalidInput("The owner is a member of the CB's staff.",
                           fields={"owner_id": "Choose a CB staff member."})
    return owner


def _future_date(value, field: str, *, after: datetime.date, what: str) -> datetime.date:
    day = clean_date(value, field)
    if day <= after:
        shown = display_date(after)
        raise InvalidInput(f"The {what} is after {shown}.", fields={field: f"After {shown}."})
    return day


def _past_date(value, field: str, *, today: datetime.date) -> datetime.date:
    day = clean_date(value, field, default=today)
    if day > today:
        raise InvalidInput("That date is still to come.",
                           fields={field: f"On or before {display_date(today)}."})
    return day


def _record(actor, action: str, risk: ImpartialityRisk, payload: dict | None = None) -> None:
    record_event(actor=actor, action=f"impartiality.risk.{action}", obj=risk,
                 organization_id=risk.organization_id,
                 payload={"reference": risk.reference, "status": risk.status,
                          **(payload or {})})


def _tell_owner(risk: ImpartialityRisk) -> None:
    if risk.owner is not None:
        notify(template="impartiality_risk_owner", to=[risk.owner.email], context={
            "reference": risk.reference, "threat": risk.get_threat_display(),
            "source": risk.source, "next_review_on": risk.next_review_on.isoformat(),
            "path": reverse("impartiality_risk_detail", args=[risk.pk])})


def _locked(risk: ImpartialityRisk) -> ImpartialityRisk:
    return ImpartialityRisk.objects.select_for_update().get(pk=risk.pk)


# --- the register ------------------------------------------------------------------------------

@transaction.atomic
def record_risk(*, threat: str, source: str, description: str, actor: User | None,
                likelihood=Level.MEDIUM, impact=Level.MEDIUM, safeguard: str = "",
                owner: User | None = None, next_review_on=None,
                organization: Organization | None = None,
                relationship: ClientRelationship | None = None,
                trusted: bool = False) -> ImpartialityRisk:
    """Enter a threat in the register (§5.2.3) with the next ``IMP-YYYY-NNNN`` reference,
    status open. ``next_review_on`` defaults to ``IMPARTIALITY_REVIEW_MONTHS`` from today.
    The owner, if any, is told by e-mail. ``trusted`` is for the register's own entries
    from a declared relationship (``record_relationship_risk``): the declarer need not keep
    the register. Refused (422, naming the field): an unknown threat or level, a missing
    source or description, an owner who is not CB staff, a review date not in the future;
    (403) anyone but a CB administrator."""
    if not trusted:
        ensure_manager(actor)
    today = timezone.localdate()
    threat = _threat(threat)
    source = clean_text(source, "source", limit=300, what="the source of the threat")
    description = clean_text(description, "description", limit=10000,
                             what="a description of the threat")
    likelihood, impact = _level(likelihood, "likelihood"), _level(impact, "impact")
    safeguard = clean_text(safeguard, "safeguard", limit=10000, what="the safeguard",
                           required=False)
    owner = _owner(owner)
    if next_review_on in (None, ""):
        next_review_on = add_months(today, settings.IMPARTIALITY_REVIEW_MONTHS)
    next_review_on = _future_date(next_review_on, "next_review_on", after=today,
                                  what="next review")
    risk = ImpartialityRisk.objects.create(
        reference=REFERENCE_FORMAT.format(year=today.year,
                                          seq=next_value("impartiality_risk", str(today.year))),
        threat=threat, source=source, description=description, likelihood=likelihood,
        impact=impact, safeguard=safeguard, owner=owner, next_review_on=next_review_on,
        organization=organization, relationship=relationship, created_by=actor)
    _record(actor, "recorded", risk, {
        "threat": threat, "source": source, "likelihood": likelihood, "impact": impact,
        "owner": owner.email if owner else None, "next_review_on": next_review_on.isoformat(),
        "relationship": relationship.pk if relationship else None})
    _tell_owner(risk)
    return risk


def _snapshot(risk: ImpartialityRisk) -> dict:
    values = {}
    for name in EDITABLE:
        value = getattr(risk, name)
        values[name] = (str(value) if isinstance(value, (User, Organization, datetime.date))
                        else value)
    return values


@transaction.atomic
def update_risk(*, risk: ImpartialityRisk, actor: User, **changes) -> ImpartialityRisk:
    """Change what the register says of a risk (its threat, source, description, levels,
    safeguard, owner, next review date, client): the audit event lists each change; a new
    owner is told. Status moves only by a review (``review_risk``). Refused: a retired
    risk (409: kept as it was); bad values as ``record_risk``; an unknown field."""
    ensure_manager(actor)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput("Unknown field.", fields=dict.fromkeys(
            sorted(unknown), "Not a field of a risk."))
    risk = _locked(risk)
    if risk.status == R.Status.RETIRED:
        raise TransitionNotAllowed("This risk is retired; the register keeps it as it was.")
    today = timezone.localdate()
    clean = {
        "threat": _threat,
        "source": lambda v: clean_text(v, "source", limit=300, what="the source of the threat"),
        "description": lambda v: clean_text(v, "description", limit=10000,
                                            what="a description of the threat"),
        "likelihood": lambda v: _level(v, "likelihood"),
        "impact": lambda v: _level(v, "impact"),
        "safeguard": lambda v: clean_text(v, "safeguard", limit=10000, what="the safeguard",
                                          required=False),
        "owner": _owner,
        "next_review_on": lambda v: _future_date(v, "next_review_on", after=today,
                                                 what="next review"),
        "organization": lambda v: v,
    }
    values = {name: clean[name](value) for name, value in changes.items()}
    before = _snapshot(risk)
    old_owner = risk.owner_id
    for name, value in values.items():
        setattr(risk, name, value)
    after = _snapshot(risk)
    diff = {name: {"from": before[name], "to": after[name]}
            for name in EDITABLE if before[name] != after[name]}
    if not diff:
        return risk
    risk.save()
    _record(actor, "updated", risk, {"changes": diff})
    if risk.owner_id and risk.owner_id != old_owner:
        _tell_owner(risk)
    return risk


# What a review's outcome does to the risk: the status table's action, or none.
OUTCOME_ACTIONS = {
    RiskReview.Outcome.MITIGATED: (R.Status.MITIGATED, "mitigate"),
    RiskReview.Outcome.OPEN: (R.Status.OPEN, "reopen"),
    RiskReview.Outcome.RETIRED: (R.Status.RETIRED, "retire"),
}


@transaction.atomic
def review_risk(*, risk: ImpartialityRisk, actor: User, outcome: str, conclusion: str,
                next_review_on=None, reviewed_on=None) -> RiskReview:
    """Review one risk (§5.2.3: monitored; §5.2.4: the safeguard shown to work) and set
    when it is looked at next (default ``IMPARTIALITY_REVIEW_MONTHS`` on). The outcome
    moves the risk through its status table: ``mitigated`` (needs a safeguard on record),
    ``open`` (the safeguard did not hold), ``retired`` (no longer a threat; no next
    review), or ``unchanged``. A review asked for early (the relationship ended) is
    answered by it. Refused: a retired risk (409), a move the table does not allow (409),
    a missing conclusion, an unknown outcome, dates out of order (422)."""
    ensure_manager(actor)
    if outcome not in RiskReview.Outcome.values:
        message = choice_error(RiskReview.Outcome, what="the outcome")
        raise InvalidInput(message, fields={"outcome": message})
    conclusion = clean_reason(conclusion, field="conclusion", what="the review's conclusion",
                              limit=10000)
    today = timezone.localdate()
    reviewed_on = _past_date(reviewed_on, "reviewed_on", today=today)
    risk = _locked(risk)
    if risk.status == R.Status.RETIRED:
        raise TransitionNotAllowed("This risk is retired; it is no longer reviewed.")
    target = OUTCOME_ACTIONS.get(outcome)
    if outcome == RiskReview.Outcome.MITIGATED and not risk.safeguard:
        raise InvalidInput("A risk is mitigated by a safeguard: record it first.",
                           fields={"outcome": "Record the safeguard before calling the "
                                              "risk mitigated."})
    if target is not None and target[0] != risk.status:
        RISK_LIFECYCLE.apply(risk, target[1])
    if outcome == RiskReview.Outcome.RETIRED:
        next_day = None
    else:
        next_day = _future_date(
            next_review_on or add_months(today, settings.IMPARTIALITY_REVIEW_MONTHS),
            "next_review_on", after=max(today, reviewed_on), what="next review")
        risk.next_review_on = next_day
    risk.review_requested = ""
    risk.save()
    review = RiskReview.objects.create(risk=risk, reviewed_on=reviewed_on, reviewer=actor,
                                       outcome=outcome, conclusion=conclusion,
                                       next_review_on=next_day)
    _record(actor, "reviewed", risk, {
        "outcome": outcome, "reviewed_on": reviewed_on.isoformat(),
        "next_review_on": next_day.isoformat() if next_day else None})
    return review


# --- declared client relationships (accounts.signals) ------------------------------------------

@transaction.atomic
def record_relationship_risk(*, relationship: ClientRelationship,
                             actor: User | None) -> ImpartialityRisk:
    """The register's entry for a declared client relationship (§5.2.3: the relationships
    of personnel): consultancy is a self-review threat, employment a familiarity threat;
    no owner until an administrator picks one; the safeguard the portal already enforces
    (the person is kept off the client's audit team and decision for the cooling-off
    period). Once per relationship. The administrators are told."""
    existing = ImpartialityRisk.objects.filter(relationship=relationship).first()
    if existing is not None:
        return existing
    person = relationship.user
    kind = relationship.get_kind_display().lower()
    ongoing = relationship.end_date is None
    risk = record_risk(
        threat=RELATIONSHIP_THREATS.get(relationship.kind, R.Threat.OTHER),
        source=f"Declared relationship: {person} — {kind} for {relationship.organization}"[:300],
        description=(f"{person} declared {kind} for {relationship.organization} from "
                     f"{display_date(relationship.start_date)}"
                     + (" (ongoing)." if ongoing else f" to {display_date(relationship.end_date)}.")
                     + (f" Notes: {relationship.notes}" if relationship.notes else "")),
        likelihood=Level.MEDIUM, impact=Level.HIGH if ongoing else Level.MEDIUM,
        safeguard=(f"{person} is kept off {relationship.organization}'s audit teams and "
                   "certification decisions while the relationship lasts and for "
                   f"{settings.IMPARTIALITY_COOLING_OFF_YEARS} years after it (enforced "
                   "by the portal)."),
        organization=relationship.organization, relationship=relationship, actor=actor,
        trusted=True)
    notify(template="impartiality_relationship_risk",
           to=staff_emails("manage_impartiality"), context={
               "reference": risk.reference, "source": risk.source,
               "path": reverse("impartiality_risk_detail", args=[risk.pk])})
    return risk


@transaction.atomic
def request_relationship_review(*, relationship: ClientRelationship,
                                actor: User | None) -> list[ImpartialityRisk]:
    """A declared relationship ended: its risks still in the register are due for review
    today (does the threat still hold, is the cooling-off period running?)."""
    today = timezone.localdate()
    marked = []
    for risk in (ImpartialityRisk.objects.select_for_update()
                 .filter(relationship=relationship).exclude(status=R.Status.RETIRED)):
        risk.review_requested = ("The relationship ended on "
                                 f"{display_date(relationship.end_date)}: "
                                 "review the threat and its safeguard.")
        risk.next_review_on = min(risk.next_review_on, today)
        risk.save(update_fields=["review_requested", "next_review_on", "updated_at"])
        _record(actor, "review_requested", risk,
                {"reason": "relationship_ended",
                 "end_date": relationship.end_date.isoformat()})
        marked.append(risk)
    return marked


# --- the register's periodic review --------------------------------------------------------------

def register_due_on() -> datetime.date | None:
    """When the register is next to be reviewed: ``IMPARTIALITY_REVIEW_MONTHS`` after the
    last review; without one, as soon as the register holds a risk (the day the first was
    recorded); None while there is neither."""
    last = RegisterReview.objects.order_by("-reviewed_on", "-pk").first()
    if last is not None:
        return add_months(last.reviewed_on, settings.IMPARTIALITY_REVIEW_MONTHS)
    first = ImpartialityRisk.objects.order_by("created_at", "pk").first()
    return timezone.localdate(first.created_at) if first else None


def risks_due(today: datetime.date):
    """Risks still in the register whose review date has come."""
    return (ImpartialityRisk.objects.exclude(status=R.Status.RETIRED)
            .filter(next_review_on__lte=today).select_related("owner")
            .order_by("next_review_on", "pk"))


@transaction.atomic
def review_register(*, actor: User, conclusion: str, reviewed_on=None,
                    meeting: CommitteeMeeting | None = None) -> RegisterReview:
    """Record a review of the whole register (§5.2.3), by the actor or at a committee
    meeting (§6.2) that was held. The next is due ``IMPARTIALITY_REVIEW_MONTHS`` later.
    Refused: a missing conclusion, a date to come (422); a meeting not held (409)."""
    ensure_manager(actor)
    conclusion = clean_reason(conclusion, field="conclusion", what="the review's conclusion",
                              limit=20000)
    reviewed_on = _past_date(reviewed_on, "reviewed_on", today=timezone.localdate())
    if meeting is not None:
        meeting = CommitteeMeeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting is not None and meeting.status == CommitteeMeeting.Status.PLANNED:
        raise TransitionNotAllowed("The committee's meeting is still planned; a review is "
                                   "recorded at a meeting that was held.")
    review = RegisterReview.objects.create(
        reviewed_on=reviewed_on, reviewed_by=actor, meeting=meeting, conclusion=conclusion,
        open_risks=ImpartialityRisk.objects.filter(status=R.Status.OPEN).count())
    record_event(actor=actor, action="impartiality.register.reviewed", obj=review, payload={
        "reviewed_on": reviewed_on.isoformat(), "meeting": meeting.pk if meeting else None,
        "open_risks": review.open_risks, "next_due_on": register_due_on().isoformat()})
    return review


@transaction.atomic
def send_review_reminders(*, today: datetime.date) -> dict:
    """The daily run: one e-mail to the administrators when the register review has fallen
    due (once per due date, remembered in ``RegisterReviewNotice``) or a risk's review date
    has come (once per date, ``reminded_for``). Returns the counts for the run's summary."""
    due_on = register_due_on()
    register_due = (due_on is not None and due_on <= today
                    and not RegisterReviewNotice.objects.filter(due_on=due_on).exists())
    late = []
    for risk in risks_due(today).select_for_update(of=("self",)):
        if risk.reminded_for == risk.next_review_on:
            continue
        late.append({"reference": risk.reference, "source": risk.source,
                     "next_review_on": risk.next_review_on.isoformat(),
                     "path": reverse("impartiality_risk_detail", args=[risk.pk])})
        risk.reminded_for = risk.next_review_on
        risk.save(update_fields=["reminded_for"])
    if register_due:
        RegisterReviewNotice.objects.create(due_on=due_on, sent_on=today)
        record_event(actor=None, action="impartiality.register.review_due",
                     object_type="impartiality.register", object_id="register",
                     payload={"due_on": due_on.isoformat()})
    if register_due or late:
        notify(template="impartiality_review_due", to=staff_emails("manage_impartiality"),
               context={"register_due_on": due_on.isoformat() if register_due else "",
                        "risks": late, "path": reverse("impartiality_register")})
    return {"impartiality_register_review_due": int(register_due),
            "impartiality_risks_due": len(late)}
