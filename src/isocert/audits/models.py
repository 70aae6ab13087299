"""Certification audits: cycles, qualified and impartial teams, plans, findings,
corrective actions and reports (ISO/IEC 17021-1 §9.2–9.4)."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class AuditorProfile(models.Model):
    """What a CB auditor is qualified for."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="auditor_profile")
    standards = models.ManyToManyField("catalog.Standard", blank=True, related_name="+")
    sectors = models.ManyToManyField("catalog.Sector", blank=True, related_name="+")
    is_lead_auditor = models.BooleanField(default=False)
    languages = models.CharField(max_length=200, blank=True,
                                 help_text="Comma-separated, e.g. en, de.")

    def __str__(self) -> str:
        return f"Auditor {self.user}"


class CertificationCycle(models.Model):
    """The audit programme of one three-year cycle (organization, standards, scope)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                                     related_name="certification_cycles")
    application = models.ForeignKey("registration.Application", on_delete=models.PROTECT,
                                    related_name="cycles")
    standards = models.ManyToManyField("catalog.Standard", related_name="+")
    scope = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    decision_date = models.DateField(null=True, blank=True,
                                     help_text="Set by the certification decision.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Cycle {self.pk} — {self.organization}"


class Audit(models.Model):
    class Kind(models.TextChoices):
        STAGE1 = "stage1", "Stage 1"
        STAGE2 = "stage2", "Stage 2"
        SURVEILLANCE1 = "surveillance1", "Surveillance 1"
        SURVEILLANCE2 = "surveillance2", "Surveillance 2"
        RECERTIFICATION = "recertification", "Recertification"
        SHORT_NOTICE = "short_notice", "Special: short notice"
        SCOPE_EXTENSION = "scope_extension", "Special: scope extension"
        TRANSFER = "transfer", "Special: transfer review"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    cycle = models.ForeignKey(CertificationCycle, on_delete=models.CASCADE, related_name="audits")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    planned_days = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    spent_days = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    target_date = models.DateField(null=True, blank=True,
                                   help_text="Surveillance: due by this date.")
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    sites = models.ManyToManyField("accounts.Site", blank=True, related_name="+")
    site_selection = models.JSONField(default=dict, blank=True,
                                      help_text="{chosen: [ids], random: [ids], seed}")
    late_stage2_justification = models.TextField(blank=True)
    late_entry_justification = models.TextField(
        blank=True, help_text="Why the audit was scheduled with a first day already past "
                              "(a late entry of an audit held earlier).")
    closed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.TextField(
        blank=True, help_text="Why the audit was cancelled (shown to the client and the team).")

    class Meta:
        ordering = ["cycle", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.cycle.organization}"


class TeamMember(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", "Lead auditor"
        MEMBER = "member", "Auditor"

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="team")
    auditor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="audit_assignments")
    role = models.CharField(max_length=6, choices=Role.choices)
    impartiality_declared_at = models.DateTimeField(null=True, blank=True)
    # The signed declaration (ISO/IEC 17021-1 §5.2, §7.2.8): a statement, and either the
    # tick that no threat exists or the threat and the safeguard that manages it.
    declaration = models.TextField(blank=True)
    no_threat = models.BooleanField(default=False)
    threat = models.TextField(blank=True)
    safeguard = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["audit", "auditor"], name="unique_team_member")
        ]

    def __str__(self) -> str:
        return f"{self.auditor} ({self.get_role_display()})"


class AuditPlan(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENT = "sent", "Sent to the client"
        CONFIRMED = "confirmed", "Confirmed by the client"
        CHANGES_REQUESTED = "changes_requested", "Client asked for changes"

    audit = models.OneToOneField(Audit, on_delete=models.CASCADE, related_name="plan")
    status = models.CharField(max_length=18, choices=Status.choices, default=Status.DRAFT)
    client_comment = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    revision_reason = models.TextField(
        blank=True, help_text="Why the CB last took back a plan it had sent (revise_plan).")

    def __str__(self) -> str:
        return f"Plan of {self.audit}"


class PlanSession(models.Model):
    plan = models.ForeignKey(AuditPlan, on_delete=models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    topic = models.CharField(max_length=200, help_text="Clause or process.")
    clause = models.ForeignKey("catalog.Clause", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    site = models.ForeignKey("accounts.Site", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    auditee = models.CharField(max_length=200, blank=True)
    auditor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                   name="plan_session_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} {self.topic}"


class AuditRecord(models.Model):
    """What the auditor saw: document reviews, interviews, site observations."""

    class Kind(models.TextChoices):
        DOCUMENT_REVIEW = "document_review", "Document review"
        INTERVIEW = "interview", "Interview"
        OBSERVATION = "observation", "Site observation"

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="records")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    clause = models.ForeignKey("catalog.Clause", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    site = models.ForeignKey("accounts.Site", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    text = models.TextField()
    file = models.ForeignKey("core.StoredFile", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:40]}"


class ClauseCoverage(models.Model):
    """The audit checklist: which clauses were covered (the CB's internal notes)."""

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="coverage")
    clause = models.ForeignKey("catalog.Clause", on_delete=models.PROTECT, related_name="+")
    covered = models.BooleanField(default=False)
    internal_notes = models.TextField(blank=True)

    class Meta:
        ordering = ["audit", "clause__position"]
        constraints = [
            models.UniqueConstraint(fields=["audit", "clause"], name="unique_clause_coverage")
        ]

    def __str__(self) -> str:
        return f"{self.clause.number}: {'covered' if self.covered else 'open'}"


