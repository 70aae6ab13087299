"""Implementation actions, internal audits and management reviews."""

from django.conf import settings
from django.db import models

from isocert.core.dates import display_date
from isocert.core.statemachine import StateMachine


class Action(models.Model):
    """Something to do to close a gap, a nonconformity or a review decision."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="actions")
    standard = models.ForeignKey("catalog.Standard", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    clause = models.ForeignKey("catalog.Clause", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    gap_item = models.ForeignKey("readiness.GapItem", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="actions")
    finding = models.OneToOneField("improvement.InternalFinding", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="corrective_action")
    management_review = models.ForeignKey("improvement.ManagementReview", null=True, blank=True,
                                          on_delete=models.SET_NULL, related_name="actions")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN,
                              db_index=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_reminded_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_closed(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.CANCELLED)


A = Action.Status
ACTION_LIFECYCLE = StateMachine(
    "action",
    {
        "start": ({A.OPEN}, A.IN_PROGRESS),
        "complete": ({A.OPEN, A.IN_PROGRESS}, A.DONE),
        "cancel": ({A.OPEN, A.IN_PROGRESS}, A.CANCELLED),
        "reopen": ({A.DONE, A.CANCELLED}, A.IN_PROGRESS),
    },
    labels=dict(A.choices),
)


class ActionNote(models.Model):
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.text[:60]


class ActionEvidence(models.Model):
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="evidence")
    title = models.CharField(max_length=200)
    file = models.ForeignKey("core.StoredFile", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    link = models.URLField(blank=True, max_length=500)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                 related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title


class InternalAudit(models.Model):
    """An audit of the programme: who audits which clauses, processes and sites, when."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        COMPLETED = "completed", "Completed"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="internal_audits")
    standard = models.ForeignKey("catalog.Standard", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    start_date = models.DateField()
    end_date = models.DateField()
    auditors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+")
    clauses = models.ManyToManyField("catalog.Clause", related_name="+")
    processes = models.TextField(blank=True)
    sites = models.ManyToManyField("accounts.Site", blank=True, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    conclusion = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date"]

    def __str__(self) -> str:
        return self.title


# Completed is final: the checklist, findings and conclusion are the audit's record.
INTERNAL_AUDIT_LIFECYCLE = StateMachine(
    "internal audit",
    {"complete": ({InternalAudit.Status.PLANNED}, InternalAudit.Status.COMPLETED)},
    labels=dict(InternalAudit.Status.choices),
)


class ChecklistItem(models.Model):
    class Result(models.TextChoices):
        NOT_CHECKED = "not_checked", "Not checked"
        CONFORMING = "conforming", "Conforming"
        FINDING = "finding", "Finding raised"

    audit = models.ForeignKey(InternalAudit, on_delete=models.CASCADE, related_name="checklist")
    clause = models.ForeignKey("catalog.Clause", on_delete=models.PROTECT, related_name="+")
    result = models.CharField(max_length=12, choices=Result.choices, default=Result.NOT_CHECKED)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["audit", "clause__position"]
        constraints = [
            models.UniqueConstraint(fields=["audit", "clause"], name="unique_checklist_clause")
        ]

    def __str__(self) -> str:
        return f"{self.clause.number}: {self.get_result_display()}"


class InternalFinding(models.Model):
    class Kind(models.TextChoices):
        NONCONFORMITY = "nonconformity", "Nonconformity"
        OBSERVATION = "observation", "Observation"
        OPPORTUNITY = "opportunity", "Opportunity for improvement"

    audit = models.ForeignKey(InternalAudit, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(max_length=14, choices=Kind.choices)
    clause = models.ForeignKey("catalog.Clause", on_delete=models.PROTECT, related_name="+")
    statement = models.TextField()
    evidence = models.TextField(blank=True)
    file = models.ForeignKey("core.StoredFile", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.clause.number}"


class ManagementReview(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="management_reviews")
    standard = models.ForeignKey("catalog.Standard", on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    attendees = models.TextField(help_text="Names and roles, one per line.")
    decisions = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"Management review {display_date(self.date)} — {self.standard}"


class ReviewInput(models.Model):
    """One input the standard asks the management review to consider, and what was said."""

    review = models.ForeignKey(ManagementReview, on_delete=models.CASCADE, related_name="inputs")
    key = models.CharField(max_length=60)
    label = models.CharField(max_length=250)
    covered = models.BooleanField(default=False)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["review", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["review", "key"], name="unique_review_input")
        ]

    def __str__(self) -> str:
        return self.label
