"""The certification decision and the certificates it issues (ISO/IEC 17021-1 §8.2, §9.5).

A decision maker who took part in none of the cycle's audits and has no consultancy or
employment link with the client reviews the audit and decides: grant, refuse or defer.
A grant issues a certificate (initial), renews it (recertification), or revises it
(scope extension or reduction). Every issue or revision is a signed, numbered revision
whose PDF a task renders after commit. Each write is a keyword-only service with an
explicit ``actor``; refusals are ``DomainError`` subclasses that name the field.
"""

import datetime
import secrets
from dataclasses import asdict

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from isocert.accounts.models import Site, User
from isocert.accounts.permissions import member_emails, staff_emails
from isocert.audits.models import (
    Audit,
    CertificationCycle,
)
from isocert.audits.programme.services import (
    add_months,
    fix_surveillance_dates,
    move_cycle_to_new_editions,
    start_next_cycle,
)
from isocert.catalog.models import Country, Standard
from isocert.core.audit import record_event
from isocert.core.dates import display_date
from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.files import check_upload, store_file
from isocert.core.sequences import next_value
from isocert.core.validation import clean_date, clean_reason
from isocert.notifications.services import notify

from . import signing
from .decision_checks import (
    current_certificate,
    decision_checklist,
    ensure_independent,
)
from .editions import capped_expiry, pending_transitions
from .models import (
    CERTIFICATE_LIFECYCLE,
    DECISION_LIFECYCLE,
    Certificate,
    CertificateRevision,
    CertificateSite,
    CertificateStandard,
    CertificationDecision,
)
from .names import name_key
from .records import appeal_notice, record_certificate_event, record_status_change
from .tasks import render_certificate_pdf

D = CertificationDecision
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read from paper
CERTIFICATE_YEARS = 3


class DecisionInputsMissing(Conflict):
    """A grant was asked for while the checklist is not complete."""

    code = "decision_inputs_missing"


# --- small helpers -----------------------------------------------------------------------------

def new_public_code() -> str:
    """12 random characters from an alphabet without look-alikes (60 bits)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))


def add_years(day: datetime.date, years: int) -> datetime.date:
    return add_months(day, 12 * years)


# --- certificates ----------------------------------------------------------------------------

def standard_key(codes: list[str]) -> str:
    """The ``{std}`` of the number format: ISO50001, ISOIEC27001, IMS for several."""
    if len(codes) != 1:
        return "IMS"
    return "".join(ch for ch in codes[0] if ch.isalnum()).upper()


def allocate_number(codes: list[str], year: int) -> str:
    """The next certificate number; gap-free and unique per standard and year because the
    counter row is locked until the caller's transaction ends."""
    std = standard_key(codes)
    seq = next_value("certificate", f"{std}-{year}")
    return settings.CERTIFICATE_NUMBER_FORMAT.format(std=std, year=year, seq=seq)


# --- the certified sites -------------------------------------------------------------------

def applied_sites(cycle: CertificationCycle) -> list[Site]:
    """The sites the application asked to certify (the central function among them: the
    application cannot be submitted without it). They are what the audit programme covers:
    IAF MD 1 sampling draws each audit's sites from them, so a site sampled but not visited
    is covered too, while a site the organization added later never is."""
    return list(cycle.application.sites.select_related("country")
                .order_by("-is_central_function", "name"))


def _printed_site_ids(certificate: Certificate, applied: list[Site]) -> list[int]:
    """The applied-for sites the certificate lists now (rows printed before sites were
    linked are matched by name)."""
    by_name = {site.name: site.pk for site in applied}
    allowed = set(by_name.values())
    ids = []
    for row in certificate.sites.all():
        site_id = row.site_id if row.site_id is not None else by_name.get(row.name)
        if site_id in allowed and site_id not in ids:
            ids.append(site_id)
    return ids


