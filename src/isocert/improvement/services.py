"""Every write on implementation actions, internal audits and management reviews, one
import for callers: actions and the overdue digest (``actions``), internal audits
(``internal_audits``), management reviews (``reviews``) and the field cleaners they share
(``common``). Every write is a keyword-only service with an explicit ``actor``."""

from .actions import (
    ACTION_FIELDS,
    GAP_STATES_NEEDING_ACTION,
    OPEN_STATES,
    ActionOutcome,
    add_action_evidence,
    add_action_note,
    cancel_action,
    complete_action,
    create_action,
    delete_action,
    gap_assessment_url,
    overdue_actions,
    owners_to_remind,
    reopen_action,
    send_overdue_digest,
    start_action,
    transition_action,
    update_action,
)
from .internal_audits import (
    CORRECTIVE_ACTION_DAYS,
    add_internal_finding,
    complete_internal_audit,
    create_internal_audit,
    main_clauses,
    update_checklist_item,
)
from .reviews import (
    INPUTS_FILE,
    add_review_action,
    create_management_review,
    record_review_decisions,
    review_inputs_for,
    update_review_inputs,
)

__all__ = [
    "ACTION_FIELDS",
    "ActionOutcome",
    "CORRECTIVE_ACTION_DAYS",
    "GAP_STATES_NEEDING_ACTION",
    "INPUTS_FILE",
    "OPEN_STATES",
    "add_action_evidence",
    "add_action_note",
    "add_internal_finding",
    "add_review_action",
    "cancel_action",
    "complete_action",
    "complete_internal_audit",
    "create_action",
    "create_internal_audit",
    "create_management_review",
    "delete_action",
    "gap_assessment_url",
    "main_clauses",
    "overdue_actions",
    "owners_to_remind",
    "record_review_decisions",
    "reopen_action",
    "review_inputs_for",
    "send_overdue_digest",
    "start_action",
    "transition_action",
    "update_action",
    "update_checklist_item",
    "update_review_inputs",
]
