"""Models of an audit's conduct: records, clause coverage, findings, the client's
corrective-action answers and the issued reports (ISO/IEC 17021-1 §9.4), with the
findings' status table next to the model."""

from django.conf import settings
from django.db import models

from isocert.core.statemachine import StateMachine

from ..programme.models import Audit


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



# A nonconformity's corrective action: open or returned → submitted → returned | plan
# accepted | verified. Majors end verified (implementation), minors plan accepted;
# observations and opportunities need no answer (n/a). While the client has not answered,
# a corrected grade moves a finding between open and n/a.
FINDING_LIFECYCLE = StateMachine("corrective action", {
    "submit": ({Finding.Status.OPEN, Finding.Status.RETURNED, Finding.Status.PLAN_ACCEPTED},
               Finding.Status.SUBMITTED),
    "return": ({Finding.Status.SUBMITTED}, Finding.Status.RETURNED),
    "accept": ({Finding.Status.SUBMITTED}, Finding.Status.PLAN_ACCEPTED),
    "verify": ({Finding.Status.SUBMITTED}, Finding.Status.VERIFIED),
    "regrade_nonconformity": ({Finding.Status.OPEN, Finding.Status.NOT_APPLICABLE},
                              Finding.Status.OPEN),
    "regrade_no_action": ({Finding.Status.OPEN, Finding.Status.NOT_APPLICABLE},
                          Finding.Status.NOT_APPLICABLE),
    # An upheld appeal against the grading (ISO/IEC 17021-1 §9.7) may turn a nonconformity
    # into an observation or opportunity at any point of its corrective action: nothing
    # more is expected of the client (its answers stay on record).
    "regrade_on_appeal_no_action": ({Finding.Status.OPEN, Finding.Status.SUBMITTED,
                                     Finding.Status.RETURNED, Finding.Status.PLAN_ACCEPTED,
                                     Finding.Status.VERIFIED}, Finding.Status.NOT_APPLICABLE),
}, labels=dict(Finding.Status.choices))


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