def certified_sites(*, cycle: CertificationCycle, kind: str,
                    certificate: Certificate | None = None, site_ids=None,
                    audit: Audit | None = None) -> list[Site]:
    """The sites a certificate lists after a decision of ``kind`` on ``cycle``: the one rule
    for every issue and revision (ISO/IEC 17021-1 §8.2.2: the name and location of each
    certified site; IAF MD 1 for multi-site).

    Only sites applied for can be certified (``applied_sites``). Without ``site_ids`` an
    initial certification lists all of them and a recertification or scope change keeps
    the certificate's current sites. ``site_ids`` is the decision maker's list:

    - initial, recertification: any of the sites applied for — a site left out is
      excluded from the certified scope;
    - scope extension: the current sites plus sites applied for; an added site must have
      been covered by the extension audit when that audit's sites were recorded;
    - scope reduction: fewer of the current sites, none added.

    The central function is always listed (it plans and controls the system; a
    certificate without it is withdrawn, not reduced); a certificate lists at least one
    site. Refusals name ``site_ids``.
    """
    applied = applied_sites(cycle)
    by_id = {site.pk: site for site in applied}
    current = (_printed_site_ids(certificate, applied)
               if certificate is not None and kind != D.Kind.INITIAL else list(by_id))
    if site_ids is None:
        chosen = current
    else:
        try:
            chosen = list(dict.fromkeys(int(pk) for pk in site_ids))
        except (TypeError, ValueError):
            raise InvalidInput("Choose the certified sites by their numbers.",
                               fields={"site_ids": "Site ids are whole numbers."})
    unknown = [pk for pk in chosen if pk not in by_id]
    if unknown:
        raise InvalidInput(
            "Only sites the application applied for, and so the audit programme covered, can "
            "be certified.", fields={"site_ids": f"Not applied for: {unknown}."})
    if kind == D.Kind.SCOPE_EXTENSION:
        dropped = [by_id[pk].name for pk in current if pk not in chosen]
        if dropped:
            raise InvalidInput(f"A scope extension keeps every certified site: "
                               f"{', '.join(dropped)} would be left out.",
                               fields={"site_ids": "Reduce the scope to remove a site."})
        added = [pk for pk in chosen if pk not in current]
        visited = set(audit.sites.values_list("pk", flat=True)) if audit else set()
        unaudited = [by_id[pk].name for pk in added if visited and pk not in visited]
        if unaudited:
            raise InvalidInput(f"The scope-extension audit did not cover "
                               f"{', '.join(unaudited)}.",
                               fields={"site_ids": "Add only sites the audit covered."})
    if kind == D.Kind.SCOPE_REDUCTION:
        added = [by_id[pk].name for pk in chosen if pk not in current]
        if added:
            raise InvalidInput(f"A scope reduction adds no site: {', '.join(added)} is not "
                               "certified now.",
                               fields={"site_ids": "Extend the scope to add a site."})
    central = next((site for site in applied if site.is_central_function), None)
    if central is not None and central.pk not in chosen:
        raise InvalidInput(f"The central function ({central.name}) is always certified.",
                           fields={"site_ids": "Keep the central function."})
    if not chosen:
        raise InvalidInput("A certificate lists at least one site.",
                           fields={"site_ids": "Choose the certified sites."})
    order = {site.pk: position for position, site in enumerate(applied)}
    return [by_id[pk] for pk in sorted(chosen, key=order.__getitem__)]


def _site_rows(sites: list[Site], site_scopes: dict, default_scope: str,
               certificate: Certificate | None = None) -> list[dict]:
    """The printed rows of ``sites``, each with its own address and country; a site's scope
    is the decision's, else the one printed so far, else its activities, else the
    certificate's scope."""
    printed = ({row.site_id: row.scope for row in certificate.sites.all() if row.site_id}
               if certificate is not None else {})
    rows = []
    for position, site in enumerate(sites):
        scope = (site_scopes.get(str(site.pk)) or printed.get(site.pk) or site.activities
                 or default_scope)
        rows.append({
            "site_id": site.pk, "name": site.name, "address": site.address, "city": site.city,
            "postcode": site.postcode, "country": site.country_id,
            "country_name": site.country.name, "scope": scope.strip(),
            "central": site.is_central_function, "position": position,
        })
    return rows


