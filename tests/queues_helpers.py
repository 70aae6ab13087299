"""Rows for the work-queue tests: one item of each queue, built straight with the ORM (the
services that lead to each state have their own tests; the queues only read the rows).

Every builder takes ``days``: how far the item's own date lies from today (negative: in
the past), so a test places it before or after its due date.
"""

import datetime
import itertools
import secrets
from decimal import Decimal

from django.utils import timezone
from registry_helpers import make_certificate

from isocert.audits.conduct.models import AuditReport, CorrectiveActionResponse, Finding
from isocert.audits.models import Audit, AuditPlan, CertificationCycle, TeamMember
from isocert.catalog.models import Clause, Standard
from isocert.core.models import StoredFile
from isocert.registration.models import Application, AuditTimeDetermination
from isocert.registry.models import CertificateImport, RegistryExport

_numbers = itertools.count(1)


def today() -> datetime.date:
    return timezone.localdate()


def moment(days: int) -> datetime.datetime:
    """Noon, ``days`` from today (local time)."""
    return timezone.make_aware(datetime.datetime.combine(
        today() + datetime.timedelta(days=days), datetime.time(12)))


def application(organization, status: str, *, days: int = 0, reviewer=None) -> Application:
    number = next(_numbers)
    return Application.objects.create(
        organization=organization, status=status, reviewer=reviewer,
        submitted_at=moment(days),
        registered_at=moment(days) if status == "registered" else None,
        registration_number=f"REG-Q-{number:06d}" if status == "registered" else None)


def complete_audit_time(app: Application) -> AuditTimeDetermination:
    days = Decimal("2.0")
    return AuditTimeDetermination.objects.create(
        application=app, inputs={}, computed={}, initial_days=days, stage1_days=days,
        stage2_days=days, surveillance_days=days, recertification_days=days,
        min_onsite_days=days)


def cycle(organization, *, standards=("ISO 9001",)) -> CertificationCycle:
    app = application(organization, "registered")
    result = CertificationCycle.objects.create(organization=organization, application=app,
                                               scope="Die casting of aluminium parts.")
    result.standards.set(Standard.objects.filter(code__in=standards, is_current=True))
    return result


def audit(organization, *, kind="stage1", status="planned", start: int | None = None,
          length: int = 2, target: int | None = None, lead=None, in_cycle=None,
          closed: int | None = None) -> Audit:
    """An audit (a new cycle unless ``in_cycle``) starting ``start`` days from today."""
    first = today() + datetime.timedelta(days=start) if start is not None else None
    result = Audit.objects.create(
        cycle=in_cycle or cycle(organization), kind=kind, status=status,
        planned_days=Decimal("2.0"), start_date=first,
        end_date=first + datetime.timedelta(days=length - 1) if first else None,
        target_date=today() + datetime.timedelta(days=target) if target is not None else None,
        closed_at=moment(closed) if closed is not None else None)
    if lead is not None:
        TeamMember.objects.create(audit=result, auditor=lead, role=TeamMember.Role.LEAD)
    return result


def plan(of: Audit, status: str) -> AuditPlan:
    return AuditPlan.objects.create(audit=of, status=status)


def report(of: Audit, lead) -> AuditReport:
    return AuditReport.objects.create(audit=of, revision=1, conclusion="Effective.",
                                      issued_by=lead)


def answered_finding(organization, lead, *, days: int = 0, in_audit=None) -> Finding:
    """A minor nonconformity of an audit in progress led by ``lead``, answered by the
    client ``days`` from today, waiting for the team's review."""
    of = in_audit or audit(organization, kind="stage2", status="in_progress", start=-10,
                           lead=lead)
    finding = Finding.objects.create(
        audit=of, number=of.findings.count() + 1, grade=Finding.Grade.MINOR,
        clause=Clause.objects.filter(standard__code="ISO 9001").order_by("position").first(),
        statement="The SEU register misses compressor 3.", objective_evidence="Rev. 4.",
        status=Finding.Status.SUBMITTED)
    response = CorrectiveActionResponse.objects.create(
        finding=finding, version=1, correction="Added.", root_cause="No update step.",
        corrective_action="Checklist.")
    CorrectiveActionResponse.objects.filter(pk=response.pk).update(submitted_at=moment(days))
    return finding


def suspended_certificate(organization, *, days: int):
    certificate = make_certificate(organization.legal_name, status="Suspended")
    certificate.organization = organization
    certificate.suspended_until = today() + datetime.timedelta(days=days)
    certificate.save(update_fields=["organization", "suspended_until"])
    return certificate


def running_import(by, *, minutes_ago: int = 0) -> CertificateImport:
    stored = StoredFile.objects.create(sha256=secrets.token_hex(32), size=10,
                                       content_type="text/csv")
    job = CertificateImport.objects.create(file=stored, file_name="registry.csv",
                                           status="running", created_by=by)
    CertificateImport.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=minutes_ago))
    return job


def running_export(by, *, minutes_ago: int = 0) -> RegistryExport:
    job = RegistryExport.objects.create(format="csv", status="running", created_by=by)
    RegistryExport.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=minutes_ago))
    return job


def one_of_each(organization, *, rita, adam, dora, ada, offset: int = 0) -> None:
    """One item of every queue (Adam leads the audits, Rita reviews)."""
    application(organization, "submitted", days=-1 - offset)
    application(organization, "under_review", days=-2 - offset, reviewer=rita)
    complete_audit_time(application(organization, "registered", days=-3 - offset))
    audit(organization, start=-10)      # to staff: overdue, on the first page
    plan(audit(organization, start=20 + offset, lead=adam), "draft")      # plan to send
    audit(organization, kind="surveillance1", target=40 + offset, lead=adam)
    audit(organization, kind="stage2", status="in_progress", start=-5 - offset, lead=adam)
    answered_finding(organization, adam, days=-1 - offset)
    audit(organization, kind="stage2", status="closed", start=-20 - offset, lead=adam,
          closed=-4 - offset)
    suspended_certificate(organization, days=50 + offset)
    running_import(ada)
    running_export(ada)
