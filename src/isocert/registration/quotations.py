"""Audit time and the quotation: the reviewer determines audit time from the IAF tables
(with justified adjustments), the CB issues a quotation, the client's owner accepts it,
and its PDF is rendered in the background."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from isocert.accounts.models import Membership, User
from isocert.catalog.audittime import ceil_half_day, load_tables, round_half_day
from isocert.catalog.selectors import audit_time_stage1_share, estimate_audit_time
from isocert.core.audit import record_event
from isocert.core.dates import display_date
from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.sequences import next_value
from isocert.notifications.services import notify

from .common import (
    client_recipients,
    ensure_reviewer,
    locked,
    mail_context,
    reviewer_recipients,
)
from .models import (
    QUOTATION_LIFECYCLE,
    Application,
    AuditTimeDetermination,
    Quotation,
)
from .tasks import render_quotation_pdf

# --- audit time and quotation ----------------------------------------------------------------

def audit_time_inputs(application: Application, *, adjustments: list, sampling_allowed: bool,
                      integration_reduction_percent=0) -> dict:
    """The audit-time engine's input built from the application's own data."""
    lines = list(application.standard_lines.select_related("standard"))
    standards = []
    for line in lines:
        entry = {"code": line.standard.code,
                 "effective_personnel": str(line.effective_personnel or "")}
        if line.complexity:
            entry["complexity"] = line.complexity
        if line.standard.is_energy:
            entry.update(annual_energy_consumption_tj=str(line.annual_energy_consumption_tj or ""),
                         energy_types=line.energy_types,
                         significant_energy_uses=line.significant_energy_uses)
        standards.append(entry)
    other_sites = sum(1 for site in application.sites.all() if not site.is_central_function)
    data = {"standards": standards, "adjustments": adjustments,
            "sites": {"count": other_sites, "sampling_allowed": bool(sampling_allowed)}}
    if len(standards) > 1:
        data["integration_reduction_percent"] = integration_reduction_percent or 0
    return data


def _half_days(value, field: str) -> Decimal:
    try:
        days = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput("Days must be a number.", fields={field: "Enter days, e.g. 4.5."})
    if not days.is_finite() or days <= 0 or days > 999 or (days * 2) % 1 != 0:
        raise InvalidInput("Days are counted in half days.",
                           fields={field: "Enter a positive number of half days, e.g. 4.5."})
    return days


def _final_figures(computed: dict, overrides: dict) -> dict[str, Decimal | None]:
    """The applying figures: the computed ones, or the reviewer's, with derived ones following.

    A changed initial time carries stage 1 and 2, surveillance, recertification and
    the minimum on-site time along, unless those were overridden themselves.
    """
    from fractions import Fraction

    def days(value) -> Decimal | None:
        return None if value is None else Decimal(str(value))

    def rounded(fraction: Fraction, rounding=round_half_day) -> Decimal:
        value = rounding(fraction)
        return Decimal(value.numerator) / Decimal(value.denominator)

    initial = overrides.get("initial_days", {}).get("value", computed.get("initial_days"))
    initial = days(initial)
    if initial is None:
        return dict.fromkeys(AuditTimeDetermination.FIGURES)
    exact = Fraction(initial)
    changed_initial = "initial_days" in overrides
    result = {"initial_days": initial}
    derived = {
        "stage1_days": lambda: rounded(exact * audit_time_stage1_share()),
        "surveillance_days": lambda: rounded(exact / 3),
        "recertification_days": lambda: rounded(exact * 2 / 3),
        # Not less than 80 % of the audit time (IAF MD 5 / IAF MD 11): rounded up, as the
        # engine does, so a hand-set initial time never yields an on-site time below it.
        "min_onsite_days": lambda: rounded(exact * load_tables()["min_onsite_share"],
                                           ceil_half_day),
    }
    for key, derive in derived.items():
        if key in overrides:
            result[key] = days(overrides[key]["value"])
        elif changed_initial or computed.get(key) is None:
            result[key] = derive()
        else:
            result[key] = days(computed[key])
    if result["stage1_days"] >= initial:
        raise InvalidInput("Stage 1 must be shorter than the initial audit time.",
                           fields={"overrides.stage1_days.value":
                                   f"Less than the {initial} initial days."})
    result["stage2_days"] = initial - result["stage1_days"]
    too_small = [AuditTimeDetermination.FIGURES[key] for key, value in result.items()
                 if value is not None and value <= 0]
    if too_small:
        raise InvalidInput("Every audit needs at least half a day.",
                           fields={"overrides.initial_days.value":
                                   f"Too small: {', '.join(too_small).lower()} would be 0 days."})
    return result


def _has_accepted_quotation(application: Application) -> bool:
    return application.quotations.filter(status=Quotation.Status.ACCEPTED).exists()


@transaction.atomic
def determine_audit_time(*, application: Application, actor: User, adjustments=(),
                         integration_reduction_percent=0, sampling_allowed: bool = False,
                         overrides: dict | None = None) -> AuditTimeDetermination:
    """Fix the audit time from the application's data and the reviewer's factors.

    Any figure may be overridden only with a written justification; both the
    computed and the applying figures are kept and audit-trailed. Fixed once the
    client has accepted a quotation (it is the contract).
    """
    ensure_reviewer(actor)
    application = locked(application)
    if application.status not in (Application.Status.UNDER_REVIEW, Application.Status.REGISTERED):
        raise Conflict("Audit time is determined while the application is under review or "
                       "registered.")
    if _has_accepted_quotation(application):
        raise Conflict("The client accepted a quotation: the audit time is part of the contract.")
    clean_overrides = {}
    for key, entry in (overrides or {}).items():
        if key not in AuditTimeDetermination.OVERRIDABLE:
            raise InvalidInput("This figure cannot be overridden.",
                               fields={f"overrides.{key}": "Override the initial, stage 1, "
                                       "surveillance or recertification days."})
        if entry is None or entry.get("value") in (None, ""):
            continue
        value = _half_days(entry.get("value"), f"overrides.{key}.value")
        justification = (entry.get("justification") or "").strip()
        if len(justification) < 10:
            raise InvalidInput("Justify every figure you change.",
                               fields={f"overrides.{key}.justification":
                                       "Explain why (at least 10 characters)."})
        clean_overrides[key] = {"value": float(value), "justification": justification[:2000]}
    inputs = audit_time_inputs(application, adjustments=list(adjustments),
                               sampling_allowed=sampling_allowed,
                               integration_reduction_percent=integration_reduction_percent)
    computed = estimate_audit_time(inputs)
    figures = _final_figures(computed, clean_overrides)
    determination, _ = AuditTimeDetermination.objects.update_or_create(
        application=application,
        defaults={"inputs": inputs, "computed": computed, "overrides": clean_overrides,
                  "determined_by": actor, **figures},
    )
    record_event(actor=actor, action="registration.audit_time.determined", obj=application,
                 organization_id=application.organization_id, payload={
                     "figures": {k: (str(v) if v is not None else None) for k, v in figures.items()},
                     "overrides": clean_overrides,
                     "net_adjustment_percent": computed.get("net_adjustment_percent"),
                     "needs_configuration": computed.get("needs_configuration", []),
                 })
    return determination


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class QuotationPrice:
    """A quotation's figures before it is sent: what the preview shows and what
    ``issue_quotation`` stores, computed by the one function ``price_quotation``."""

    currency: str
    day_rate: Decimal
    vat_percent: Decimal
    lines: list[dict]
    net_amount: Decimal
    vat_amount: Decimal
    total_amount: Decimal


def _decimal(value, field: str, message: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInput(message, fields={field: "Enter a number."})
    if not number.is_finite():
        raise InvalidInput(message, fields={field: "Enter a number."})
    return number


def price_quotation(*, determination: AuditTimeDetermination, day_rate=None, adjustment=None,
                    adjustment_reason: str = "") -> QuotationPrice:
    """Price the three-year cycle: stage 1, stage 2 and the two surveillance audits at the
    day rate (the CB's setting unless the reviewer sets one), plus an optional adjustment
    (a discount or a surcharge, with its reason printed on the quotation). The days are
    the determined audit time (IAF MD 5) and are not edited here — only the price is."""
    rate = _decimal(day_rate, "day_rate", "The day rate must be a number.")
    if rate is None:
        rate = settings.QUOTATION_DAY_RATE
    if rate <= 0 or rate >= Decimal("100000000"):
        raise InvalidInput("The day rate must be more than 0.",
                           fields={"day_rate": "Enter a day rate above 0."})
    rate = _money(rate)
    audits = [("Stage 1 audit", determination.stage1_days),
              ("Stage 2 audit", determination.stage2_days),
              ("Surveillance audit 1 (year 2)", determination.surveillance_days),
              ("Surveillance audit 2 (year 3)", determination.surveillance_days)]
    lines = [{"label": label, "days": str(days), "amount": str(_money(days * rate))}
             for label, days in audits]
    extra = _decimal(adjustment, "adjustment", "The adjustment must be an amount.")
    reason = (adjustment_reason or "").strip()
    if extra is not None and extra != 0:
        if len(reason) < 5:
            raise InvalidInput("Give the reason for the adjustment; it is printed on the "
                               "quotation.", fields={"adjustment_reason":
                                                     "Explain the adjustment (at least 5 "
                                                     "characters)."})
        lines.append({"label": f"Adjustment: {reason[:200]}", "days": "",
                      "amount": str(_money(extra))})
    net = _money(sum((Decimal(line["amount"]) for line in lines), Decimal("0")))
    if net <= 0:
        raise InvalidInput("The adjustment would make the price nothing or less.",
                           fields={"adjustment": "Keep the net price above 0."})
    vat = _money(net * settings.QUOTATION_VAT_PERCENT / 100)
    return QuotationPrice(currency=settings.QUOTATION_CURRENCY, day_rate=rate,
                          vat_percent=settings.QUOTATION_VAT_PERCENT, lines=lines,
                          net_amount=net, vat_amount=vat, total_amount=_money(net + vat))


def _quotable(application: Application) -> AuditTimeDetermination:
    """The complete audit-time determination of a registered application not yet under
    contract; refuses otherwise."""
    if application.status != Application.Status.REGISTERED:
        raise Conflict("A quotation is issued once the application is registered.")
    if _has_accepted_quotation(application):
        raise Conflict("The client already accepted a quotation for this application.")
    determination = AuditTimeDetermination.objects.filter(application=application).first()
    if determination is None or not determination.is_complete:
        raise Conflict("Determine the audit time first; where the engine has no figure "
                       "(ISO 50001 without the CB's ISO 50003 table) enter the initial days "
                       "by hand with a justification.")
    return determination


def preview_quotation(*, application: Application, actor: User, day_rate=None,
                      adjustment=None, adjustment_reason: str = "") -> QuotationPrice:
    """What ``issue_quotation`` with the same price inputs would send; nothing is saved."""
    ensure_reviewer(actor)
    return price_quotation(determination=_quotable(application), day_rate=day_rate,
                           adjustment=adjustment, adjustment_reason=adjustment_reason)


@transaction.atomic
def issue_quotation(*, application: Application, actor: User, day_rate=None, adjustment=None,
                    adjustment_reason: str = "") -> Quotation:
    """Price the certification cycle from the determined audit time and send it.

    The price is ``price_quotation``'s (the preview's); an earlier quotation not yet
    accepted is superseded.
    """
    ensure_reviewer(actor)
    application = locked(application)
    determination = _quotable(application)
    price = price_quotation(determination=determination, day_rate=day_rate,
                            adjustment=adjustment, adjustment_reason=adjustment_reason)
    supersede = QUOTATION_LIFECYCLE.transitions["supersede"]
    application.quotations.filter(status__in=supersede.sources).update(status=supersede.target)
    year = timezone.localdate().year
    quotation = Quotation.objects.create(
        application=application,
        number=settings.QUOTATION_NUMBER_FORMAT.format(year=year,
                                                       seq=next_value("quotation", str(year))),
        currency=price.currency, day_rate=price.day_rate, vat_percent=price.vat_percent,
        lines=price.lines, net_amount=price.net_amount, vat_amount=price.vat_amount,
        total_amount=price.total_amount,
        audit_time={
            "figures": {f["key"]: str(f["days"]) for f in determination.figures()},
            "rows": [{"label": f["label"], "days": str(f["days"]),
                      "basis": (f"Set by the CB: {f['override']['justification']}"
                                if f["override"] else "Calculated (see the explanation below)")}
                     for f in determination.figures()],
            "overrides": determination.overrides,
            "explanation": determination.computed.get("explanation", []),
            "standards": determination.computed.get("standards", []),
            "sites_to_visit": determination.computed.get("sites_to_visit"),
            "needs_configuration": determination.computed.get("needs_configuration", []),
        },
        valid_until=timezone.localdate() + datetime.timedelta(
            days=settings.QUOTATION_VALIDITY_DAYS),
        issued_by=actor,
    )
    record_event(actor=actor, action="registration.quotation.issued", obj=quotation,
                 organization_id=application.organization_id,
                 payload={"application": application.pk, "number": quotation.number,
                          "total": str(quotation.total_amount), "currency": quotation.currency,
                          "day_rate": str(quotation.day_rate),
                          "day_rate_is_default": quotation.day_rate == _money(
                              settings.QUOTATION_DAY_RATE),
                          "adjustment": next((line["amount"] for line in quotation.lines
                                              if not line["days"]), None)})
    _render_pdf_after_commit(quotation)
    notify(template="quotation_issued", to=client_recipients(application),
           context=mail_context(application, number=quotation.number,
                                 total=f"{quotation.total_amount} {quotation.currency}",
                                 valid_until=quotation.valid_until.isoformat()))
    return quotation


@transaction.atomic
def accept_quotation(*, quotation: Quotation, actor: User) -> Quotation:
    """The client's owner accepts the quotation online: it becomes the contract."""
    application = quotation.application
    membership = Membership.objects.filter(organization_id=application.organization_id,
                                           user=actor).first()
    if membership is None or membership.role != Membership.Role.OWNER:
        raise NotPermitted("Only an owner of the organization can accept a quotation.")
    quotation = Quotation.objects.select_for_update().get(pk=quotation.pk)
    if quotation.status != Quotation.Status.SENT:
        raise Conflict(f"This quotation is {quotation.get_status_display().lower()}; "
                       "only the current quotation can be accepted.")
    if quotation.is_expired:
        raise Conflict(f"This quotation expired on {display_date(quotation.valid_until)}; ask the "
                       "CB for a new one.")
    QUOTATION_LIFECYCLE.apply(quotation, "accept")
    quotation.accepted_by = actor
    quotation.accepted_at = timezone.now()
    quotation.save(update_fields=["status", "accepted_by", "accepted_at"])
    record_event(actor=actor, action="registration.quotation.accepted", obj=quotation,
                 organization_id=application.organization_id,
                 payload={"application": application.pk, "number": quotation.number,
                          "total": str(quotation.total_amount), "currency": quotation.currency})
    _render_pdf_after_commit(quotation)
    notify(template="quotation_accepted", to=reviewer_recipients(application),
           context=mail_context(application, number=quotation.number))
    return quotation



def _render_pdf_after_commit(quotation: Quotation) -> None:
    transaction.on_commit(partial(render_quotation_pdf.enqueue, quotation_id=quotation.pk))
