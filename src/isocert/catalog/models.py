"""Catalog data: shipped reference files (standards, clauses, sectors, countries) and the
ISO 50003 audit-day table that the certification body enters itself."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from isocert.core.dates import display_date


class Country(models.Model):
    code = models.CharField(max_length=2, primary_key=True, help_text="ISO 3166-1 alpha-2")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "countries"

    def __str__(self) -> str:
        return self.name


class Sector(models.Model):
    """An IAF technical sector (IAF ID 1 / EA code)."""

    code = models.PositiveSmallIntegerField(primary_key=True)
    name = models.CharField(max_length=150)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"IAF {self.code} — {self.name}"


class Standard(models.Model):
    code = models.CharField(max_length=30, help_text='e.g. "ISO 9001"')
    edition = models.CharField(max_length=10, help_text='e.g. "2015"')
    title = models.CharField(max_length=200)
    data_version = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True)

    class Meta:
        ordering = ["code", "-edition"]
        constraints = [
            models.UniqueConstraint(fields=["code", "edition"], name="unique_standard_edition")
        ]

    def __str__(self) -> str:
        return f"{self.code}:{self.edition}"

    @property
    def slug(self) -> str:
        return self.code.lower().replace("/", "-").replace(" ", "-")

    @property
    def is_energy(self) -> bool:
        return self.code == "ISO 50001"


class Clause(models.Model):
    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="clauses")
    group = models.CharField(max_length=20, default="clauses", help_text='"clauses" or "annex_a"')
    number = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    guidance = models.TextField()
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="children")
    depth = models.PositiveSmallIntegerField(default=0)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["standard", "position"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "number"], name="unique_clause_number")
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


def validate_positive_days(value):
    if value is not None and value <= 0:
        raise ValidationError("Audit days must be more than 0.")


class EnmsDayTableRow(models.Model):
    """One personnel band of the ISO 50003 audit-day table, as the CB entered it.

    ISO 50003's figures are copyrighted and were never confirmed from a public
    source, so none are shipped: until a CB administrator enters them from the
    CB's licensed copy, ISO 50001 estimates say the table is not configured.
    """

    personnel_min = models.PositiveIntegerField(
        "effective personnel from", validators=[MinValueValidator(1)],
        help_text="Lowest effective personnel (FTE, rounded up) of this band, at least 1.")
    personnel_max = models.PositiveIntegerField(
        "effective personnel to", null=True, blank=True,
        help_text="Highest effective personnel of this band; leave empty for the last, "
                  "open-ended band (e.g. \"more than 1000\").")
    high = models.DecimalField("days, high complexity", max_digits=6, decimal_places=2,
                               validators=[validate_positive_days])
    medium = models.DecimalField("days, medium complexity", max_digits=6, decimal_places=2,
                                 validators=[validate_positive_days])
    low = models.DecimalField("days, low complexity", max_digits=6, decimal_places=2,
                              validators=[validate_positive_days])

    class Meta:
        ordering = ["personnel_min"]
        verbose_name = "ISO 50003 audit-day table row"
        verbose_name_plural = "ISO 50003 audit-day table"
        constraints = [
            models.UniqueConstraint(fields=["personnel_min"], name="unique_enms_band_start"),
            models.CheckConstraint(condition=models.Q(personnel_min__gte=1),
                                   name="enms_band_starts_at_one_or_more"),
            models.CheckConstraint(
                condition=models.Q(personnel_max__isnull=True)
                | models.Q(personnel_max__gte=models.F("personnel_min")),
                name="enms_band_max_not_below_min"),
            models.CheckConstraint(
                condition=models.Q(high__gt=0, medium__gt=0, low__gt=0),
                name="enms_band_days_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.band_label} persons"

    @property
    def band_label(self) -> str:
        if self.personnel_max is None:
            return f"{self.personnel_min}+"
        return f"{self.personnel_min}–{self.personnel_max}"

    def clean(self):
        super().clean()
        if self.personnel_min is None:
            return
        if self.personnel_max is not None and self.personnel_max < self.personnel_min:
            raise ValidationError({"personnel_max": "Must not be below \"effective personnel "
                                                    "from\"."})
        # Bands must not overlap, or one head count would have two audit times.
        others = EnmsDayTableRow.objects.exclude(pk=self.pk).filter(
            models.Q(personnel_max__isnull=True) | models.Q(personnel_max__gte=self.personnel_min))
        if self.personnel_max is not None:
            others = others.filter(personnel_min__lte=self.personnel_max)
        overlapping = others.order_by("personnel_min").first()
        if overlapping is not None:
            starts_inside = overlapping.personnel_min <= self.personnel_min and (
                overlapping.personnel_max is None
                or self.personnel_min <= overlapping.personnel_max)
            raise ValidationError({
                "personnel_min" if starts_inside else "personnel_max":
                    f"This band overlaps the {overlapping.band_label} band; each effective "
                    "personnel count must fall in exactly one band."})


class EditionTransition(models.Model):
    """A standard edition superseded by a newer one, with the deadline by which certificates
    must move to it — the CB's record of an IAF/ISO transition notice (e.g. IAF MD 26:2023
    for ISO/IEC 27001:2022, IAF ID 9:2015 for ISO 9001:2015).

    None is shipped: a CB administrator enters each pair from the notice
    (``catalog.transitions.record_transition``). The from-edition is then superseded: it is
    no longer offered for new applications and gap analyses (``Standard.is_current``),
    certificates on it show the deadline, and the daily run expires those not transitioned
    by then. One transition per from-edition.
    """

    from_standard = models.OneToOneField(Standard, on_delete=models.PROTECT,
                                         related_name="transition",
                                         help_text="The superseded edition.")
    to_standard = models.ForeignKey(Standard, on_delete=models.PROTECT,
                                    related_name="transitions_into",
                                    help_text="The new edition (same standard code).")
    deadline = models.DateField(help_text="End of the transition period: certificates not "
                                "transitioned are no longer valid after this day.")
    extra_audit_days = models.DecimalField(
        max_digits=4, decimal_places=1, default=0, validators=[MinValueValidator(0)],
        help_text="Auditor days the CB adds to an audit for the transition (half days).")
    extra_audit_percent = models.PositiveSmallIntegerField(
        default=0, help_text="Share of the combined audit's time the CB adds, in percent.")
    notice_reference = models.CharField(
        max_length=300, help_text='The notice it was entered from, e.g. "IAF MD 26:2023".')
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deadline", "from_standard__code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(extra_audit_days__gte=0),
                                   name="transition_extra_days_not_negative"),
            models.CheckConstraint(
                condition=~models.Q(from_standard=models.F("to_standard")),
                name="transition_between_two_editions"),
        ]

    def __str__(self) -> str:
        return f"{self.from_standard} → {self.to_standard} by {display_date(self.deadline)}"
