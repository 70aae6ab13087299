"""Complaints (ISO/IEC 17021-1 §9.8) and appeals (§9.7).

A complaint may come from anyone (a client, a customer of a certified organization, the
public) and concerns the CB's certification activities or a certified client. An appeal
is a client's request to reconsider a certification decision taken on it. Each has its
status table next to it; every move goes through it (``LIFECYCLE.apply``) and is recorded
in the audit trail by the service that makes it.
"""

from django.conf import settings
from django.db import models

from isocert.audits.models import Finding
from isocert.core.statemachine import StateMachine


class Complaint(models.Model):
    """One complaint, from receipt to closing (§9.8)."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        CLASSIFIED = "classified", "Classified"
        INVESTIGATING = "investigating", "Investigator assigned"
        INVESTIGATED = "investigated", "Investigation recorded"
        DECIDED = "decided", "Outcome decided"
        APPROVED = "approved", "Outcome approved"
        COMMUNICATED = "communicated", "Complainant told the outcome"
        CLOSED = "closed", "Closed"

    class Relates(models.TextChoices):
        CB_ACTIVITIES = "cb_activities", "The CB's certification activities"
        CERTIFIED_CLIENT = "certified_client", "A certified client"

    class Action(models.TextChoices):
        NONE = "none", "No further action"
        SHORT_NOTICE_AUDIT = "short_notice_audit", "Special short-notice audit"
        SUSPENSION = "suspension", "Suspension of the certificate"

    reference = models.CharField(max_length=30, unique=True)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.RECEIVED,
                              db_index=True)
    # What the complainant said (the public form and API).
    name = models.CharField(max_length=150)
    email = models.EmailField()
    organization_name = models.CharField(max_length=200, blank=True,
                                         help_text="The organization complained about, "
                                         "as the complainant named it.")
    certificate_number = models.CharField(max_length=60, blank=True)
    subject = models.CharField(max_length=200)
    description = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True)
    # The CB's handling.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    relates_to = models.CharField(max_length=16, choices=Relates.choices, blank=True)
    organization = models.ForeignKey("accounts.Organization", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="complaints")
    certificate = models.ForeignKey("certification.Certificate", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="complaints")
    audits = models.ManyToManyField("audits.Audit", blank=True, related_name="+",
                                    help_text="The audits the complaint is about.")
    classification_notes = models.TextField(blank=True)
    client_notified_at = models.DateTimeField(null=True, blank=True)
    client_response = models.TextField(blank=True)
    client_responded_at = models.DateTimeField(null=True, blank=True)
    investigator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    investigation = models.TextField(blank=True)
    investigated_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True)
    action = models.CharField(max_length=20, choices=Action.choices, blank=True)
    special_audit = models.ForeignKey("audits.Audit", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    approval_required = models.BooleanField(
        default=False, help_text="The outcome is approved by another handler before it is "
        "sent (§9.8.6): decided by the investigator, or the CB approves every outcome.")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_notes = models.TextField(blank=True)
    communicated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_reminded_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.reference} — {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED


_C = Complaint.Status
# §9.8.3–9.8.7: receipt, acknowledgment, validation (which activity or client it concerns),
# investigation by someone not involved, decision, its review and approval by someone not
# involved when required (§9.8.6; ``approval_required``: then ``communicate_outcome`` waits
# for ``approve``, and ``return_outcome`` sends it back for a new decision), formal notice
# to the complainant, end.
COMPLAINT_LIFECYCLE = StateMachine("complaint", {
    "acknowledge": ({_C.RECEIVED}, _C.ACKNOWLEDGED),
    "classify": ({_C.ACKNOWLEDGED}, _C.CLASSIFIED),
    "assign_investigator": ({_C.CLASSIFIED, _C.INVESTIGATING}, _C.INVESTIGATING),
    "record_investigation": ({_C.INVESTIGATING}, _C.INVESTIGATED),
    "decide": ({_C.INVESTIGATED}, _C.DECIDED),
    "approve": ({_C.DECIDED}, _C.APPROVED),
    "return_outcome": ({_C.DECIDED}, _C.INVESTIGATED),
    "communicate_outcome": ({_C.DECIDED, _C.APPROVED}, _C.COMMUNICATED),
    "close": ({_C.COMMUNICATED}, _C.CLOSED),
}, labels=dict(_C.choices))
# Where the client concerned may still answer, and the CB still write to the complainant.
COMPLAINT_HANDLING = {_C.CLASSIFIED, _C.INVESTIGATING, _C.INVESTIGATED, _C.DECIDED,
                      _C.APPROVED}


class ComplaintAttachment(models.Model):
    """A file the complainant sent with the complaint (checked like every upload)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE,
                                  related_name="attachments")
    file = models.ForeignKey("core.StoredFile", on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["complaint", "pk"]

    def __str__(self) -> str:
        return self.filename


class ComplaintMessage(models.Model):
    """What the CB told the complainant or the client, and what the client answered."""

    class Kind(models.TextChoices):
        ACKNOWLEDGMENT = "acknowledgment", "Acknowledgment to the complainant"
        CLIENT_NOTICE = "client_notice", "Notice to the certified client"
        CLIENT_RESPONSE = "client_response", "The client's response"
        PROGRESS = "progress", "Progress report to the complainant"
        OUTCOME = "outcome", "Formal outcome to the complainant"

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["complaint", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.complaint.reference}: {self.get_kind_display()}"


class Appeal(models.Model):
    """A client's appeal against a certification decision (§9.7)."""

    class Status(models.TextChoices):
        LODGED = "lodged", "Lodged"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        PANEL_APPOINTED = "panel_appointed", "Panel appointed"
        INVESTIGATED = "investigated", "Investigation recorded"
        UPHELD = "upheld", "Upheld"
        DISMISSED = "dismissed", "Dismissed"
        CLOSED = "closed", "Closed"

    class Subject(models.TextChoices):
        REFUSAL = "refusal", "Refusal of certification"
        SUSPENSION = "suspension", "Suspension"
        WITHDRAWAL = "withdrawal", "Withdrawal"
        SCOPE_REDUCTION = "scope_reduction", "Scope reduction"
        FINDING_GRADE = "finding_grade", "Grading of a finding"

    reference = models.CharField(max_length=30, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.LODGED,
                              db_index=True)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                                     related_name="appeals")
    subject = models.CharField(max_length=16, choices=Subject.choices)
    decision = models.ForeignKey("certification.CertificationDecision", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="appeals")
    certificate = models.ForeignKey("certification.Certificate", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="appeals")
    finding = models.ForeignKey("audits.Finding", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    decided_on = models.DateField(help_text="When the decision appealed was taken.")
    grounds = models.TextField()
    lodged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    lodged_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    panel = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    suspension_stayed = models.BooleanField(
        default=False, help_text="The panel stayed the suspension while the appeal runs; "
        "otherwise an appeal does not stop it (§9.7).")
    # The panel's stay (``appeals.stay_suspension``): who, when, why, and the end the
    # suspension had then — a dismissal resumes it until that day (``resumed_until``).
    stayed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    stayed_at = models.DateTimeField(null=True, blank=True)
    stay_reason = models.TextField(blank=True)
    stayed_until = models.DateField(null=True, blank=True,
                                    help_text="The end the suspension had when it was stayed.")
    resumed_until = models.DateField(null=True, blank=True,
                                     help_text="A stayed appeal dismissed: the end of the "
                                     "suspension resumed.")
    investigation = models.TextField(blank=True)
    investigated_at = models.DateTimeField(null=True, blank=True)
    outcome_reasons = models.TextField(blank=True)
    # A grading appeal upheld: the grade the finding had and the one the panel gave it.
    regraded_from = models.CharField(max_length=12, blank=True, choices=Finding.Grade.choices)
    regraded_to = models.CharField(max_length=12, blank=True, choices=Finding.Grade.choices)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-lodged_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.reference} — {self.get_subject_display()}"

    @property
    def is_open(self) -> bool:
        return self.status not in (self.Status.CLOSED,)


_A = Appeal.Status
APPEAL_LIFECYCLE = StateMachine("appeal", {
    "acknowledge": ({_A.LODGED}, _A.ACKNOWLEDGED),
    "appoint_panel": ({_A.ACKNOWLEDGED}, _A.PANEL_APPOINTED),
    "record_investigation": ({_A.PANEL_APPOINTED}, _A.INVESTIGATED),
    "uphold": ({_A.INVESTIGATED}, _A.UPHELD),
    "dismiss": ({_A.INVESTIGATED}, _A.DISMISSED),
    "close": ({_A.UPHELD, _A.DISMISSED}, _A.CLOSED),
}, labels=dict(_A.choices))


class AppealAttachment(models.Model):
    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="attachments")
    file = models.ForeignKey("core.StoredFile", on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["appeal", "pk"]

    def __str__(self) -> str:
        return self.filename
