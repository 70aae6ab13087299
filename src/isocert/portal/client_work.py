"""The client's work list on the dashboard: what waits for them, what waits for the CB,
their certificates and their recent milestones, across every organization they belong to.

Each app says what is in progress (its selectors, filtered by the organizations' ids);
this module only words the items and links them to the page where the work is done. The
number of queries is the same whatever the number of organizations, applications,
audits or certificates (tests/portal/test_client_work.py asserts it).
"""

import datetime
from dataclasses import dataclass, field

from django.urls import reverse

from isocert.audits.conduct import selectors as conduct_selectors
from isocert.audits.models import Audit
from isocert.audits.programme import selectors as programme_selectors
from isocert.certification import selectors as certification_selectors
from isocert.core.dates import display_date
from isocert.improvement import selectors as improvement_selectors
from isocert.registration import selectors as registration_selectors
from isocert.registration.models import Application

from .journey import CertificationFacts
from .queues import WorkItem
from .selectors import recent_milestones

RECENT_EVENTS = 10


@dataclass
class ClientWork:
    waiting_for_you: list[WorkItem] = field(default_factory=list)
    waiting_for_cb: list[WorkItem] = field(default_factory=list)
    certificates: list = field(default_factory=list)
    events: list = field(default_factory=list)
    facts: CertificationFacts = field(default_factory=CertificationFacts)


def _by_due(items: list[WorkItem]) -> list[WorkItem]:
    return sorted(items, key=WorkItem.sort_key)


def _item(title, organization, url, *, due=None, detail="", today) -> WorkItem:
    return WorkItem(title=title, organization=str(organization), url=url, due=due,
                    detail=detail, overdue=bool(due and due < today))


def _for_client(ids: list[int], today: datetime.date, applications: list[Application]
                ) -> list[WorkItem]:
    items = []
    for application in applications:
        url = reverse("application_detail", args=[application.pk])
        if application.status == Application.Status.DRAFT:
            items.append(_item(f"Complete and submit application {application.reference}",
                               application.organization, url, today=today))
        elif application.status == Application.Status.INFORMATION_REQUESTED:
            items.append(_item(f"Answer the CB's questions on application "
                               f"{application.reference}", application.organization, url,
                               today=today))
    for quotation in registration_selectors.quotations_to_answer(organization_ids=ids):
        application = quotation.application
        items.append(_item(f"Accept quotation {quotation.number}", application.organization,
                           reverse("application_detail", args=[application.pk]),
                           due=quotation.valid_until, detail="Valid until this date",
                           today=today))
    for plan in programme_selectors.plans_to_confirm(organization_ids=ids):
        audit = plan.audit
        items.append(_item(f"Confirm the plan of the {audit.get_kind_display().lower()} audit",
                           audit.cycle.organization,
                           reverse("audit_plan_client", args=[audit.pk]),
                           due=audit.start_date, detail="The audit starts on this date",
                           today=today))
    for remote in programme_selectors.remote_agreements_to_give(organization_ids=ids):
        audit = remote.audit
        items.append(_item(f"Agree to the remote part of the {audit.get_kind_display().lower()} "
                           "audit", audit.cycle.organization,
                           reverse("audit_plan_client", args=[audit.pk]),
                           due=audit.start_date, detail="The audit starts on this date",
                           today=today))
    for finding in conduct_selectors.findings_to_answer(organization_ids=ids):
        audit = finding.audit
        if finding.status == finding.Status.PLAN_ACCEPTED:
            title = (f"Send the evidence of implementation for nonconformity "
                     f"#{finding.number} ({finding.get_grade_display().lower()})")
            due = finding.verification_due
        else:
            title = (f"Answer nonconformity #{finding.number} "
                     f"({finding.get_grade_display().lower()}, clause {finding.clause.number})")
            due = finding.plan_due
        items.append(_item(title, audit.cycle.organization,
                           reverse("finding_detail", args=[finding.pk]), due=due,
                           detail=f"{audit.get_kind_display()} audit", today=today))
    for action in improvement_selectors.overdue_actions(organization_ids=ids, today=today):
        items.append(_item(f"Overdue action: {action.title}", action.organization,
                           reverse("action_detail", args=[action.pk]), due=action.due_date,
                           today=today))
    return _by_due(items)


def _for_cb(ids: list[int], today: datetime.date, applications: list[Application],
            ahead: list[Audit], pending: list) -> list[WorkItem]:
    items = []
    for application in applications:
        if application.status in registration_selectors.CB_TURN:
            items.append(_item(f"Review of application {application.reference}",
                               application.organization,
                               reverse("application_detail", args=[application.pk]),
                               detail=application.get_status_display(), today=today))
    for audit in ahead:
        when = (display_date(audit.start_date) if audit.start_date
                else "dates to be agreed")
        # The CB holds the audit; its due date is the programme's target, not the client's.
        items.append(WorkItem(title=f"{audit.get_kind_display()} audit — {when}",
                              organization=str(audit.cycle.organization),
                              url=reverse("audit_plan_client", args=[audit.pk]),
                              due=audit.start_date or audit.target_date,
                              detail=audit.get_status_display()))
    for finding in conduct_selectors.findings_with_the_cb(organization_ids=ids):
        items.append(WorkItem(title=f"Review of your answer to nonconformity #{finding.number}",
                              organization=str(finding.audit.cycle.organization),
                              url=reverse("finding_detail", args=[finding.pk]),
                              detail=f"{finding.audit.get_kind_display()} audit"))
    for cycle in pending:
        items.append(WorkItem(title="Certification decision by an independent decision maker",
                              organization=str(cycle.organization),
                              url=reverse("cycle_detail", args=[cycle.pk]),
                              detail="The audit is closed; ISO/IEC 17021-1 §9.5"))
    return _by_due(items)


def client_work(*, organization_ids: list[int], today: datetime.date) -> ClientWork:
    """The work list of a client user who belongs to these organizations, with the facts
    the per-standard journeys need (read here once for every organization)."""
    if not organization_ids:
        return ClientWork()
    facts = CertificationFacts()
    certificates = list(certification_selectors.certificates_with_next_audit(
        organization_ids=organization_ids))
    for certificate in certificates:
        certificate.next_audit_overdue = bool(certificate.next_audit_due
                                              and certificate.next_audit_due < today)
        certificate.next_audit_label = (dict(Audit.Kind.choices).get(certificate.next_audit_kind)
                                        if certificate.next_audit_kind else "")
        if certificate.cycle_id is not None:
            facts.certificates.setdefault(certificate.cycle.application_id, []).append(certificate)
    ahead = list(programme_selectors.audits_ahead(organization_ids=organization_ids))
    for audit in ahead:
        facts.audits_ahead.setdefault(audit.cycle.application_id, []).append(audit)
    pending = list(certification_selectors.decisions_pending_for(
        organization_ids=organization_ids))
    facts.awaiting_decision = {cycle.application_id for cycle in pending}
    applications = list(registration_selectors.applications_in_progress(
        organization_ids=organization_ids))
    return ClientWork(waiting_for_you=_for_client(organization_ids, today, applications),
                      waiting_for_cb=_for_cb(organization_ids, today, applications, ahead,
                                             pending),
                      certificates=certificates, facts=facts,
                      events=recent_milestones(organization_ids=organization_ids,
                                               limit=RECENT_EVENTS))
