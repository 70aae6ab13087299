"""ISO 50001 energy performance: meters, energy data, baselines, EnPIs and reporting periods.

Energy is kept in the unit it was metered in (``quantity``) and converted to kWh on
import with the carrier's factor (``kwh``); GJ and TJ are derived from kWh
(1 kWh = 0.0036 GJ). Periods are inclusive: a January reading runs 1–31 January.
"""

from django.conf import settings
from django.db import models

from isocert.core.dates import display_date

KWH_TO_GJ = 0.0036
KWH_TO_TJ = 0.0000036


class EnergyCarrier(models.Model):
    """A form of energy (electricity, natural gas …): CB-maintained data, edited in the admin."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80, unique=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class CarrierUnit(models.Model):
    """A unit a carrier may be metered in, and how many kWh one unit is."""

    carrier = models.ForeignKey(EnergyCarrier, on_delete=models.CASCADE, related_name="units")
    unit = models.CharField(max_length=20, help_text='As written in import files, e.g. "m³".')
    kwh_per_unit = models.DecimalField(max_digits=20, decimal_places=9,
                                       help_text="kWh in one unit (net calorific value).")

    class Meta:
        ordering = ["carrier", "unit"]
        constraints = [models.UniqueConstraint(fields=["carrier", "unit"],
                                               name="unique_unit_per_carrier")]

    def __str__(self) -> str:
        return f"{self.carrier}: 1 {self.unit} = {self.kwh_per_unit.normalize():f} kWh"


class Meter(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="energy_meters")
    name = models.CharField(max_length=120)
    site = models.ForeignKey("accounts.Site", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="energy_meters")
    carrier = models.ForeignKey(EnergyCarrier, on_delete=models.PROTECT, related_name="+")
    unit = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"],
                                               name="unique_meter_name")]

    def __str__(self) -> str:
        return self.name


class EnergyUse(models.Model):
    """A use of energy (furnaces, compressed air …); significant ones are the SEUs."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="energy_uses")
    name = models.CharField(max_length=120)
    is_significant = models.BooleanField(default=False)
    meters = models.ManyToManyField(Meter, blank=True, related_name="uses")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"],
                                               name="unique_energy_use_name")]

    def __str__(self) -> str:
        return self.name


class RelevantVariable(models.Model):
    """A factor that drives consumption: production, degree days, operating hours …"""

    class Kind(models.TextChoices):
        PRODUCTION = "production", "Production"
        HDD = "hdd", "Heating degree days"
        CDD = "cdd", "Cooling degree days"
        OPERATING_HOURS = "operating_hours", "Operating hours"
        OCCUPANCY = "occupancy", "Occupancy"
        OTHER = "other", "Other"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="energy_variables")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    unit = models.CharField(max_length=30, help_text='e.g. "t", "K·d", "h", "persons".')

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"],
                                               name="unique_variable_name")]

    def __str__(self) -> str:
        return self.name


class ImportBatch(models.Model):
    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="energy_imports")
    kind = models.CharField(max_length=4, choices=Format.choices)
    frequency = models.CharField(max_length=10)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField()
    values = models.PositiveIntegerField(help_text="Readings and variable values written.")
    mapping = models.JSONField(default=dict)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-imported_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.rows} rows)"


