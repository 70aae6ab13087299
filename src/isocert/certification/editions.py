"""Edition transitions as they touch certification: the CB's record of each transition, the
notice on certificates still on a superseded edition, the expiry cap, the daily warnings and
the expiry at the deadline.

The rules come from the IAF transition notices, which all follow one pattern (IAF ID 9:2015
for ISO 9001:2015, IAF ID 10:2015 for ISO 14001:2015, IAF MD 21:2018 for the migration to
ISO 45001:2018, IAF MD 26:2023 for ISO/IEC 27001:2022):

- a transition period ends on a deadline; certifications to the old edition not moved to
  the new one by then are no longer valid — IAF MD 26:2023: they "shall expire or be
  withdrawn at the end of the transition period". isocert expires them (the certificate's
  validity ended; nothing was found wrong with the management system);
- a certificate issued or renewed on the old edition during the period gets an expiry that
  corresponds to the end of the transition period (IAF MD 26:2023), so ``capped_expiry``
  caps it at the deadline and keeps the cycle's own expiry (``expiry_before_cap``) for the
  transition to give back;
- the transition is audited (a transition audit, usually with a surveillance or
  recertification audit, with extra time the CB sets — ``audits.programme.transitions``) and
  decided like any certification decision (ISO/IEC 17021-1 §9.5): a grant issues a revision
  on the new edition (``services.decide`` with kind ``transition``).

The deadline and the extra time are the CB's entries from the notice (``EditionTransition``):
nothing is shipped. The warnings' lead times are ``TRANSITION_WARNING_DAYS``.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from isocert.accounts.models import User
from isocert.accounts.permissions import can, member_emails, staff_emails
from isocert.catalog import selectors as catalog_selectors
from isocert.catalog.models import EditionTransition, Standard
from isocert.core.audit import record_event
from isocert.core.dates import display_date
from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.validation import clean_date
from isocert.core.values import UNSET, given
from isocert.notifications.services import notify

from .lifecycle import _change, _locked
from .models import Certificate, CertificateStandard, TransitionWarning
from .records import record_certificate_event

S = Certificate.Status
NOTICE_LIMIT = 300
MAX_EXTRA_PERCENT = 100


class TransitionExists(Conflict):
    """An edition is superseded by one transition only."""

    code = "transition_exists"


# --- the CB's record of a transition ------------------------------------------------------------

def ensure_administrator(actor: User) -> None:
    """Transitions are the CB's settings: administrators enter them from the notice."""
    if not can(actor, "administer"):
        raise NotPermitted("Only a CB administrator records edition transitions.")


def _standard(value, field: str, errors: dict) -> Standard | None:
    """A ``Standard``, its id, or its label ``"ISO 9001:2015"``."""
    if isinstance(value, Standard):
        return value
    text = str(value or "").strip()
    standard = None
    if text.isdigit():
        standard = Standard.objects.filter(pk=int(text)).first()
    elif ":" in text:
        code, _, edition = text.rpartition(":")
        standard = Standard.objects.filter(code=code.strip(), edition=edition.strip()).first()
    if standard is None:
        errors[field] = "Choose an edition of the catalog, e.g. \"ISO 9001:2015\"."
    return standard


def _edition_order(edition: str) -> tuple:
    """Editions are years ("2015"), sometimes with a suffix; compare the numbers first."""
    digits = "".join(ch for ch in edition if ch.isdigit())
    return (int(digits) if digits else 0, edition)


def _clean_deadline(value, errors: dict) -> datetime.date | None:
    try:
        deadline = clean_date(value, "deadline")
    except InvalidInput as exc:
        errors.update(exc.fields or {"deadline": "Give the transition deadline."})
        return None
    if deadline is None:
        errors["deadline"] = "Give the transition deadline."
    elif deadline <= timezone.localdate():
        errors["deadline"] = "The deadline must lie in the future."
    return deadline