def build_content(certificate: Certificate, *, reason: str, sites: list[dict]) -> dict:
    """Everything printed on a revision (§8.2.2), from the registry row and its sites."""
    titles = {(s.code, s.edition): s.title for s in Standard.objects.all()}
    country = Country.objects.filter(code=certificate.organization_country).first()
    verify_path = reverse("verify_certificate", args=[certificate.public_code])
    verify_url = f"{settings.SITE_URL}{verify_path}"
    return {
        "number": certificate.number, "public_code": certificate.public_code,
        "revision": certificate.revision, "reason": reason,
        "organization": {"name": certificate.organization_name,
                         "address": certificate.organization_address,
                         "country": certificate.organization_country,
                         "country_name": country.name if country else "",
                         "legal_identifier": certificate.legal_identifier},
        "sites": [{key: site[key] for key in ("name", "address", "city", "postcode", "country",
                                              "country_name", "scope", "central")}
                  for site in sites],
        "standards": [{"code": s["code"], "edition": s["edition"],
                       "title": titles.get((s["code"], s["edition"]), "")}
                      for s in certificate.standards],
        "scope": certificate.scope, "sectors": certificate.sectors,
        "original_issue_date": certificate.original_issue_date.isoformat(),
        "issue_date": certificate.issue_date.isoformat(),
        "expiry_date": certificate.expiry_date.isoformat(),
        "decision_date": (certificate.decision_date.isoformat()
                          if certificate.decision_date else ""),
        "soa_version": certificate.soa_version,
        "certification_body": {"name": settings.CB_NAME, "address": settings.CB_ADDRESS},
        "verify_url": verify_url,
    }


def _write_sites(certificate: Certificate, sites: list[dict]) -> None:
    certificate.sites.all().delete()
    CertificateSite.objects.bulk_create([
        CertificateSite(certificate=certificate, site_id=site.get("site_id"),
                        position=site["position"], name=site["name"],
                        address=site["address"], city=site["city"], postcode=site["postcode"],
                        country=site["country"], scope=site["scope"],
                        is_central_function=site["central"])
        for site in sites])


def decision_dates(decision_date, effective_date) -> tuple[datetime.date, datetime.date]:
    """The decision's date (today when not given, never in the future) and the day the
    certificate takes effect (the decision's day when not given, never before it)."""
    today = timezone.localdate()
    decision_date = clean_date(decision_date, "decision_date", default=today)
    if decision_date > today:
        raise InvalidInput("A decision cannot be dated in the future.",
                           fields={"decision_date": f"On or before {display_date(today)}."})
    effective = clean_date(effective_date, "effective_date", default=decision_date)
    if effective < decision_date:
        raise InvalidInput("The certificate cannot take effect before the decision.",
                           fields={"effective_date": f"On or after {display_date(decision_date)}."})
    return decision_date, effective


def _issue_revision(certificate: Certificate, *, actor: User | None, reason: str,
                    sites: list[dict]) -> CertificateRevision:
    """Sign and record the certificate's current revision, mark the previous one
    superseded and render the PDF after commit."""
    _write_sites(certificate, sites)
    content = build_content(certificate, reason=reason, sites=sites)
    signed_data, signature = signing.sign_certificate_data(content)
    content["qr_url"] = signing.qr_url(certificate.public_code, signed_data, signature)
    certificate.revisions.filter(superseded_at__isnull=True).update(superseded_at=timezone.now())
    revision = CertificateRevision.objects.create(
        certificate=certificate, revision=certificate.revision, reason=reason, content=content,
        signed_data=signed_data, signature=signature, issued_by=actor)
    transaction.on_commit(lambda: render_certificate_pdf.enqueue(revision_id=revision.pk))
    return revision


