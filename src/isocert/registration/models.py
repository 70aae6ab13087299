"""Applications for registration: an organization's declared intent to certify."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from isocert.core.statemachine import StateMachine


class Application(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        UNDER_REVIEW = "under_review", "Under review"
        INFORMATION_REQUESTED = "information_requested", "Information requested"
        RESUBMITTED = "resubmitted", "Resubmitted"
        REGISTERED = "registered", "Registered"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="applications"
    )
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.DRAFT,
                              db_index=True)
    version = models.PositiveIntegerField(default=1, help_text="Raised on every change.")
    scope_statement = models.TextField(blank=True)
    sites = models.ManyToManyField("accounts.Site", blank=True, related_name="applications")
    consultancy_used = models.BooleanField(
        default=False, help_text="Management-system consultancy received in the last 2 years."
    )
    consultancy_by = models.CharField(max_length=200, blank=True)
    is_transfer = models.BooleanField(
        default=False, help_text="Already certified by another certification body."
    )
    current_cb_name = models.CharField(max_length=200, blank=True)
    current_certificate_number = models.CharField(max_length=60, blank=True)
    current_certificate_expiry = models.DateField(null=True, blank=True)
    # The rest of what IAF MD 2 §2.2 asks the accepting CB to review (transfer only).
    current_accreditation_body = models.CharField(
        max_length=200, blank=True, help_text="Accreditation body of the current certificate.")
    current_certificate_standard = models.CharField(
        max_length=60, blank=True, help_text="Standard and edition on the current certificate.")
    current_certificate_scope = models.TextField(blank=True)
    current_cycle_decision_date = models.DateField(
        null=True, blank=True, help_text="The decision that started the current cycle.")
    current_cycle_stage = models.CharField(
        max_length=24, blank=True, choices=[
            ("initial", "Initial certification granted, no surveillance yet"),
            ("surveillance1", "Surveillance 1 held"),
            ("surveillance2", "Surveillance 2 held"),
        ], help_text="Where the client is in its current three-year cycle.")
    current_open_nonconformities = models.TextField(
        blank=True, help_text="Nonconformities the current CB has not closed yet.")
    current_complaints = models.TextField(
        blank=True, help_text="Complaints received and the action taken.")
    desired_audit_from = models.DateField(null=True, blank=True)
    desired_audit_to = models.DateField(null=True, blank=True)
    registration_number = models.CharField(max_length=40, unique=True, null=True, blank=True)
    decline_reason = models.TextField(blank=True)
    withdraw_reason = models.TextField(blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    registered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.registration_number or f"Application {self.pk}"

    @property
    def reference(self) -> str:
        return f"APP-{self.pk:06d}"

    @property
    def client_can_edit(self) -> bool:
        return self.status in EDITABLE_BY_CLIENT

    @property
    def is_integrated(self) -> bool:
        return len(self.standard_lines.all()) > 1


EDITABLE_BY_CLIENT = {Application.Status.DRAFT, Application.Status.INFORMATION_REQUESTED}

S = Application.Status
APPLICATION_LIFECYCLE = StateMachine(
    "application",
    {
        "submit": ({S.DRAFT}, S.SUBMITTED),
        "start_review": ({S.SUBMITTED, S.RESUBMITTED}, S.UNDER_REVIEW),
        "request_information": ({S.UNDER_REVIEW}, S.INFORMATION_REQUESTED),
        "resubmit": ({S.INFORMATION_REQUESTED}, S.RESUBMITTED),
        "register": ({S.UNDER_REVIEW}, S.REGISTERED),
        "decline": ({S.UNDER_REVIEW}, S.DECLINED),
        "withdraw": (
            {S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.INFORMATION_REQUESTED, S.RESUBMITTED},
            S.WITHDRAWN,
        ),
    },
    labels=dict(S.choices),
)


class ApplicationStandard(models.Model):
    """One standard applied for, with what audit time depends on."""

    class Complexity(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"
        LIMITED = "limited", "Limited (ISO 14001 only)"

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="standard_lines")
    standard = models.ForeignKey("catalog.Standard", on_delete=models.PROTECT, related_name="+")
    effective_personnel = models.DecimalField(max_digits=9, decimal_places=2, null=True,
                                              blank=True)
    complexity = models.CharField(max_length=10, choices=Complexity.choices, blank=True)
    annual_energy_consumption_tj = models.DecimalField(
        max_digits=12, decimal_places=3, null=True, blank=True,
        help_text="Annual energy consumption in terajoules (ISO 50001).",
    )
    energy_types = models.PositiveSmallIntegerField(null=True, blank=True)
    significant_energy_uses = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["standard__code"]
        constraints = [
            models.UniqueConstraint(fields=["application", "standard"],
                                    name="unique_standard_per_application"),
            models.CheckConstraint(
                condition=Q(effective_personnel__isnull=True) | Q(effective_personnel__gt=0),
                name="application_personnel_positive",
            ),
        ]

    def __str__(self) -> str:
        return str(self.standard)


class ApplicationDocument(models.Model):
    class Kind(models.TextChoices):
        MANUAL = "manual", "Management-system manual or overview"
        SCOPE = "scope", "Scope and boundaries"
        ORG_CHART = "org_chart", "Organization chart"
        PROCESS_MAP = "process_map", "Process map"
        LEGAL_REGISTER = "legal_register", "Register of legal requirements"
        ENERGY_REVIEW = "energy_review", "Energy review / energy data"
        CURRENT_CERTIFICATE = "current_certificate", "Current certificate (transfer)"
        AUDIT_REPORT = "audit_report", "Last audit report (transfer)"
        OTHER = "other", "Other"

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="documents")
    file = models.ForeignKey("core.StoredFile", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=30, choices=Kind.choices, default=Kind.OTHER)
    original_name = models.CharField(max_length=255)
    description = models.CharField(max_length=255, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


class ApplicationMessage(models.Model):
    """What the reviewer asked and what the client answered."""

    class Kind(models.TextChoices):
        INFORMATION_REQUEST = "information_request", "Information requested"
        RESPONSE = "response", "Client response"

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="messages")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                               on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.application}"


class PreliminaryAssessment(models.Model):
    """The reviewer's readiness checklist (ISO/IEC 17021-1 §9.1 application review)."""

    class ImpartialityRisk(models.TextChoices):
        NONE = "none", "No risk identified"
        MANAGED = "managed", "Risk identified and managed"
        UNACCEPTABLE = "unacceptable", "Unacceptable risk"

    CHECKS = {
        "documents_reviewed": "Documents reviewed",
        "scope_clear": "Scope clear and certifiable",
        "sites_personnel_plausible": "Sites and personnel plausible",
        "cb_competent": "CB competent for the standards and sectors",
    }

    application = models.OneToOneField(Application, on_delete=models.CASCADE,
                                       related_name="assessment")
    documents_reviewed = models.BooleanField(default=False)
    scope_clear = models.BooleanField(default=False)
    sites_personnel_plausible = models.BooleanField(default=False)
    cb_competent = models.BooleanField(default=False)
    impartiality_risk = models.CharField(max_length=12, choices=ImpartialityRisk.choices,
                                         default=ImpartialityRisk.NONE)
    notes = models.TextField(blank=True)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    assessed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Preliminary assessment of {self.application}"

    def failed_checks(self) -> list[str]:
        failed = [label for field, label in self.CHECKS.items() if not getattr(self, field)]
        if self.impartiality_risk == self.ImpartialityRisk.UNACCEPTABLE:
            failed.append("Impartiality risk is unacceptable")
        return failed

    @property
    def passed(self) -> bool:
        return not self.failed_checks()

    @property
    def outcome(self) -> str:
        if self.passed:
            return "Ready for registration"
        return "Not ready: " + "; ".join(self.failed_checks())