def _clean_days(value, errors: dict) -> Decimal:
    try:
        days = Decimal(str(value if value not in (None, "") else 0))
    except (InvalidOperation, ValueError):
        days = None
    if days is None or not days.is_finite() or days < 0 or days * 2 != int(days * 2) or days > 99:
        errors["extra_audit_days"] = "Half days from 0 to 99, e.g. 0, 0.5 or 1."
        return Decimal(0)
    return days


def _clean_percent(value, errors: dict) -> int:
    try:
        percent = int(str(value if value not in (None, "") else 0))
    except ValueError:
        percent = -1
    if not 0 <= percent <= MAX_EXTRA_PERCENT:
        errors["extra_audit_percent"] = f"A whole percentage from 0 to {MAX_EXTRA_PERCENT}."
        return 0
    return percent


def _clean_notice(value, errors: dict) -> str:
    text = " ".join(str(value or "").split())
    if len(text) < 3:
        errors["notice_reference"] = ("Name the transition notice it comes from, e.g. "
                                      "\"IAF MD 26:2023\".")
    elif len(text) > NOTICE_LIMIT:
        errors["notice_reference"] = f"At most {NOTICE_LIMIT} characters."
    return text


def _payload(transition: EditionTransition) -> dict:
    return {"from": str(transition.from_standard), "to": str(transition.to_standard),
            "deadline": transition.deadline.isoformat(),
            "extra_audit_days": str(transition.extra_audit_days),
            "extra_audit_percent": transition.extra_audit_percent,
            "notice_reference": transition.notice_reference}


@transaction.atomic
def record_transition(*, from_standard, to_standard, deadline, notice_reference: str,
                      extra_audit_days=0, extra_audit_percent=0,
                      actor: User) -> EditionTransition:
    """Record that ``from_standard`` is superseded by ``to_standard``, from an IAF/ISO
    transition notice.

    The from-edition is then no longer current: new applications and gap analyses take the
    new edition (``Standard.is_current``), while cycles and certificates on the old one keep
    it until their transition. Refused (nothing written): anyone but a CB administrator;
    editions of different standards, the same edition, or a to-edition not newer; a
    to-edition that is itself superseded; a from-edition already superseded; a deadline not
    in the future; extra time below 0 (days in half days, percent 0–100); no notice named.
    """
    ensure_administrator(actor)
    errors: dict = {}
    old = _standard(from_standard, "from_standard", errors)
    new = _standard(to_standard, "to_standard", errors)
    deadline = _clean_deadline(deadline, errors)
    days = _clean_days(extra_audit_days, errors)
    percent = _clean_percent(extra_audit_percent, errors)
    notice = _clean_notice(notice_reference, errors)
    if old and new:
        if old.code != new.code:
            errors["to_standard"] = f"Choose a new edition of {old.code}."
        elif _edition_order(new.edition) <= _edition_order(old.edition):
            errors["to_standard"] = f"Choose an edition newer than {old}."
    if errors:
        raise InvalidInput("The transition was not recorded.", fields=errors)
    old = Standard.objects.select_for_update().get(pk=old.pk)
    if EditionTransition.objects.filter(from_standard=old).exists():
        raise TransitionExists(f"{old} is superseded already; change that transition instead.",
                               fields={"from_standard": "Already superseded."})
    if EditionTransition.objects.filter(from_standard=new).exists():
        raise Conflict(f"{new} is itself superseded: choose the newest edition.",
                       fields={"to_standard": "Superseded edition."})
    transition = EditionTransition.objects.create(
        from_standard=old, to_standard=new, deadline=deadline, extra_audit_days=days,
        extra_audit_percent=percent, notice_reference=notice, created_by=actor)
    Standard.objects.filter(pk=old.pk).update(is_current=False)
    Standard.objects.filter(pk=new.pk).update(is_current=True)
    record_event(actor=actor, action="catalog.transition.recorded", obj=transition,
                 payload=_payload(transition))
    return transition