class Reading(models.Model):
    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="readings")
    period_start = models.DateField()
    period_end = models.DateField(help_text="Inclusive.")
    quantity = models.DecimalField(max_digits=20, decimal_places=6,
                                   help_text="In the meter's unit.")
    kwh = models.DecimalField(max_digits=24, decimal_places=6)
    batch = models.ForeignKey(ImportBatch, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="readings")

    class Meta:
        ordering = ["period_start"]
        constraints = [
            models.UniqueConstraint(fields=["meter", "period_start"], name="unique_reading_period"),
            models.CheckConstraint(condition=models.Q(period_end__gte=models.F("period_start")),
                                   name="reading_period_ordered"),
            models.CheckConstraint(condition=models.Q(quantity__gte=0),
                                   name="reading_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.meter} {self.period_start}–{self.period_end}: {self.quantity}"


class VariableValue(models.Model):
    variable = models.ForeignKey(RelevantVariable, on_delete=models.CASCADE,
                                 related_name="values")
    period_start = models.DateField()
    period_end = models.DateField(help_text="Inclusive.")
    value = models.DecimalField(max_digits=20, decimal_places=6)
    batch = models.ForeignKey(ImportBatch, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="variable_values")

    class Meta:
        ordering = ["period_start"]
        constraints = [
            models.UniqueConstraint(fields=["variable", "period_start"],
                                    name="unique_variable_period"),
            models.CheckConstraint(condition=models.Q(period_end__gte=models.F("period_start")),
                                   name="variable_period_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.variable} {self.period_start}–{self.period_end}: {self.value}"


class Baseline(models.Model):
    """The energy baseline (EnB): a regression of consumption on relevant variables."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="energy_baselines")
    name = models.CharField(max_length=120)
    period_start = models.DateField()
    period_end = models.DateField()
    variables = models.ManyToManyField(RelevantVariable, related_name="baselines")
    meters = models.ManyToManyField(Meter, blank=True, related_name="baselines",
                                    help_text="The consumption modelled; none = all meters.")
    result = models.JSONField(default=dict, help_text="The fit: coefficients, R², p-values …")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_end", "-pk"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"],
                                               name="unique_baseline_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def period_label(self) -> str:
        """The period as data (API, audit trail): "2025-01-01 – 2025-12-31"."""
        return f"{self.period_start:%Y-%m-%d} – {self.period_end:%Y-%m-%d}"

    @property
    def period_text(self) -> str:
        """The period as people read it: "1 Jan 2025 – 31 Dec 2025"."""
        return f"{display_date(self.period_start)} – {display_date(self.period_end)}"

    @property
    def is_usable(self) -> bool:
        """Valid by the M&V rules when fitted (``selectors.baseline_fit`` judges an older
        fit on read; ``selectors.assessed_baselines`` sets ``usable`` for lists)."""
        return bool(getattr(self, "usable", self.result.get("valid")))


class ReportingPeriod(models.Model):
    """A period compared against a baseline; the evaluation is computed on read."""

    baseline = models.ForeignKey(Baseline, on_delete=models.CASCADE,
                                 related_name="reporting_periods")
    name = models.CharField(max_length=120)
    period_start = models.DateField()
    period_end = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_end", "-pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def period_label(self) -> str:
        """The period as data (API, audit trail): "2025-01-01 – 2025-12-31"."""
        return f"{self.period_start:%Y-%m-%d} – {self.period_end:%Y-%m-%d}"

    @property
    def period_text(self) -> str:
        """The period as people read it: "1 Jan 2025 – 31 Dec 2025"."""
        return f"{display_date(self.period_start)} – {display_date(self.period_end)}"


class EnPI(models.Model):
    """An energy performance indicator: a ratio (kWh per unit) or the baseline model's
    actual ÷ expected consumption (below 1 = better than the baseline)."""

    class Kind(models.TextChoices):
        RATIO = "ratio", "kWh per unit of a variable"
        REGRESSION = "regression", "Actual ÷ expected by the baseline model"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="enpis")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    variable = models.ForeignKey(RelevantVariable, null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="enpis")
    baseline = models.ForeignKey(Baseline, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="enpis")
    meters = models.ManyToManyField(Meter, blank=True, related_name="enpis",
                                    help_text="The consumption measured; none = all meters.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"],
                                               name="unique_enpi_name")]

    def __str__(self) -> str:
        return self.name


class NonRoutineAdjustment(models.Model):
    """A non-routine adjustment: a change of a **static factor** — something the baseline
    model holds constant, such as the floor area, the production lines installed or a
    building in use — that changes consumption without being a relevant variable
    (ISO 50001:2018 §6.5 names major changes to static factors as a reason to act on the
    baseline; ISO 50006 and ISO 50015 describe adjusting for them, and IPMVP Core
    Concepts calls this a "non-routine adjustment").

    ``kwh`` is what the change adds to (positive: a new production line, a larger floor
    area) or takes from (negative: a shut building) the consumption expected for
    ``effective_from`` – ``effective_to``, spread evenly over those days; the adjusted
    expected consumption of a reporting period is the model's expectation plus the share of
    each adjustment falling within it (``selectors.adjustments_for``).
    """

    class Factor(models.TextChoices):
        FLOOR_AREA = "floor_area", "Floor area changed"
        PRODUCTION_LINE = "production_line", "Production line added or removed"
        SHUT_DOWN = "shut_down", "Building, site or process shut down"
        EQUIPMENT = "equipment", "Equipment added or removed"
        OPERATING_PATTERN = "operating_pattern", "Operating pattern changed (shifts, hours)"
        OTHER = "other", "Other static factor"

    class Method(models.TextChoices):
        ENGINEERING = "engineering", "Engineering calculation"
        SUBMETER = "submeter", "Measured on a sub-meter"
        PRO_RATA = "pro_rata", "Pro rata (area, capacity or output)"
        MODEL = "model", "Separate model of the affected use"
        OTHER = "other", "Other (described)"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="energy_adjustments")
    factor = models.CharField(max_length=20, choices=Factor.choices)
    effective_from = models.DateField(help_text="The day the static factor changed.")
    effective_to = models.DateField(help_text="The last day the kWh below cover (inclusive).")
    reason = models.TextField(help_text="What changed and why, e.g. “Hall C (2,400 m²) "
                                        "added to the heated area”.")
    method = models.CharField(max_length=20, choices=Method.choices)
    calculation = models.TextField(blank=True, help_text="How the kWh were worked out.")
    kwh = models.DecimalField(max_digits=20, decimal_places=3,
                              help_text="Added to the expected consumption (negative: taken "
                                        "away) over the period covered.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-effective_from", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(effective_to__gte=models.F("effective_from")),
                                   name="adjustment_period_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.get_factor_display()} from {display_date(self.effective_from)}"

    @property
    def days(self) -> int:
        return (self.effective_to - self.effective_from).days + 1