class AuditTimeDetermination(models.Model):
    """The audit time the CB fixed at application review (IAF MD 5, MD 11, MD 1).

    ``computed`` is the engine's result from the application's data and the
    reviewer's factors; ``overrides`` are figures the reviewer changed by hand,
    each with its written justification; the day fields are what applies.
    """

    FIGURES = {
        "initial_days": "Initial audit (stage 1 + stage 2)",
        "stage1_days": "Stage 1",
        "stage2_days": "Stage 2",
        "surveillance_days": "Surveillance (each year)",
        "recertification_days": "Recertification",
        "min_onsite_days": "Minimum on-site",
    }
    OVERRIDABLE = ("initial_days", "stage1_days", "surveillance_days", "recertification_days")

    application = models.OneToOneField(Application, on_delete=models.CASCADE,
                                       related_name="audit_time")
    inputs = models.JSONField(help_text="The input given to the audit-time engine.")
    computed = models.JSONField(help_text="The engine's result, with its explanation.")
    overrides = models.JSONField(default=dict, blank=True)
    initial_days = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    stage1_days = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    stage2_days = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    surveillance_days = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    recertification_days = models.DecimalField(max_digits=6, decimal_places=1, null=True,
                                               blank=True)
    min_onsite_days = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    determined_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                      on_delete=models.SET_NULL, related_name="+")
    determined_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Audit time of {self.application}"

    @property
    def is_complete(self) -> bool:
        return all(getattr(self, f) is not None for f in self.FIGURES)

    def figures(self) -> list[dict]:
        return [{"key": key, "label": label, "days": getattr(self, key),
                 "computed": self.computed.get(key), "override": self.overrides.get(key)}
                for key, label in self.FIGURES.items()]