@transaction.atomic
def change_transition(*, transition: EditionTransition, actor: User, deadline=UNSET,
                      notice_reference=UNSET, extra_audit_days=UNSET,
                      extra_audit_percent=UNSET) -> EditionTransition:
    """Change a transition's deadline (IAF has extended deadlines before, e.g. for ISO
    45001 in 2020), extra audit time or notice, with an audit event naming what changed.

    Refused (nothing written): anyone but a CB administrator; a transition whose deadline
    passed (its certificates were expired on it); the same checks as ``record_transition``.
    """
    ensure_administrator(actor)
    transition = EditionTransition.objects.select_for_update().select_related(
        "from_standard", "to_standard").get(pk=transition.pk)
    if transition.deadline < timezone.localdate():
        raise Conflict(f"The deadline {display_date(transition.deadline)} has passed: certificates "
                       "not transitioned were expired on it; the transition can no longer change.")
    errors: dict = {}
    cleaners = {"deadline": _clean_deadline, "extra_audit_days": _clean_days,
                "extra_audit_percent": _clean_percent, "notice_reference": _clean_notice}
    new = {key: cleaners[key](value, errors) for key, value in given(
        deadline=deadline, extra_audit_days=extra_audit_days,
        extra_audit_percent=extra_audit_percent, notice_reference=notice_reference).items()}
    if errors:
        raise InvalidInput("The transition was not changed.", fields=errors)
    changed = {key: value for key, value in new.items() if getattr(transition, key) != value}
    if not changed:
        return transition
    before = _payload(transition)
    for key, value in changed.items():
        setattr(transition, key, value)
    transition.save()
    after = _payload(transition)
    record_event(actor=actor, action="catalog.transition.changed", obj=transition,
                 payload={"changed": {key: {"from": before[key], "to": after[key]}
                                      for key in changed}, **after})
    return transition


# --- certificates on a superseded edition ---------------------------------------------------------

def pending_transitions(standards: list[dict], transitions: dict | None = None
                        ) -> list[EditionTransition]:
    """The transitions of the superseded editions among ``standards`` (``[{code, edition}]``)."""
    transitions = catalog_selectors.transitions_by_edition() if transitions is None else transitions
    return [t for s in standards if (t := transitions.get((s["code"], s["edition"])))]


def edition_notices(certificate: Certificate, transitions: dict | None = None) -> list[dict]:
    """What the certificate's pages say about its superseded editions: "ISO 9001:2015 —
    superseded by :2026; transition by 2028-09-30"."""
    today = timezone.localdate()
    notices = []
    for transition in pending_transitions(certificate.standards, transitions):
        passed = transition.deadline < today
        notices.append({
            "standard": str(transition.from_standard), "to": str(transition.to_standard),
            "to_edition": transition.to_standard.edition, "deadline": transition.deadline,
            "passed": passed, "notice_reference": transition.notice_reference,
            "text": (f"{transition.from_standard} — superseded by "
                     f":{transition.to_standard.edition}; transition by "
                     f"{display_date(transition.deadline)}"
                     + (" (passed)" if passed else "")),
        })
    return notices


def capped_expiry(standards: list[dict], expiry: datetime.date
                  ) -> tuple[datetime.date, datetime.date | None]:
    """``(expiry, uncapped)``: a certificate issued or renewed on a superseded edition expires
    at the transition deadline at the latest (IAF MD 26:2023: its expiry corresponds to the
    end of the transition period); ``uncapped`` is the cycle's own expiry when it was cut,
    else None."""
    deadlines = [t.deadline for t in pending_transitions(standards)]
    if deadlines and min(deadlines) < expiry:
        return min(deadlines), expiry
    return expiry, None


def superseded_certificates():
    """Active and suspended certificates with a standard on a superseded edition."""
    pairs = Q(pk__in=[])
    for code, edition in catalog_selectors.transitions_by_edition():
        pairs |= Q(code=code, edition=edition)
    ids = CertificateStandard.objects.filter(pairs).values("certificate_id")
    return Certificate.objects.filter(status__in=[S.ACTIVE, S.SUSPENDED], pk__in=ids)