def issue_certificate(cycle: CertificationCycle, decision: CertificationDecision,
                       effective: datetime.date, soa_version: str, actor: User,
                       sites: list[Site], *, expiry_date: datetime.date | None = None,
                       reason: str = "Initial certification",
                       history: str = "Certification granted") -> Certificate:
    """A new certificate, revision 1; ``expiry_date`` defaults to three years after the
    decision (a transfer keeps the current cycle's expiry instead)."""
    organization = cycle.organization
    standards = [{"code": s.code, "edition": s.edition}
                 for s in cycle.standards.order_by("code")]
    number = allocate_number([s["code"] for s in standards], decision.decision_date.year)
    expiry, uncapped = capped_expiry(
        standards, expiry_date or add_years(decision.decision_date, CERTIFICATE_YEARS))
    certificate = Certificate.objects.create(
        number=number, public_code=new_public_code(), identity_number=number,
        status=Certificate.Status.ACTIVE, organization=organization, cycle=cycle,
        entity_id=f"ORG-{organization.pk}", organization_name=organization.legal_name,
        name_key=name_key(organization.legal_name),
        organization_country=organization.country_id,
        organization_address=organization.registered_address,
        legal_identifier=organization.legal_identifier, standards=standards,
        sectors=sorted(organization.sectors.values_list("code", flat=True)),
        scope=decision.scope, soa_version=soa_version,
        original_issue_date=effective, issue_date=effective,
        expiry_date=expiry, expiry_before_cap=uncapped,
        decision_date=decision.decision_date, revision=1)
    CertificateStandard.objects.bulk_create([
        CertificateStandard(certificate=certificate, code=s["code"], edition=s["edition"])
        for s in standards])
    _issue_revision(certificate, actor=actor, reason=reason[:300],
                    sites=_site_rows(sites, decision.site_scopes, decision.scope))
    record_status_change(certificate, date=effective, reason=history, actor=actor)
    return certificate


def _renew_certificate(certificate: Certificate, decision: CertificationDecision,
                       effective: datetime.date, soa_version: str, actor: User,
                       sites: list[Site]) -> Certificate:
    """Recertification (§9.6.3): completed before expiry, the new expiry is the old one
    plus three years; after expiry, restoration within the window keeps the original
    dates' rhythm, later a new stage 2 is needed (the decision is refused).

    The decided cycle is closed and the next one starts (``start_next_cycle``): the
    certificate moves to it, so its surveillance due dates and the daily overdue run
    follow the new programme."""
    was_expired = certificate.status == Certificate.Status.EXPIRED
    # On a superseded edition the new expiry is capped at the transition deadline
    # (``editions.capped_expiry``); the cycle's own rhythm goes on from the uncapped one.
    certificate.expiry_date, certificate.expiry_before_cap = capped_expiry(
        certificate.standards,
        add_years(certificate.expiry_before_cap or certificate.expiry_date, CERTIFICATE_YEARS))
    certificate.issue_date = effective
    certificate.decision_date = decision.decision_date
    certificate.scope = decision.scope or certificate.scope
    certificate.soa_version = soa_version or certificate.soa_version
    certificate.revision += 1
    CERTIFICATE_LIFECYCLE.apply(certificate, "recertify")
    certificate.suspended_until = None
    certificate.cycle = start_next_cycle(
        cycle=decision.cycle, decision_date=decision.decision_date,
        expiry_date=certificate.expiry_date, scope=certificate.scope, actor=actor)
    # A surveillance flagged overdue in the closed cycle must not silence the new one's.
    certificate.surveillance_flagged_on = None
    certificate.save()
    _issue_revision(certificate, actor=actor,
                    reason=("Restored after recertification" if was_expired
                            else "Recertification"),
                    sites=_site_rows(sites, decision.site_scopes, certificate.scope,
                                     certificate))
    record_status_change(certificate, date=effective,
                reason=("Certification restored after recertification" if was_expired
                        else "Recertified"), actor=actor)
    return certificate