class Quotation(models.Model):
    """The price of the certification cycle; accepted online, it is the contract."""

    class Status(models.TextChoices):
        SENT = "sent", "Sent to the client"
        ACCEPTED = "accepted", "Accepted"
        SUPERSEDED = "superseded", "Superseded"

    application = models.ForeignKey(Application, on_delete=models.PROTECT,
                                    related_name="quotations")
    number = models.CharField(max_length=40, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SENT)
    currency = models.CharField(max_length=3)
    day_rate = models.DecimalField(max_digits=10, decimal_places=2)
    vat_percent = models.DecimalField(max_digits=5, decimal_places=2)
    lines = models.JSONField(help_text="[{label, days, amount}] — the audits of the cycle.")
    net_amount = models.DecimalField(max_digits=12, decimal_places=2)
    vat_amount = models.DecimalField(max_digits=12, decimal_places=2)
    total_amount = models.DecimalField(max_digits=12, decimal_places=2)
    audit_time = models.JSONField(help_text="The audit-time determination and its justification.")
    valid_until = models.DateField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                  related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    accepted_at = models.DateTimeField(null=True, blank=True)
    pdf = models.ForeignKey("core.StoredFile", null=True, blank=True, on_delete=models.PROTECT,
                            related_name="+")

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(fields=["application"], condition=Q(status="accepted"),
                                    name="one_accepted_quotation_per_application"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_expired(self) -> bool:
        return self.status == self.Status.SENT and self.valid_until < timezone.localdate()


# A sent quotation is accepted by the client's owner (the contract) or superseded when the
# CB issues a new one; both are final.
QUOTATION_LIFECYCLE = StateMachine(
    "quotation",
    {
        "accept": ({Quotation.Status.SENT}, Quotation.Status.ACCEPTED),
        "supersede": ({Quotation.Status.SENT}, Quotation.Status.SUPERSEDED),
    },
    labels=dict(Quotation.Status.choices),
)


class TransferReview(models.Model):
    """The pre-transfer review of an accredited certification (IAF MD 2:2017 §2).

    A competent person of the accepting CB reviews the transfer documents (§2.2) and, when
    the review says so, visits the client (§2.2); each check of §2.2 is recorded with
    the conclusion and its reasons (§2.2). Accepted, the decision maker issues a
    certificate that keeps the current cycle (§2.3); refused, the application goes the
    normal way of an initial certification (§2.2).
    """

    class Status(models.TextChoices):
        OPEN = "open", "Under review"
        ACCEPTED = "accepted", "Transfer accepted"
        REFUSED = "refused", "Transfer refused (new initial certification)"
        ISSUED = "issued", "Certificate issued"

    class Visit(models.TextChoices):
        NOT_NEEDED = "not_needed", "Not needed"
        PENDING = "pending", "Needed, not held yet"
        SATISFACTORY = "satisfactory", "Held, satisfactory"
        UNSATISFACTORY = "unsatisfactory", "Held, not satisfactory"

    # IAF MD 2 §2.2: what the review confirms (field → label printed with the result).
    CHECKS = {
        "certificate_valid": "The certificate is valid and within its cycle (MD 2 §2.1)",
        "accredited_by_mla_signatory": "Accredited by an IAF MLA signatory accreditation "
                                       "body (MD 2 §2.1)",
        "not_suspended": "Not suspended or under notice of suspension (MD 2 §2.1)",
        "scope_within_accreditation": "The scope falls within the accepting CB's "
                                      "accreditation (MD 2 §2.2)",
        "complaints_addressed": "Complaints received were addressed (MD 2 §2.2)",
        "reports_reviewed": "Last audit reports reviewed (MD 2 §2.2)",
        "open_majors_closed": "Open major nonconformities closed (MD 2 §2.2, §2.3)",
    }

    application = models.OneToOneField(Application, on_delete=models.CASCADE,
                                       related_name="transfer_review")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    certificate_valid = models.BooleanField(default=False)
    accredited_by_mla_signatory = models.BooleanField(default=False)
    not_suspended = models.BooleanField(default=False)
    scope_within_accreditation = models.BooleanField(default=False)
    complaints_addressed = models.BooleanField(default=False)
    reports_reviewed = models.BooleanField(default=False)
    open_majors_closed = models.BooleanField(default=False)
    visit = models.CharField(max_length=16, choices=Visit.choices, default=Visit.NOT_NEEDED)
    visit_date = models.DateField(null=True, blank=True)
    visit_findings = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    reasons = models.TextField(blank=True, help_text="Why the transfer was accepted or refused.")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(auto_now=True)
    concluded_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Transfer review of {self.application}"

    def failed_checks(self) -> list[str]:
        failed = [label for field, label in self.CHECKS.items() if not getattr(self, field)]
        if self.visit == self.Visit.PENDING:
            failed.append("The pre-transfer visit is still to be held (MD 2 §2.2)")
        elif self.visit == self.Visit.UNSATISFACTORY:
            failed.append("The pre-transfer visit was not satisfactory (MD 2 §2.2)")
        return failed

    @property
    def passed(self) -> bool:
        return not self.failed_checks()

    def check_rows(self) -> list[dict]:
        return [{"key": field, "label": label, "ok": bool(getattr(self, field))}
                for field, label in self.CHECKS.items()]


_T = TransferReview.Status
# The review ends accepted (every check passed) or refused; an accepted transfer ends when
# the decision maker issues the certificate.
TRANSFER_REVIEW_LIFECYCLE = StateMachine("transfer review", {
    "accept": ({_T.OPEN}, _T.ACCEPTED),
    "refuse": ({_T.OPEN}, _T.REFUSED),
    "issue": ({_T.ACCEPTED}, _T.ISSUED),
}, labels=dict(_T.choices))
