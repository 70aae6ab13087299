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
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from isocert.accounts.models import Membership, Site, StaffRole, User
from isocert.accounts.selectors import decision_standards, impartiality_relationships
from isocert.audits.models import (
    Audit,
    AuditReport,
    CertificationCycle,
    Finding,
)
from isocert.audits.programme import add_months, fix_surveillance_dates, start_next_cycle
from isocert.core.audit import record_event
from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.files import check_upload, store_file
from isocert.core.sequences import next_value
from isocert.core.validation import clean_date, clean_reason
from isocert.notifications.services import notify

from . import signing
from .models import (
    Certificate,
    CertificateRevision,
    CertificateSite,
    CertificateStandard,
    CertificateStatusChange,
    CertificationDecision,
)
from .names import name_key
from .signals import certificate_changed

D = CertificationDecision
DECISION_MAKERS = (StaffRole.Role.DECISION_MAKER,)
# Which audit's report each kind of decision reviews.
AUDIT_FOR_KIND = {
    D.Kind.INITIAL: Audit.Kind.STAGE2,
    D.Kind.RECERTIFICATION: Audit.Kind.RECERTIFICATION,
    D.Kind.SCOPE_EXTENSION: Audit.Kind.SCOPE_EXTENSION,
}
RECOMMENDING = {AuditReport.Recommendation.RECOMMEND, AuditReport.Recommendation.AFTER_MAJORS}
ENERGY_STANDARD = "ISO 50001"
ISMS_STANDARD = "ISO/IEC 27001"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read from paper
CERTIFICATE_YEARS = 3


class ImpartialityThreat(NotPermitted):
    """The decision maker audited this cycle or worked for the client (§5.2, §9.5.1.2)."""

    code = "impartiality_threat"


class DecisionMakerNotQualified(NotPermitted):
    """The decision maker has no decision-maker qualification for a standard of the cycle
    (ISO/IEC 17021-1 §7.1.2, §9.5.1)."""

    code = "decision_maker_not_qualified"


class DecisionInputsMissing(Conflict):
    """A grant was asked for while the checklist is not complete."""

    code = "decision_inputs_missing"


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    ok: bool
    detail: str


# --- small helpers -----------------------------------------------------------------------------

def new_public_code() -> str:
    """12 random characters from an alphabet without look-alikes (60 bits)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))


def add_years(day: datetime.date, years: int) -> datetime.date:
    return add_months(day, 12 * years)


def ensure_decision_maker(actor: User) -> None:
    if not actor.has_staff_role(*DECISION_MAKERS):
        raise NotPermitted("Only a CB decision maker can take certification decisions.")


def client_recipients(organization_id: int | None) -> list[str]:
    if organization_id is None:
        return []
    return list(Membership.objects.filter(
        organization_id=organization_id,
        role__in=[Membership.Role.OWNER, Membership.Role.EDITOR],
    ).values_list("user__email", flat=True))


def cb_recipients() -> list[str]:
    """Decision makers and administrators: who acts on a certificate's status."""
    return list(User.objects.filter(
        is_active=True,
        staff_roles__role__in=[StaffRole.Role.DECISION_MAKER, StaffRole.Role.ADMINISTRATOR],
    ).values_list("email", flat=True).distinct())


def _standard_codes(cycle: CertificationCycle) -> set[str]:
    return {standard.code for standard in cycle.standards.all()}


# --- independence --------------------------------------------------------------------------------

def independence_problems(actor: User, cycle: CertificationCycle,
                          on: datetime.date | None = None) -> list[str]:
    """Why ``actor`` may not decide on ``cycle`` (§9.5.1.2): on one of its audit teams, or
    consultancy/employment for the client within the cooling-off period."""
    problems = []
    audits = list(Audit.objects.filter(cycle=cycle, team__auditor=actor).distinct())
    if audits:
        names = ", ".join(audit.get_kind_display() for audit in audits)
        problems.append(f"{actor} was on the audit team of this cycle ({names}); the decision "
                        "must be taken by someone not involved in the audit.")
    # The declarations every CB staff member keeps, read as the audit team's rule reads
    # them: one record per person, whatever their role (accounts.ClientRelationship).
    for relationship in impartiality_relationships(
            user=actor, organization_id=cycle.organization_id, on=on):
        ended = (f"ended {relationship.end_date}" if relationship.end_date else "ongoing")
        problems.append(
            f"{actor} declared {relationship.get_kind_display().lower()} for the client "
            f"({ended}); within {settings.IMPARTIALITY_COOLING_OFF_YEARS} years they may "
            "not take part in its certification decision.")
    return problems


