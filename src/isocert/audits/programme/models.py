"""Models of the audit programme: auditor qualifications, certification cycles, audits,
their teams and plans (ISO/IEC 17021-1 §9.1.3, §9.2), with the status table of each
stateful model next to it (``StateMachine.apply`` is the only writer of ``status``)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from isocert.core.dates import display_datetime
from isocert.core.statemachine import StateMachine


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
    # A cycle continued from another CB (IAF MD 2 §2.3): the years up to the transfer were
    # audited by the previous CB, so the surveillance calendar is checked from then on.
    transferred_from = models.CharField(
        max_length=200, blank=True, help_text="The CB that ran this cycle before the transfer.")
    transferred_on = models.DateField(null=True, blank=True)
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
        # Moves a certificate to a standard's new edition (IAF transition notices, e.g.
        # IAF MD 26:2023); usually held with a surveillance or recertification audit.
        TRANSITION = "transition", "Special: edition transition"

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
        indexes = [
            # The audits in progress, a few among a CB's tens of thousands: the reports due
            # (conduct.selectors.reports_due) are found without reading every audit.
            models.Index(fields=["end_date"], condition=models.Q(status="in_progress"),
                         name="audit_in_progress_end"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.cycle.organization}"



AUDIT_LIFECYCLE = StateMachine("audit", {
    "start": ({Audit.Status.PLANNED}, Audit.Status.IN_PROGRESS),
    "cancel": ({Audit.Status.PLANNED}, Audit.Status.CANCELLED),
    # The lead auditor closes the audit once its report is issued (conduct.reports).
    "close": ({Audit.Status.IN_PROGRESS}, Audit.Status.CLOSED),
}, labels=dict(Audit.Status.choices))

# A cycle is active until the recertification decision closes it and starts the next one.
CYCLE_LIFECYCLE = StateMachine("certification cycle", {
    "close": ({CertificationCycle.Status.ACTIVE}, CertificationCycle.Status.CLOSED),
}, labels=dict(CertificationCycle.Status.choices))


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



PLAN_LIFECYCLE = StateMachine("audit plan", {
    "send": ({AuditPlan.Status.DRAFT, AuditPlan.Status.CHANGES_REQUESTED}, AuditPlan.Status.SENT),
    "confirm": ({AuditPlan.Status.SENT}, AuditPlan.Status.CONFIRMED),
    "request_changes": ({AuditPlan.Status.SENT}, AuditPlan.Status.CHANGES_REQUESTED),
    # The CB takes back a plan the client holds (sent or confirmed) to change it; the next
    # send is a new version the client must confirm again.
    "revise": ({AuditPlan.Status.SENT, AuditPlan.Status.CONFIRMED}, AuditPlan.Status.DRAFT),
}, labels=dict(AuditPlan.Status.choices))


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
    is_remote = models.BooleanField(
        default=False, help_text="Held remotely with ICT (IAF MD 4); the audit's remote "
                                 "arrangement says which ICT and was agreed by the client.")

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                   name="plan_session_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{display_datetime(self.starts_at)} {self.topic}"


class RemoteAudit(models.Model):
    """How an audit uses information and communication technology (IAF MD 4:2022).

    Recorded before the plan is sent: the ICT used, the feasibility and risk assessment
    (connectivity, confidentiality and security of information, what can and cannot be
    seen remotely — MD 4 §4.1, §4.2), the share of the audit time held remotely, and the
    client's agreement (MD 4 §4.1, §4.2). The audit time stays the same (MD 4 §4.2); whether the
    remote part counts as on-site time is the CB's setting ``REMOTE_COUNTS_AS_ONSITE``.
    """

    audit = models.OneToOneField(Audit, on_delete=models.CASCADE, related_name="remote")
    ict_used = models.TextField(help_text="E.g. video conference, screen sharing, remote "
                                          "access to the document system, drones.")
    remote_share_percent = models.PositiveSmallIntegerField(
        help_text="Share of the audit time held remotely, 1–100 %.")
    connectivity = models.TextField(help_text="Bandwidth, stability, fallback.")
    confidentiality = models.TextField(help_text="Security and confidentiality of the "
                                                 "information shared, recordings.")
    visible_remotely = models.TextField(help_text="What can be audited remotely.")
    not_visible_remotely = models.TextField(
        help_text="What cannot be seen remotely and is audited on site (or not at all).")
    feasible = models.BooleanField(default=False,
                                   help_text="The assessment concludes remote auditing works.")
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    assessed_at = models.DateTimeField(null=True, blank=True)
    client_agreed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")
    client_agreed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Remote arrangement of {self.audit}"

    @property
    def agreed(self) -> bool:
        return self.client_agreed_at is not None