@transaction.atomic
def expire_untransitioned(*, certificate: Certificate, today: datetime.date
                          ) -> Certificate | None:
    """Expire a certificate still on a superseded edition the day after its transition
    deadline (system action; IAF MD 26:2023: certifications not transitioned "shall expire
    or be withdrawn at the end of the transition period"). Client and CB are told."""
    certificate = _locked(certificate)
    passed = [t for t in pending_transitions(certificate.standards) if t.deadline < today]
    if certificate.status not in (S.ACTIVE, S.SUSPENDED) or not passed:
        return None
    transition = min(passed, key=lambda t: t.deadline)
    certificate.suspended_until = None
    certificate.suspension_end_proposed_on = None
    reason = (f"Expired: not transitioned from {transition.from_standard} to "
              f"{transition.to_standard} by the transition deadline "
              f"{display_date(transition.deadline)} "
              f"({transition.notice_reference}).")
    return _change(certificate, action="expire", actor=None, reason=reason,
                   day=transition.deadline + datetime.timedelta(days=1),
                   payload={"transition_deadline": transition.deadline.isoformat(),
                            "from": str(transition.from_standard),
                            "to": str(transition.to_standard)})


@transaction.atomic
def warn_transition_due(*, certificate: Certificate, today: datetime.date) -> bool:
    """Warn the client's people and, apart, the CB that a certificate must move to the new
    edition by the deadline: once per lead time of ``TRANSITION_WARNING_DAYS`` (the shortest
    one reached; longer ones reached at the same time are recorded as passed, not sent)."""
    certificate = _locked(certificate)
    if certificate.status not in (S.ACTIVE, S.SUSPENDED):
        return False
    sent_any = False
    for transition in pending_transitions(certificate.standards):
        left = (transition.deadline - today).days
        reached = [days for days in settings.TRANSITION_WARNING_DAYS if left <= days]
        if left < 0 or not reached:
            continue
        key = {"certificate": certificate, "code": transition.from_standard.code,
               "edition": transition.from_standard.edition, "deadline": transition.deadline}
        done = set(TransitionWarning.objects.filter(**key).values_list("days", flat=True))
        if min(reached) in done:
            continue
        TransitionWarning.objects.bulk_create(
            TransitionWarning(**key, days=days, sent_on=today)
            for days in reached if days not in done)
        record_certificate_event(None, "certification.certificate.transition_warned",
                                 certificate, {"from": str(transition.from_standard),
                                               "to": str(transition.to_standard),
                                               "deadline": transition.deadline.isoformat(),
                                               "days_left": left, "lead_time": min(reached)})
        context = {"number": certificate.number, "organization": certificate.organization_name,
                   "standard": str(transition.from_standard), "to": str(transition.to_standard),
                   "deadline": transition.deadline.isoformat(), "days_left": left,
                   "notice": transition.notice_reference,
                   "path": reverse("certificate_detail", args=[certificate.pk])}
        # Client and CB apart: one To: line would show each the other's addresses.
        notify(template="transition_deadline_warning",
               to=member_emails(certificate.organization_id), context=context)
        notify(template="transition_deadline_warning",
               to=staff_emails("manage_certificate_status"), context=context)
        sent_any = True
    return sent_any


def daily_transition_run(today: datetime.date) -> dict:
    """The daily run's transition work: expire certificates not transitioned by their
    deadline, then warn about deadlines within a lead time. Idempotent."""
    expired = warned = 0
    if not EditionTransition.objects.exists():
        return {"expired_untransitioned": 0, "transition_warnings": 0}
    for certificate in list(superseded_certificates()):
        if expire_untransitioned(certificate=certificate, today=today):
            expired += 1
    for certificate in list(superseded_certificates()):
        warned += warn_transition_due(certificate=certificate, today=today)
    return {"expired_untransitioned": expired, "transition_warnings": warned}