def _revise_scope(certificate: Certificate, decision: CertificationDecision,
                  effective: datetime.date, actor: User, sites: list[Site]) -> Certificate:
    """Scope extension or reduction: a new revision with the decided scope and sites. The
    status stays: a suspended certificate reduced to what still conforms stays suspended
    until the CB restores it (ISO/IEC 17021-1 §9.6.5)."""
    certificate.scope = decision.scope
    certificate.issue_date = effective
    certificate.revision += 1
    certificate.save()
    label = ("Scope extended" if decision.kind == D.Kind.SCOPE_EXTENSION else "Scope reduced")
    _issue_revision(certificate, actor=actor, reason=f"{label}: {decision.reason}"[:300],
                    sites=_site_rows(sites, decision.site_scopes, decision.scope,
                                     certificate))
    record_status_change(certificate, date=effective, reason=f"{label}: {decision.reason}", actor=actor)
    return certificate


def _transition_certificate(certificate: Certificate, decision: CertificationDecision,
                            effective: datetime.date, soa_version: str, actor: User,
                            sites: list[Site]) -> Certificate:
    """Edition transition (IAF transition notices, e.g. IAF MD 26:2023): a new revision of
    the same certificate — same number, same cycle — on the new edition of each superseded
    standard. The expiry stays; one capped at the transition deadline gets the cycle's own
    expiry back. The cycle moves to the new editions too, so its later audits check them."""
    moves = {(t.from_standard.code, t.from_standard.edition): t.to_standard
             for t in pending_transitions(certificate.standards)}
    standards = []
    for item in certificate.standards:
        new = moves.get((item["code"], item["edition"]))
        standards.append({"code": item["code"], "edition": new.edition if new else item["edition"]})
    certificate.standards = standards
    certificate.standard_rows.all().delete()
    CertificateStandard.objects.bulk_create(
        CertificateStandard(certificate=certificate, code=s["code"], edition=s["edition"])
        for s in standards)
    if certificate.expiry_before_cap:
        certificate.expiry_date, certificate.expiry_before_cap = capped_expiry(
            standards, certificate.expiry_before_cap)
    certificate.issue_date = effective
    certificate.soa_version = soa_version or certificate.soa_version
    certificate.revision += 1
    certificate.save()
    move_cycle_to_new_editions(cycle=decision.cycle, actor=actor)
    labels = ", ".join(f"{code}:{edition} → {new}" for (code, edition), new in moves.items())
    _issue_revision(certificate, actor=actor, reason=f"Transitioned: {labels}"[:300],
                    sites=_site_rows(sites, decision.site_scopes, certificate.scope,
                                     certificate))
    record_status_change(certificate, date=effective, reason=f"Transitioned to the new "
                         f"edition: {labels}", actor=actor)
    return certificate


def restoration_deadline(certificate: Certificate) -> datetime.date:
    return add_months(certificate.expiry_date, settings.RESTORATION_WINDOW_MONTHS)


# --- the decision ----------------------------------------------------------------------------

def _ensure_transition_possible(certificate: Certificate) -> None:
    """A transition revises an active certificate that is still on a superseded edition."""
    if certificate.status != Certificate.Status.ACTIVE:
        raise Conflict(f"Certificate {certificate.number} is {certificate.status.lower()}; "
                       "only an active certificate is transitioned to a new edition.")
    if not pending_transitions(certificate.standards):
        raise Conflict(f"Certificate {certificate.number} is on no superseded edition: there "
                       "is nothing to transition.", fields={"kind": "Nothing to transition."})


def _ensure_edition_valid(cycle: CertificationCycle, decision_date: datetime.date) -> None:
    """No certification is granted or renewed on an edition whose transition deadline has
    passed (IAF MD 26:2023: certifications to it are no longer valid): transition first."""
    standards = [{"code": s.code, "edition": s.edition} for s in cycle.standards.all()]
    passed = [t for t in pending_transitions(standards) if t.deadline < decision_date]
    if passed:
        labels = ", ".join(f"{t.from_standard} (by {display_date(t.deadline)})" for t in passed)
        raise Conflict(f"The transition deadline of {labels} has passed: certification on "
                       "that edition can no longer be granted or renewed. Audit and decide "
                       "the transition to the new edition first.",
                       fields={"kind": "Transition deadline passed."})


