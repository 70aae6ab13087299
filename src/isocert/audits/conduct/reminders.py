"""Overdue corrective actions and the daily reminder to the client and the audit team."""

import datetime

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from isocert.accounts.permissions import member_emails
from isocert.core.audit import record_event
from isocert.core.dates import display_date
from isocert.core.models import AuditEvent
from isocert.notifications.services import notify

from ..programme.models import Audit
from ..programme.selectors import team_emails
from .common import (
    locked_audit,
)
from .models import (
    Finding,
)

REMINDER_ACTION = "audits.audit.ca_reminder_sent"


def overdue_reason(finding: Finding, today: datetime.date | None = None) -> str:
    """Why a nonconformity is late, or "" when it is not."""
    today = today or timezone.localdate()
    if (finding.status in (Finding.Status.OPEN, Finding.Status.RETURNED) and finding.plan_due
            and finding.plan_due < today):
        return f"answer was due {display_date(finding.plan_due)}"
    if (finding.grade == Finding.Grade.MAJOR and finding.status != Finding.Status.VERIFIED
            and finding.verification_due and finding.verification_due < today):
        return f"verification was due {display_date(finding.verification_due)}"
    return ""


def overdue_findings(today: datetime.date | None = None):
    """Nonconformities whose answer or (majors) verification is past due."""
    today = today or timezone.localdate()
    return Finding.objects.filter(
        Q(status__in=[Finding.Status.OPEN, Finding.Status.RETURNED], plan_due__lt=today)
        | Q(grade=Finding.Grade.MAJOR, verification_due__lt=today, status__in=[
            Finding.Status.OPEN, Finding.Status.RETURNED, Finding.Status.SUBMITTED,
            Finding.Status.PLAN_ACCEPTED]),
        audit__status__in=[Audit.Status.IN_PROGRESS, Audit.Status.CLOSED],
    )


def _reminded_today(audit: Audit, today: datetime.date) -> bool:
    return AuditEvent.objects.filter(action=REMINDER_ACTION, object_type="audits.audit",
                                     object_id=str(audit.pk),
                                     payload__date=today.isoformat()).exists()


def audits_to_remind(today: datetime.date | None = None) -> list[int]:
    """Audits with overdue corrective actions whose reminder has not gone out today."""
    today = today or timezone.localdate()
    ids = sorted(set(overdue_findings(today).values_list("audit_id", flat=True)))
    reminded = set(AuditEvent.objects.filter(
        action=REMINDER_ACTION, object_type="audits.audit", object_id__in=[str(i) for i in ids],
        payload__date=today.isoformat()).values_list("object_id", flat=True))
    return [i for i in ids if str(i) not in reminded]


@transaction.atomic
def send_ca_reminder(*, audit: Audit, today: datetime.date | None = None) -> list[int]:
    """E-mail the client (owners, editors) and the audit team the audit's overdue items.

    At most once a day per audit (the audit trail remembers the day); returns the findings
    listed, or [] when nothing was sent.
    """
    today = today or timezone.localdate()
    audit = locked_audit(audit)
    if _reminded_today(audit, today):
        return []
    findings = list(overdue_findings(today).filter(audit=audit)
                    .select_related("clause").order_by("number"))
    if not findings:
        return []
    lines = [{"number": f.number, "grade": f.get_grade_display(), "clause": f.clause.number,
              "status": f.get_status_display(), "reason": overdue_reason(f, today),
              "path": reverse("finding_detail", args=[f.pk])} for f in findings]
    ids = [f.pk for f in findings]
    record_event(actor=None, action=REMINDER_ACTION, obj=audit,
                 organization_id=audit.cycle.organization_id,
                 payload={"date": today.isoformat(), "findings": ids})
    context = {"organization": str(audit.cycle.organization),
               "audit": audit.get_kind_display(), "findings": lines, "count": len(lines),
               "path": reverse("audit_findings", args=[audit.pk])}
    notify(template="ca_overdue_client", to=member_emails(audit.cycle.organization_id),
           context=context)
    notify(template="ca_overdue_team", to=team_emails(audit=audit), context=context)
    return ids