def competence_problems(actor: User, cycle: CertificationCycle) -> list[str]:
    """The cycle's standards ``actor`` holds no decision-maker qualification for: the
    people who decide are competent for what they certify (ISO/IEC 17021-1 §7.1.2,
    §9.5.1). Kept on the person's decision-maker profile in the Django admin."""
    qualified = decision_standards(user=actor)
    missing = [str(standard) for standard in cycle.standards.order_by("code")
               if standard.pk not in qualified]
    if not missing:
        return []
    return [f"{actor} is not qualified to decide on {', '.join(missing)}: a CB administrator "
            "records the decision maker's qualification per standard."]


def decider_problems(actor: User, cycle: CertificationCycle,
                     on: datetime.date | None = None) -> list[str]:
    """Why ``actor`` may not take a decision on ``cycle``: competence, then independence."""
    return competence_problems(actor, cycle) + independence_problems(actor, cycle, on)


def ensure_independent(actor: User, cycle: CertificationCycle, on=None) -> None:
    """Refuse unless ``actor`` is a decision maker, qualified for every standard of the
    cycle and independent of its audits and of the client."""
    ensure_decision_maker(actor)
    problems = competence_problems(actor, cycle)
    if problems:
        raise DecisionMakerNotQualified(" ".join(problems))
    problems = independence_problems(actor, cycle, on)
    if problems:
        raise ImpartialityThreat(" ".join(problems))


# --- the checklist -------------------------------------------------------------------------------

def decision_audit(cycle: CertificationCycle, kind: str) -> Audit | None:
    """The latest closed audit whose report the decision of ``kind`` reviews."""
    audit_kind = AUDIT_FOR_KIND.get(kind)
    if audit_kind is None:
        return None
    return (cycle.audits.filter(kind=audit_kind, status=Audit.Status.CLOSED)
            .order_by("-end_date", "-pk").first())


def _finding_checks(audit: Audit | None, decision_date: datetime.date) -> list[Check]:
    findings = list(Finding.objects.filter(audit=audit)) if audit else []
    majors = [f for f in findings if f.grade == Finding.Grade.MAJOR]
    minors = [f for f in findings if f.grade == Finding.Grade.MINOR]
    open_majors = [f for f in majors if f.status != Finding.Status.VERIFIED]
    open_minors = [f for f in minors if f.status not in (Finding.Status.PLAN_ACCEPTED,
                                                         Finding.Status.VERIFIED)]
    checks = [
        Check("majors_closed", "Every major nonconformity verified closed", not open_majors,
              (f"{len(majors)} major(s), all verified." if not open_majors else
               "Not verified: " + ", ".join(f"#{f.number} ({f.clause.number})"
                                            for f in open_majors) + ".")),
        Check("minors_planned", "Every minor nonconformity has an accepted plan",
              not open_minors,
              (f"{len(minors)} minor(s), all with an accepted plan." if not open_minors else
               "No accepted plan: " + ", ".join(f"#{f.number} ({f.clause.number})"
                                                for f in open_minors) + ".")),
    ]
    if majors and audit and audit.end_date:
        limit = add_months(audit.end_date, 6)
        checks.append(Check(
            "majors_in_time", "Majors closed within 6 months of the audit's last day",
            decision_date <= limit,
            (f"Decision by {limit}." if decision_date <= limit else
             f"More than 6 months after {audit.end_date}: a new stage 2 is needed.")))
    return checks


def energy_window(cycle: CertificationCycle, kind: str, decision_date: datetime.date
                  ) -> tuple[datetime.date | None, datetime.date]:
    """The reporting period a decision of ``kind`` may judge: (starts from, ends by).

    The evidence must be of the cycle being decided (rules §5: improvement demonstrated for
    initial certification *and* recertification — the initial evidence cannot be reused).
    A recertification reads only a reporting period that starts on or after the previous
    certification decision (the one that began this cycle: the initial grant or the last
    recertification) and ends on or before this decision's date, as a period still running
    has incomplete data. An initial decision reads a period ending by its date.
    """
    starts_from = None
    if kind == D.Kind.RECERTIFICATION:
        starts_from = cycle.decision_date
        if starts_from is None:
            certificate = current_certificate(cycle)
            starts_from = certificate.decision_date if certificate else None
    return starts_from, decision_date