@transaction.atomic
def decide(*, cycle: CertificationCycle, actor: User, kind: str, outcome: str,
           decision_date: datetime.date | None = None,
           effective_date: datetime.date | None = None, reason: str = "", scope: str = "",
           site_scopes: dict[str, str] | None = None, site_ids: list[int] | None = None,
           soa_version: str = "", energy_statement: str = "",
           energy_evidence: UploadedFile | None = None) -> CertificationDecision:
    """Record the certification decision on ``cycle`` and, on a grant, issue, renew or
    revise its certificate.

    A recertification grant also closes ``cycle`` and starts the next one, which the
    certificate then follows (``_renew_certificate``). The certificate lists the sites
    ``certified_sites`` gives for ``kind`` and ``site_ids`` (default: every site applied
    for at the initial decision, the current ones later).

    Refused: a decision maker without a decision-maker qualification for every standard of
    the cycle (``competence_problems``); one who audited this cycle or declared consultancy
    or employment for the client within the cooling-off period; a grant while any checklist item is open (the missing items are
    named); a refusal or deferral without a reason; a decision date in the future or
    before the audit's last day; an effective date before the decision date; a
    recertification after the restoration window (a new stage 2 is needed); a
    recertification on a closed cycle (its recertification was decided; the next one is
    decided on the cycle it started); certified sites against ``certified_sites``' rule; a
    scope change of a certificate that is neither active nor suspended (a suspended one
    may be reduced to what still conforms, §9.6.5 — not extended); a reduction that
    changes neither the scope nor the sites.
    """
    if kind not in D.Kind.values:
        raise InvalidInput("Choose the kind of decision.", fields={"kind": "Unknown kind."})
    if kind == D.Kind.TRANSFER:
        raise InvalidInput("A transferred certificate is issued from its accepted pre-transfer "
                           "review (issue_transfer), not by an audit decision.",
                           fields={"kind": "Use the transfer issue."})
    if outcome not in D.Outcome.values:
        raise InvalidInput("Choose grant, refuse or defer.", fields={"outcome": "Unknown outcome."})
    decision_date, effective = decision_dates(decision_date, effective_date)
    site_scopes = {str(k): str(v).strip()[:2000] for k, v in (site_scopes or {}).items()}
    soa_version = (soa_version or "").strip()[:60]
    energy_statement = (energy_statement or "").strip()[:5000]
    stored_evidence = None
    if energy_evidence is not None:
        stored_evidence = store_file(check_upload(energy_evidence, field="energy_evidence"))

    cycle = CertificationCycle.objects.select_for_update().select_related(
        "organization", "organization__country", "application").get(pk=cycle.pk)
    ensure_independent(actor, cycle, decision_date)
    if kind == D.Kind.RECERTIFICATION and cycle.status == CertificationCycle.Status.CLOSED:
        current = current_certificate(cycle)
        where = (f" (cycle {current.cycle_id})" if current and current.cycle_id else "")
        raise Conflict("This certification cycle is closed: its recertification was decided. "
                       f"Decide the next recertification on the current cycle{where}.",
                       fields={"kind": "The cycle is closed."})
    audit, checks = decision_checklist(
        cycle=cycle, kind=kind, decision_date=decision_date, energy_statement=energy_statement,
        has_energy_evidence=stored_evidence is not None, soa_version=soa_version)
    if audit and audit.end_date and decision_date < audit.end_date:
        raise InvalidInput("The decision cannot come before the audit ended.",
                           fields={"decision_date": f"On or after {display_date(audit.end_date)}."})
    certificate = current_certificate(cycle)
    if certificate is not None:
        certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    scope = (scope or "").strip()[:5000]
    if kind in (D.Kind.SCOPE_EXTENSION, D.Kind.SCOPE_REDUCTION) or not scope:
        scope = scope or (certificate.scope if certificate else cycle.scope)

    sites: list[Site] = []
    if outcome == D.Outcome.GRANT:
        missing = [check for check in checks if not check.ok]
        if missing:
            raise DecisionInputsMissing(
                "Certification cannot be granted yet: "
                + "; ".join(f"{c.label} — {c.detail}" for c in missing),
                fields={c.key: c.detail for c in missing})
        sites = certified_sites(cycle=cycle, kind=kind, certificate=certificate,
                                site_ids=site_ids, audit=audit)
        if kind == D.Kind.SCOPE_REDUCTION:
            reason = clean_reason(reason, what="the reason for reducing the scope")
            fewer_sites = len(sites) < len(_printed_site_ids(certificate,
                                                             applied_sites(cycle)))
            if not ((scope and scope != certificate.scope) or fewer_sites):
                raise InvalidInput("State the reduced scope or leave out a site.",
                                   fields={"scope": "The scope after the reduction.",
                                           "site_ids": "The sites after the reduction."})
        # Reducing the scope to what still conforms is a way out of a suspension (ISO/IEC
        # 17021-1 §9.6.5); an extension needs an active certificate.
        reduction = kind == D.Kind.SCOPE_REDUCTION
        changeable = ({Certificate.Status.ACTIVE, Certificate.Status.SUSPENDED} if reduction
                      else {Certificate.Status.ACTIVE})
        if kind in (D.Kind.SCOPE_EXTENSION, D.Kind.SCOPE_REDUCTION) and (
                certificate.status not in changeable):
            raise Conflict(f"Certificate {certificate.number} is {certificate.status.lower()}; "
                           + ("its scope can be reduced only while it is active or suspended."
                              if reduction else
                              "its scope can be extended only while it is active."))
        if kind == D.Kind.RECERTIFICATION and certificate.status == Certificate.Status.EXPIRED:
            deadline = restoration_deadline(certificate)
            if decision_date > deadline:
                raise Conflict(
                    f"Certificate {certificate.number} expired on "
                    f"{display_date(certificate.expiry_date)}; it could be restored until "
                    f"{display_date(deadline)}. A new stage 2 audit is needed.",
                    fields={"decision_date":
                            f"After the restoration window ({display_date(deadline)})."})
        if kind == D.Kind.TRANSITION:
            _ensure_transition_possible(certificate)
        if kind in (D.Kind.INITIAL, D.Kind.RECERTIFICATION):
            _ensure_edition_valid(cycle, decision_date)
        if kind == D.Kind.RECERTIFICATION and certificate.status == Certificate.Status.SUSPENDED:
            raise Conflict(f"Certificate {certificate.number} is suspended: restore it first, "
                           "then decide on the recertification.")
        if (kind == D.Kind.SCOPE_EXTENSION and scope == certificate.scope and not site_scopes
                and len(sites) <= len(_printed_site_ids(certificate, applied_sites(cycle)))):
            raise InvalidInput("State the extended scope.",
                               fields={"scope": "The scope after the extension."})
    else:
        reason = clean_reason(reason, what=("the reason for refusing" if outcome == D.Outcome.REFUSE
                                       else "what is missing"))

    decision = CertificationDecision.objects.create(
        cycle=cycle, audit=audit, kind=kind, outcome=outcome, decision_date=decision_date,
        reason=reason, checks=[asdict(check) for check in checks], scope=scope,
        site_scopes=site_scopes, site_ids=[site.pk for site in sites],
        energy_statement=energy_statement,
        energy_evidence=stored_evidence, decided_by=actor)

    if outcome == D.Outcome.GRANT:
        if kind == D.Kind.INITIAL:
            certificate = issue_certificate(cycle, decision, effective, soa_version, actor,
                                             sites)
            fix_surveillance_dates(cycle=cycle, decision_date=decision_date, actor=actor)
            action = "certification.certificate.issued"
        elif kind == D.Kind.RECERTIFICATION:
            certificate = _renew_certificate(certificate, decision, effective, soa_version,
                                             actor, sites)
            action = "certification.certificate.renewed"
        elif kind == D.Kind.TRANSITION:
            certificate = _transition_certificate(certificate, decision, effective,
                                                  soa_version, actor, sites)
            action = "certification.certificate.transitioned"
        else:
            certificate = _revise_scope(certificate, decision, effective, actor, sites)
            changed = "extended" if kind == D.Kind.SCOPE_EXTENSION else "reduced"
            action = f"certification.certificate.{changed}"
        decision.certificate = certificate
        decision.save(update_fields=["certificate"])
        record_certificate_event(actor, action, certificate,
                    {"decision": decision.pk, "effective_date": effective.isoformat(),
                     "expiry_date": certificate.expiry_date.isoformat(),
                     "cycle": certificate.cycle_id, "sites": decision.site_ids})
    record_event(actor=actor, action=f"certification.decision.{outcome}", obj=decision,
                 organization_id=cycle.organization_id,
                 payload={"cycle": cycle.pk, "kind": kind,
                          "decision_date": decision_date.isoformat(),
                          "reason": reason, "audit": audit.pk if audit else None,
                          "checks": {c.key: c.ok for c in checks},
                          "certificate": certificate.number if certificate else None})
    appealable = (outcome == D.Outcome.REFUSE
                  or (outcome == D.Outcome.GRANT and kind == D.Kind.SCOPE_REDUCTION))
    notify(template="certification_decision", to=member_emails(cycle.organization_id),
           context={"organization": str(cycle.organization), "kind": decision.get_kind_display(),
                    "outcome": decision.get_outcome_display(), "reason": reason,
                    "certificate": (certificate.number if certificate and
                                    outcome == D.Outcome.GRANT else ""),
                    "path": (reverse("certificate_detail", args=[certificate.pk])
                             if certificate and outcome == D.Outcome.GRANT
                             else reverse("cycle_detail", args=[cycle.pk])),
                    # A refusal or a scope reduction may be appealed (§9.7).
                    **(appeal_notice(url_name="appeal_decision", pk=decision.pk,
                                     decided_on=decision.decision_date) if appealable else {})})
    return decision