class Finding(models.Model):
    class Grade(models.TextChoices):
        MAJOR = "major", "Major nonconformity"
        MINOR = "minor", "Minor nonconformity"
        OBSERVATION = "observation", "Observation"
        OPPORTUNITY = "opportunity", "Opportunity for improvement"

    class Status(models.TextChoices):
        OPEN = "open", "Awaiting the client's answer"
        SUBMITTED = "submitted", "Answer submitted"
        RETURNED = "returned", "Returned to the client"
        PLAN_ACCEPTED = "plan_accepted", "Plan accepted"
        VERIFIED = "verified", "Implementation verified"
        NOT_APPLICABLE = "n/a", "No corrective action needed"

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="findings")
    number = models.PositiveIntegerField(help_text="Per audit: 1, 2, 3 …")
    grade = models.CharField(max_length=12, choices=Grade.choices)
    clause = models.ForeignKey("catalog.Clause", on_delete=models.PROTECT, related_name="+")
    statement = models.TextField()
    objective_evidence = models.TextField()
    site = models.ForeignKey("accounts.Site", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.OPEN)
    plan_due = models.DateField(null=True, blank=True)
    verification_due = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["audit", "number"]
        constraints = [
            models.UniqueConstraint(fields=["audit", "number"], name="unique_finding_number")
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.get_grade_display()} {self.clause.number}"

    @property
    def is_nonconformity(self) -> bool:
        return self.grade in (self.Grade.MAJOR, self.Grade.MINOR)


class CorrectiveActionResponse(models.Model):
    """One version of the client's answer to a nonconformity, and the auditor's review."""

    class Review(models.TextChoices):
        PENDING = "pending", "Awaiting review"
        RETURNED = "returned", "Returned"
        ACCEPTED = "accepted", "Plan accepted"
        VERIFIED = "verified", "Implementation verified"

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="responses")
    version = models.PositiveIntegerField()
    correction = models.TextField()
    root_cause = models.TextField()
    corrective_action = models.TextField()
    evidence = models.ForeignKey("core.StoredFile", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    evidence_name = models.CharField(max_length=255, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    review = models.CharField(max_length=10, choices=Review.choices, default=Review.PENDING)
    review_comment = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["finding", "version"]
        constraints = [
            models.UniqueConstraint(fields=["finding", "version"], name="unique_response_version")
        ]

    def __str__(self) -> str:
        return f"Answer v{self.version} to {self.finding}"


class AuditReport(models.Model):
    """An issued audit report revision; a correction after issue makes a new revision."""

    class Recommendation(models.TextChoices):
        RECOMMEND = "recommend", "Recommend certification"
        AFTER_MAJORS = "after_majors", "Recommend after the major nonconformities are closed"
        DO_NOT_RECOMMEND = "do_not_recommend", "Do not recommend"

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="reports")
    revision = models.PositiveIntegerField()
    conclusion = models.TextField()
    positive_notes = models.TextField(blank=True)
    areas_of_concern = models.TextField(blank=True, help_text="Stage 1: what could become a "
                                        "nonconformity at stage 2.")
    ready_for_stage2 = models.BooleanField(null=True, blank=True)
    recommendation = models.CharField(max_length=16, choices=Recommendation.choices, blank=True)
    correction_reason = models.TextField(blank=True)
    content = models.JSONField(default=dict, help_text="What the report showed when issued.")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                  on_delete=models.SET_NULL, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)
    pdf = models.ForeignKey("core.StoredFile", null=True, blank=True, on_delete=models.PROTECT,
                            related_name="+")

    class Meta:
        ordering = ["audit", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["audit", "revision"], name="unique_report_revision")
        ]

    def __str__(self) -> str:
        return f"Report rev. {self.revision} of {self.audit}"
