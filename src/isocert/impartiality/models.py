"""Safeguarding impartiality (ISO/IEC 17021-1 §5.2, §6.2).

The CB identifies, analyses, evaluates, treats, monitors and documents the risks to its
impartiality, including those from its relationships and from the relationships of its
personnel (§5.2.3), and shows how it eliminates or minimizes them (§5.2.4). A committee
representing the interested parties, with no single interest predominating, gives input
on its impartiality (§6.2, §5.2.2's mechanism). Each stateful model has its status table
next to it; every move goes through it (``…LIFECYCLE.apply``) and is recorded in the audit
trail by the service that makes it.
"""

from django.conf import settings
from django.db import models

from isocert.core.dates import display_date
from isocert.core.statemachine import StateMachine


class Level(models.IntegerChoices):
    """A three-step scale for likelihood and impact (the CB's own scale: the standard asks
    for the risk to be evaluated, not for a particular method)."""

    LOW = 1, "Low"
    MEDIUM = 2, "Medium"
    HIGH = 3, "High"


class ImpartialityRisk(models.Model):
    """One threat to impartiality in the register (§5.2.3)."""

    class Threat(models.TextChoices):
        # ISO/IEC 17021-1 §4.2, the note's sources of threats, and advocacy as common
        # practice names it (certification-rules.md marks such wording [U]).
        SELF_INTEREST = "self_interest", "Self-interest"
        SELF_REVIEW = "self_review", "Self-review"
        FAMILIARITY = "familiarity", "Familiarity (or trust)"
        INTIMIDATION = "intimidation", "Intimidation"
        ADVOCACY = "advocacy", "Advocacy"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        MITIGATED = "mitigated", "Mitigated"
        RETIRED = "retired", "Retired"

    reference = models.CharField(max_length=30, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN,
                              db_index=True)
    threat = models.CharField(max_length=14, choices=Threat.choices)
    source = models.CharField(max_length=300, help_text="Where the threat comes from.")
    relationship = models.ForeignKey("accounts.ClientRelationship", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+",
                                     help_text="The declared client relationship it "
                                     "comes from, if any.")
    organization = models.ForeignKey("accounts.Organization", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     help_text="The client concerned, if any.")
    description = models.TextField()
    likelihood = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.MEDIUM)
    impact = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.MEDIUM)
    safeguard = models.TextField(blank=True, help_text="How the threat is eliminated or "
                                 "minimized (§5.2.4).")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    next_review_on = models.DateField()
    review_requested = models.CharField(max_length=300, blank=True,
                                        help_text="Why the risk was marked for review "
                                        "before its date (e.g. the relationship ended).")
    reminded_for = models.DateField(null=True, blank=True,
                                    help_text="The review date the daily run last e-mailed "
                                    "about (once per date).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.reference} — {self.get_threat_display()}"

    @property
    def level(self) -> str:
        """Likelihood × impact: 6 or more is high, 3 or more medium, below that low."""
        score = self.likelihood * self.impact
        return "high" if score >= 6 else "medium" if score >= 3 else "low"


_R = ImpartialityRisk.Status
# §5.2.3–5.2.4: a risk is open until a safeguard eliminates or minimizes it; a safeguard
# found wanting reopens it; a risk that no longer exists is retired, never deleted.
RISK_LIFECYCLE = StateMachine("risk", {
    "mitigate": ({_R.OPEN}, _R.MITIGATED),
    "reopen": ({_R.MITIGATED}, _R.OPEN),
    "retire": ({_R.OPEN, _R.MITIGATED}, _R.RETIRED),
}, labels=dict(_R.choices))


class RiskReview(models.Model):
    """One review of a risk: what was concluded and when it is looked at next."""

    class Outcome(models.TextChoices):
        UNCHANGED = "unchanged", "Unchanged"
        MITIGATED = "mitigated", "Safeguard in place: mitigated"
        OPEN = "open", "Safeguard not effective: open"
        RETIRED = "retired", "No longer a threat: retired"

    risk = models.ForeignKey(ImpartialityRisk, on_delete=models.CASCADE,
                             related_name="reviews")
    reviewed_on = models.DateField()
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    conclusion = models.TextField()
    next_review_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-reviewed_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.risk.reference} reviewed {display_date(self.reviewed_on)}"


class CommitteeMember(models.Model):
    """A member of the committee for safeguarding impartiality (§6.2), and the interest
    they represent: clients, clients' customers, industry, regulators, NGOs and consumers,
    the CB itself."""

    class Interest(models.TextChoices):
        CLIENTS = "clients", "Clients"
        CUSTOMERS = "customers", "Clients' customers"
        INDUSTRY = "industry", "Industry associations"
        REGULATORS = "regulators", "Government and regulators"
        NGOS = "ngos", "NGOs and consumers"
        CB = "cb", "The certification body"
        OTHER = "other", "Other"

    name = models.CharField(max_length=150)
    organization = models.CharField(max_length=200, blank=True,
                                    help_text="The body the member comes from.")
    interest = models.CharField(max_length=12, choices=Interest.choices)
    email = models.EmailField()
    appointed_on = models.DateField()
    term_ends_on = models.DateField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-active", "name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_interest_display()})"


class CommitteeMeeting(models.Model):
    """A meeting of the committee: planned, held (attendees and minutes recorded), minutes
    approved."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        HELD = "held", "Held"
        MINUTES_APPROVED = "minutes_approved", "Minutes approved"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED,
                              db_index=True)
    date = models.DateField()
    agenda = models.TextField()
    attendees = models.ManyToManyField(CommitteeMember, blank=True, related_name="meetings")
    minutes = models.TextField(blank=True)
    minutes_file = models.ForeignKey("core.StoredFile", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    minutes_filename = models.CharField(max_length=200, blank=True)
    risks_reviewed = models.ManyToManyField(ImpartialityRisk, blank=True, related_name="+")
    predominant_interest = models.CharField(
        max_length=12, blank=True, choices=CommitteeMember.Interest.choices,
        help_text="An interest that formed a majority of the attendees (§6.2 warns).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    held_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-pk"]

    def __str__(self) -> str:
        return f"Committee meeting of {display_date(self.date)}"


_M = CommitteeMeeting.Status
MEETING_LIFECYCLE = StateMachine("meeting", {
    "hold": ({_M.PLANNED}, _M.HELD),
    "approve_minutes": ({_M.HELD}, _M.MINUTES_APPROVED),
}, labels=dict(_M.choices))


class RegisterReview(models.Model):
    """A review of the whole register, at least every ``IMPARTIALITY_REVIEW_MONTHS``
    (§5.2.3: the risks are monitored and the analysis kept up to date; the interval is the
    CB's), by a person or at a committee meeting."""

    reviewed_on = models.DateField()
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    meeting = models.ForeignKey(CommitteeMeeting, null=True, blank=True,
                                on_delete=models.PROTECT, related_name="register_reviews")
    conclusion = models.TextField()
    open_risks = models.PositiveIntegerField(default=0, help_text="Open risks at the review.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-reviewed_on", "-pk"]

    def __str__(self) -> str:
        return f"Register review of {display_date(self.reviewed_on)}"


class RegisterReviewNotice(models.Model):
    """The daily run's e-mail that the register review fell due: once per due date."""

    due_on = models.DateField(unique=True)
    sent_on = models.DateField()

    def __str__(self) -> str:
        return (f"Register review due {display_date(self.due_on)} "
                f"(told {display_date(self.sent_on)})")
