"""Helpers for the audit programme tests: a cycle built through the services, auditor
profiles, and an audit made ready to start (imported by tests of the audits app)."""

import datetime
import itertools

import queues_helpers as make
from django.utils import timezone
from factories import PASSING_ASSESSMENT, make_user

from isocert.accounts.models import ClientRelationship, Site
from isocert.audits.models import Audit, AuditorProfile, AuditPlan, TeamMember
from isocert.audits.programme import services as programme
from isocert.audits.programme.services import add_months  # noqa: F401  (re-exported for tests)
from isocert.catalog.models import Sector, Standard
from isocert.core.models import AuditEvent
from isocert.registration import services as registration

START = datetime.date(2031, 5, 5)


def profile_for(user, *, standards=("ISO 9001",), sectors=(17,), lead=False, languages="en, de"):
    profile, _ = AuditorProfile.objects.get_or_create(user=user, defaults={
        "is_lead_auditor": lead, "languages": languages})
    profile.standards.set(Standard.objects.filter(code__in=standards, is_current=True))
    profile.sectors.set(Sector.objects.filter(code__in=sectors))
    return profile


def relationship(user, organization, *, kind="consultancy", start, end=None):
    return ClientRelationship.objects.create(user=user, organization=organization, kind=kind,
                                             start_date=start, end_date=end)


def sign_declaration(member, auditor, **parts):
    """Sign the impartiality declaration with the standard text and the no-threat tick."""
    return programme.declare_impartiality(member=member, actor=auditor, **{
        "statement": programme.DECLARATION_TEXT, "no_threat": True, **parts})


def auditor(email, name="", **profile):
    user = make_user(email, name, roles=["auditor"])
    profile_for(user, **profile)
    return user


def quoted_application(organization, owner, reviewer, *, standards=None, sampling=True,
                       accept=True):
    """A registered ISO 9001 application with every site and its quotation (accepted)."""
    application = registration.create_application(organization=organization, actor=owner,
            standards=standards or [{"standard": "ISO 9001", "effective_personnel": "30"}],
            site_ids=list(organization.sites.values_list("pk", flat=True)),
            desired_audit_from=START, desired_audit_to=START + datetime.timedelta(days=30))
    registration.submit_application(application=application, actor=owner)
    registration.start_review(application=application, actor=reviewer)
    registration.record_preliminary_assessment(application=application, actor=reviewer,
                                               **PASSING_ASSESSMENT)
    registration.register_application(application=application, actor=reviewer)
    registration.determine_audit_time(application=application, actor=reviewer,
                                      sampling_allowed=sampling)
    quotation = registration.issue_quotation(application=application, actor=reviewer)
    if accept:
        registration.accept_quotation(quotation=quotation, actor=owner)
    return application


def cycle_for(organization, owner, reviewer, **kwargs):
    """The certification cycle of a quoted application, started by the reviewer."""
    application = quoted_application(organization, owner, reviewer, **kwargs)
    return programme.create_cycle(application=application, actor=reviewer)


def audit_of(cycle, kind="stage1") -> Audit:
    return cycle.audits.get(kind=kind)


def ready_audit(audit, *, reviewer, owner, lead, start=START, days=2, declare=True,
                confirm=True):
    """Dates, a valid team (the lead alone covers ISO 9001 and sector 17), one session,
    the plan sent and confirmed, declarations signed."""
    programme.schedule_audit(audit=audit, actor=reviewer, start_date=start,
                             end_date=start + datetime.timedelta(days=days - 1))
    member = programme.assign_team_member(audit=audit, actor=reviewer, auditor=lead, role="lead")
    programme.add_plan_session(audit=audit, actor=reviewer, starts_at=f"{start.isoformat()}T09:00",
                                                            ends_at=f"{start.isoformat()}T10:00",
                                                            topic="Opening meeting",
                                                            auditee="Alice",
                                                            auditor_id=lead.pk)
    if confirm:
        programme.send_plan(audit=audit, actor=reviewer)
        programme.confirm_plan(audit=audit, actor=owner)
    if declare:
        sign_declaration(member, lead)
    audit.refresh_from_db()
    return audit


def add_sites(organization, owner, count, *, central=True):
    from isocert.accounts.services import add_site

    if central:
        Site.objects.filter(organization=organization).update(is_central_function=False)
        add_site(organization=organization, actor=owner, name="Head office",
                 address="Main street 1", effective_personnel=10, is_central_function=True)
    for n in range(count):
        add_site(organization=organization, actor=owner, name=f"Branch {n + 1}",
                 address=f"Branch street {n + 1}", effective_personnel=5)


def event_count() -> int:
    return AuditEvent.objects.count()


_staffed = itertools.count(1)


def staffed_cycles(organization, elsewhere):
    """``add(n)`` adds n cycles of ``organization`` built with the ORM, each holding what the
    audit outputs read: a closed stage 1 (every other one long ago, so stage 2 is late)
    with a declared lead and member; a stage 2 at its dates with sites, a confirmed plan
    and a team of a declared lead, a member barred by a consultancy for the client and one
    busy on an audit of ``elsewhere`` at the same dates; an unstaffed surveillance audit
    with a plan sent; a cancelled short-notice audit."""
    def add(n):
        for _ in range(n):
            i = next(_staffed)
            lead = auditor(f"lead{i}@cb.example", f"Lead {i}", lead=True)
            member = auditor(f"member{i}@cb.example", f"Member {i}")
            barred = auditor(f"barred{i}@cb.example", standards=("ISO 14001",), sectors=())
            relationship(barred, organization, start=make.today() - datetime.timedelta(days=400))
            busy = auditor(f"busy{i}@cb.example", f"Busy {i}")
            stage1 = make.audit(organization, status="closed", start=-400 if i % 2 else -60,
                                lead=lead, closed=-50)
            declared = timezone.now()
            TeamMember.objects.filter(audit=stage1).update(impartiality_declared_at=declared)
            TeamMember.objects.create(audit=stage1, auditor=member, role="member",
                                      impartiality_declared_at=declared)
            stage2 = make.audit(organization, kind="stage2", start=20 + i, lead=lead,
                                in_cycle=stage1.cycle)
            TeamMember.objects.filter(audit=stage2).update(impartiality_declared_at=declared)
            TeamMember.objects.create(audit=stage2, auditor=barred, role="member")
            TeamMember.objects.create(audit=stage2, auditor=busy, role="member")
            make.audit(elsewhere, start=20 + i, lead=busy)
            make.plan(stage2, AuditPlan.Status.CONFIRMED)
            stage2.sites.set(organization.sites.all())
            surveillance = make.audit(organization, kind="surveillance1", target=400,
                                      in_cycle=stage1.cycle)
            AuditPlan.objects.create(audit=surveillance, status=AuditPlan.Status.SENT,
                                     sent_at=declared)
            make.audit(organization, kind="short_notice", status="cancelled",
                       in_cycle=stage1.cycle)
    return add
