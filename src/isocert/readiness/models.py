"""Gap analysis per organization and standard, energy-review facts, and the owner's
choice to share a standard's readiness with the CB."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from isocert.core.statemachine import StateMachine


class GapAssessment(models.Model):
    """One version of an organization's gap analysis against one standard edition.

    Open while being worked on; frozen, it is a read-only snapshot and a new
    version can start from it.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        FROZEN = "frozen", "Frozen"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="gap_assessments")
    standard = models.ForeignKey("catalog.Standard", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField(default=1, help_text="Version number, per standard.")
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="next_versions")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    frozen_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    frozen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["standard__code", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "standard", "number"],
                                    name="unique_gap_assessment_version"),
            models.UniqueConstraint(fields=["organization", "standard"],
                                    condition=Q(status="open"),
                                    name="one_open_gap_assessment_per_standard"),
        ]

    def __str__(self) -> str:
        return f"Gap analysis {self.standard} v{self.number} — {self.organization}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


# A frozen version never reopens: changes go into a new version started from it.
GAP_ASSESSMENT_LIFECYCLE = StateMachine(
    "gap analysis",
    {"freeze": ({GapAssessment.Status.OPEN}, GapAssessment.Status.FROZEN)},
    labels=dict(GapAssessment.Status.choices),
)


class GapItem(models.Model):
    """One clause (or Annex A control) of a gap assessment."""

    class Status(models.TextChoices):
        NOT_ASSESSED = "not_assessed", "Not assessed"
        CONFORMS = "conforms", "Conforms"
        PARTIAL = "partial", "Partially conforms"
        NONCONFORMING = "nonconforming", "Does not conform"
        NOT_APPLICABLE = "not_applicable", "Not applicable"

    class Implementation(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        PARTIAL = "partial", "Partly implemented"
        IMPLEMENTED = "implemented", "Implemented"

    assessment = models.ForeignKey(GapAssessment, on_delete=models.CASCADE, related_name="items")
    clause = models.ForeignKey("catalog.Clause", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NOT_ASSESSED)
    justification = models.TextField(blank=True, help_text="Why not applicable.")
    notes = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    # Statement of Applicability (ISO/IEC 27001 Annex A controls only).
    soa_applicable = models.BooleanField(null=True, blank=True)
    soa_justification = models.TextField(blank=True)
    soa_implementation = models.CharField(max_length=12, choices=Implementation.choices,
                                          blank=True)
    mirrored_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="mirrors",
                                      help_text="Answer copied from another standard's row.")
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["assessment", "clause__position"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "clause"], name="unique_gap_item_clause")
        ]

    def __str__(self) -> str:
        return f"{self.clause.number} {self.get_status_display()}"


class GapEvidence(models.Model):
    """A file or a link that supports a gap-analysis row."""

    item = models.ForeignKey(GapItem, on_delete=models.CASCADE, related_name="evidence")
    title = models.CharField(max_length=200)
    file = models.ForeignKey("core.StoredFile", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    original_name = models.CharField(max_length=255, blank=True,
                                     help_text="The uploaded file's name.")
    link = models.URLField(blank=True, max_length=500)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                 related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(file__isnull=False) | ~Q(link=""),
                                   name="gap_evidence_file_or_link"),
        ]

    def __str__(self) -> str:
        return self.title


class EnergyReviewFacts(models.Model):
    """ISO 50001: the energy-review facts recorded with the gap assessment."""

    class Unit(models.TextChoices):
        KWH = "kWh", "kWh"
        MWH = "MWh", "MWh"
        GJ = "GJ", "GJ"
        TJ = "TJ", "TJ"

    assessment = models.OneToOneField(GapAssessment, on_delete=models.CASCADE,
                                      related_name="energy_facts")
    annual_consumption = models.DecimalField(max_digits=16, decimal_places=3)
    unit = models.CharField(max_length=3, choices=Unit.choices)
    # Ten decimals hold any kWh figure (three decimals) × 0.0000036 exactly.
    annual_consumption_tj = models.DecimalField(max_digits=24, decimal_places=10)
    energy_types = models.JSONField(default=list, help_text="Names, e.g. electricity, natural gas.")
    enpis = models.TextField(blank=True, help_text="Declared energy performance indicators.")
    baseline = models.TextField(blank=True, help_text="Energy baseline: period and basis.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Energy review of {self.assessment}"

    @property
    def consumption_tj_text(self) -> str:
        """The TJ figure without trailing zeros or exponent, e.g. "309.9999996"."""
        return format(self.annual_consumption_tj.normalize(), "f")


class SignificantEnergyUse(models.Model):
    facts = models.ForeignKey(EnergyReviewFacts, on_delete=models.CASCADE,
                              related_name="significant_uses")
    name = models.CharField(max_length=150)
    share_percent = models.DecimalField(max_digits=5, decimal_places=2,
                                        help_text="Share of total consumption, %.")

    class Meta:
        ordering = ["-share_percent", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.share_percent} %)"


class ReadinessShare(models.Model):
    """Whether the organization shares its readiness records for a standard with the CB."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="readiness_shares")
    standard = models.ForeignKey("catalog.Standard", on_delete=models.PROTECT, related_name="+")
    is_shared = models.BooleanField(default=False)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "standard"],
                                    name="unique_readiness_share")
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.standard}: {'shared' if self.is_shared else 'private'}"
