"""The conduct's services, one import for callers: the checklist and records
(``checklist``), findings and corrective actions (``findings``), overdue reminders
(``reminders``), the report and closing (``reports``, ``pdf``) and the guards they share
(``common``). Every write is a keyword-only service with an explicit ``actor``."""

from .checklist import (
    add_record,
    prepare_checklist,
    update_coverage,
)
from .common import (
    TEXT_LIMIT,
    audit_clauses,
    audit_last_day,
    audit_sites,
    can_answer,
    is_lead_auditor,
    is_team_member,
)
from .findings import (
    CA_DONE,
    GRADE_SEVERITY,
    REVIEW_DECISION_CHOICES,
    REVIEW_DECISIONS,
    create_finding,
    delete_finding,
    latest_response,
    regrade_finding_on_appeal,
    review_corrective_action,
    submit_corrective_action,
    update_finding,
)
from .pdf import (
    render_report_pdf_file,
)
from .reminders import (
    REMINDER_ACTION,
    audits_to_remind,
    overdue_findings,
    overdue_reason,
    send_ca_reminder,
)
from .reports import (
    close_audit,
    issue_report,
    report_content,
    revise_report,
)

__all__ = [
    "CA_DONE",
    "GRADE_SEVERITY",
    "REMINDER_ACTION",
    "REVIEW_DECISIONS",
    "REVIEW_DECISION_CHOICES",
    "TEXT_LIMIT",
    "add_record",
    "audit_clauses",
    "audit_last_day",
    "audit_sites",
    "audits_to_remind",
    "can_answer",
    "close_audit",
    "create_finding",
    "delete_finding",
    "is_lead_auditor",
    "is_team_member",
    "issue_report",
    "latest_response",
    "overdue_findings",
    "overdue_reason",
    "prepare_checklist",
    "regrade_finding_on_appeal",
    "render_report_pdf_file",
    "report_content",
    "review_corrective_action",
    "revise_report",
    "send_ca_reminder",
    "submit_corrective_action",
    "update_coverage",
    "update_finding",
]