def energy_check(cycle: CertificationCycle, *, kind: str = D.Kind.INITIAL,
                 decision_date: datetime.date | None = None, statement: str = "",
                 has_evidence: bool = False) -> Check | None:
    """ISO 50001: energy performance improvement demonstrated (§5), from the energy module
    when the client keeps its data there (a reporting period within ``energy_window``),
    else attached evidence with a statement."""
    if ENERGY_STANDARD not in _standard_codes(cycle):
        return None
    from isocert.energy.selectors import improvement_evidence

    starts_from, ends_by = energy_window(cycle, kind, decision_date or timezone.localdate())
    evidence = improvement_evidence(organization_id=cycle.organization_id,
                                    starts_from=starts_from, ends_by=ends_by)
    if evidence is not None:
        return Check("energy_improvement", "Energy performance improvement demonstrated",
                     bool(evidence["demonstrated"]), evidence["summary"])
    if has_evidence and len(statement.strip()) >= 5:
        return Check("energy_improvement", "Energy performance improvement demonstrated",
                     True, f"Attached evidence; decision maker's statement: {statement.strip()}")
    return Check("energy_improvement", "Energy performance improvement demonstrated", False,
                 "No energy baseline with a reporting period in the portal: attach the "
                 "evidence and write a statement.")


def decision_checklist(*, cycle: CertificationCycle, kind: str,
                       decision_date: datetime.date | None = None, energy_statement: str = "",
                       has_energy_evidence: bool = False, soa_version: str = ""
                       ) -> tuple[Audit | None, list[Check]]:
    """What a grant needs, each item with what was found — shown to the decision maker
    and enforced by ``decide``."""
    decision_date = decision_date or timezone.localdate()
    checks: list[Check] = []
    audit = decision_audit(cycle, kind)
    certificate = current_certificate(cycle)
    if kind in AUDIT_FOR_KIND:
        report = audit.reports.order_by("-revision").first() if audit else None
        audit_label = Audit.Kind(AUDIT_FOR_KIND[kind]).label
        if report is None:
            checks.append(Check("report", f"{audit_label} report issued with a recommendation",
                                False, f"No closed {audit_label.lower()} audit with an issued "
                                "report."))
        else:
            checks.append(Check(
                "report", f"{audit_label} report issued with a recommendation",
                report.recommendation in RECOMMENDING,
                f"Report revision {report.revision}: {report.get_recommendation_display()}."))
        checks.extend(_finding_checks(audit, decision_date))
    if kind in (D.Kind.INITIAL, D.Kind.RECERTIFICATION):
        check = energy_check(cycle, kind=kind, decision_date=decision_date,
                             statement=energy_statement, has_evidence=has_energy_evidence)
        if check:
            checks.append(check)
    if ISMS_STANDARD in _standard_codes(cycle) and kind != D.Kind.SCOPE_REDUCTION:
        checks.append(Check("soa_version", "Statement of Applicability version stated",
                            bool(soa_version.strip()),
                            soa_version.strip() or "Give the SoA version the audit reviewed."))
    if kind == D.Kind.INITIAL:
        checks.append(Check("no_certificate", "No certificate issued in this cycle yet",
                            certificate is None,
                            f"Certificate {certificate.number} exists." if certificate else
                            "A new certificate will be issued."))
    else:
        checks.append(Check("certificate", "A certificate to renew or revise",
                            certificate is not None
                            and certificate.status != Certificate.Status.WITHDRAWN,
                            (f"{certificate.number} ({certificate.status})" if certificate
                             else "No certificate in this cycle.")))
    return audit, checks


# --- certificates ----------------------------------------------------------------------------

def current_certificate(cycle: CertificationCycle) -> Certificate | None:
    """The certificate issued for this cycle's organization and standards. A certificate
    points to the cycle it is in now: a recertification moves it to the next cycle, and
    the closed cycle finds it through their common application."""
    certificate = cycle.certificates.order_by("-pk").first()
    if certificate is None:
        certificate = (Certificate.objects.filter(cycle__application=cycle.application)
                       .order_by("-pk").first())
    return certificate


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
    from isocert.catalog.models import Country, Standard

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


def _issue_revision(certificate: Certificate, *, actor: User | None, reason: str,
                    sites: list[dict]) -> CertificateRevision:
    """Sign and record the certificate's current revision, mark the previous one
    superseded and render the PDF after commit."""
    from .tasks import render_certificate_pdf

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


def _status_row(certificate: Certificate, *, date: datetime.date, reason: str,
                actor: User | None) -> CertificateStatusChange:
    transaction.on_commit(lambda: certificate_changed.send(sender=Certificate,
                                                           certificate_id=certificate.pk))
    return CertificateStatusChange.objects.create(
        certificate=certificate, status=certificate.status, date=date, reason=reason,
        actor=actor)