@transaction.atomic
def reopen_decision(*, decision: CertificationDecision, actor: User,
                    reason: str) -> CertificationDecision:
    """Reopen a decision because an appeal against it was upheld (ISO/IEC 17021-1 §9.7).

    The decision stays on record, marked reopened with the reason; its audit counts as
    undecided again, so the cycle is back in the decision queue and a decision maker
    independent of the cycle takes the decision anew with ``decide``. The decision makers
    are told. Refused: someone who is not CB staff; a decision already reopened.
    """
    if not actor.staff_roles_set:
        raise NotPermitted("Only CB staff can reopen a certification decision.")
    reason = clean_reason(reason, what="why the decision is reopened")
    decision = CertificationDecision.objects.select_for_update().get(pk=decision.pk)
    DECISION_LIFECYCLE.apply(decision, "reopen")
    decision.reopened_at = timezone.now()
    decision.reopen_reason = reason
    decision.save(update_fields=["status", "reopened_at", "reopen_reason"])
    record_event(actor=actor, action="certification.decision.reopened", obj=decision,
                 organization_id=decision.cycle.organization_id,
                 payload={"cycle": decision.cycle_id, "kind": decision.kind,
                          "outcome": decision.outcome, "reason": reason})
    notify(template="certification_decision_reopened", to=staff_emails("decide"), context={
        "organization": str(decision.cycle.organization), "kind": decision.get_kind_display(),
        "outcome": decision.get_outcome_display(), "reason": reason,
        "path": reverse("cycle_decision", args=[decision.cycle_id])})
