"""Every write on applications for registration, one import for callers: the client's
drafting and submitting (``applications``), the CB's review and registration (``review``),
audit time and the quotation (``quotations``) and the guards they share (``common``).
Every write is a keyword-only service with an explicit ``actor``."""

from .applications import (
    COMPLEXITY_REQUIRED,
    TEXT_LIMITS,
    add_application_document,
    completeness_problems,
    create_application,
    entry_problems,
    remove_application_document,
    resubmit_application,
    submit_application,
    update_application,
    withdraw_application,
)
from .quotations import (
    accept_quotation,
    audit_time_inputs,
    determine_audit_time,
    issue_quotation,
    preview_quotation,
)
from .review import (
    decline_application,
    record_preliminary_assessment,
    register_application,
    request_information,
    start_review,
)
from .tasks import render_quotation_pdf_file
from .transfers import conclude_transfer_review, record_transfer_review

__all__ = [
    "COMPLEXITY_REQUIRED", "TEXT_LIMITS", "accept_quotation", "add_application_document",
    "audit_time_inputs", "completeness_problems", "conclude_transfer_review", "create_application", "decline_application",
    "determine_audit_time", "entry_problems", "issue_quotation", "preview_quotation", "record_preliminary_assessment",
    "record_transfer_review", "register_application", "remove_application_document", "render_quotation_pdf_file",
    "request_information", "resubmit_application", "start_review", "submit_application",
    "update_application", "withdraw_application",
]