def _cert_event(actor, action: str, certificate: Certificate, payload: dict) -> None:
    record_event(actor=actor, action=action, obj=certificate,
                 organization_id=certificate.organization_id,
                 payload={"number": certificate.number, "status": certificate.status,
                          "revision": certificate.revision, **payload})


def _issue_certificate(cycle: CertificationCycle, decision: CertificationDecision,
                       effective: datetime.date, soa_version: str, actor: User,
                       sites: list[Site]) -> Certificate:
    organization = cycle.organization
    standards = [{"code": s.code, "edition": s.edition}
                 for s in cycle.standards.order_by("code")]
    number = allocate_number([s["code"] for s in standards], decision.decision_date.year)
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
        expiry_date=add_years(decision.decision_date, CERTIFICATE_YEARS),
        decision_date=decision.decision_date, revision=1)
    CertificateStandard.objects.bulk_create([
        CertificateStandard(certificate=certificate, code=s["code"], edition=s["edition"])
        for s in standards])
    _issue_revision(certificate, actor=actor, reason="Initial certification",
                    sites=_site_rows(sites, decision.site_scopes, decision.scope))
    _status_row(certificate, date=effective, reason="Certification granted", actor=actor)
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
    certificate.expiry_date = add_years(certificate.expiry_date, CERTIFICATE_YEARS)
    certificate.issue_date = effective
    certificate.decision_date = decision.decision_date
    certificate.scope = decision.scope or certificate.scope
    certificate.soa_version = soa_version or certificate.soa_version
    certificate.revision += 1
    certificate.status = Certificate.Status.ACTIVE
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
    _status_row(certificate, date=effective,
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
    _status_row(certificate, date=effective, reason=f"{label}: {decision.reason}", actor=actor)
    return certificate


def restoration_deadline(certificate: Certificate) -> datetime.date:
    return add_months(certificate.expiry_date, settings.RESTORATION_WINDOW_MONTHS)


# --- the decision ----------------------------------------------------------------------------

@transaction.atomic
def decide(*, cycle: CertificationCycle, actor: User, kind: str, outcome: str,
           decision_date=None, effective_date=None, reason: str = "", scope: str = "",
           site_scopes: dict | None = None, site_ids=None, soa_version: str = "",
           energy_statement: str = "", energy_evidence=None) -> CertificationDecision:
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
    today = timezone.localdate()
    if kind not in D.Kind.values:
        raise InvalidInput("Choose the kind of decision.", fields={"kind": "Unknown kind."})
    if outcome not in D.Outcome.values:
        raise InvalidInput("Choose grant, refuse or defer.", fields={"outcome": "Unknown outcome."})
    decision_date = clean_date(decision_date, "decision_date", default=today)
    if decision_date > today:
        raise InvalidInput("A decision cannot be dated in the future.",
                           fields={"decision_date": f"On or before {today}."})
    effective = clean_date(effective_date, "effective_date", default=decision_date)
    if effective < decision_date:
        raise InvalidInput("The certificate cannot take effect before the decision.",
                           fields={"effective_date": f"On or after {decision_date}."})
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
                           fields={"decision_date": f"On or after {audit.end_date}."})
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
                    f"Certificate {certificate.number} expired on {certificate.expiry_date}; "
                    f"it could be restored until {deadline}. A new stage 2 audit is needed.",
                    fields={"decision_date": f"After the restoration window ({deadline})."})
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
            certificate = _issue_certificate(cycle, decision, effective, soa_version, actor,
                                             sites)
            fix_surveillance_dates(cycle=cycle, decision_date=decision_date, actor=actor)
            action = "certification.certificate.issued"
        elif kind == D.Kind.RECERTIFICATION:
            certificate = _renew_certificate(certificate, decision, effective, soa_version,
                                             actor, sites)
            action = "certification.certificate.renewed"
        else:
            certificate = _revise_scope(certificate, decision, effective, actor, sites)
            changed = "extended" if kind == D.Kind.SCOPE_EXTENSION else "reduced"
            action = f"certification.certificate.{changed}"
        decision.certificate = certificate
        decision.save(update_fields=["certificate"])
        _cert_event(actor, action, certificate,
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
    notify(template="certification_decision", to=client_recipients(cycle.organization_id),
           context={"organization": str(cycle.organization), "kind": decision.get_kind_display(),
                    "outcome": decision.get_outcome_display(), "reason": reason,
                    "certificate": (certificate.number if certificate and
                                    outcome == D.Outcome.GRANT else ""),
                    "path": (reverse("certificate_detail", args=[certificate.pk])
                             if certificate and outcome == D.Outcome.GRANT
                             else reverse("cycle_detail", args=[cycle.pk]))})
    return decision
