"""Forms of the energy pages: they check the shape and give the services typed values
(ids as ints, dates as dates, ``service_data()`` as the service's keyword arguments);
the services check the rules."""

import re

from django import forms

from .importer import (
    DATE_ORDERS,
    DECIMAL_SEPARATORS,
    FREQUENCIES,
    THOUSANDS_SEPARATORS,
    ColumnChoice,
    Detected,
    MappingChoice,
)
from .models import EnPI, NonRoutineAdjustment, RelevantVariable

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ServiceForm(forms.Form):
    """A form whose cleaned fields are named as the service's keyword arguments."""

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class MeterForm(ServiceForm):
    name = forms.CharField(max_length=120, label="Meter name")
    site_id = forms.TypedChoiceField(required=False, coerce=int, empty_value=None,
                                     label="Site")
    carrier = forms.ChoiceField(label="Energy carrier")
    unit = forms.CharField(max_length=20, label="Unit it reads in",
                           help_text="e.g. kWh, MWh, m³, l, t — one of the carrier's units.")

    def __init__(self, *args, organization, carriers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site_id"].choices = [("", "—")] + [
            (str(s.pk), s.name) for s in organization.sites.all()]
        self.fields["carrier"].choices = [
            (c.code, f"{c.name} ({', '.join(u.unit for u in c.units.all())})") for c in carriers]


class VariableForm(ServiceForm):
    name = forms.CharField(max_length=120, label="Variable name")
    kind = forms.ChoiceField(choices=RelevantVariable.Kind.choices, label="Kind")
    unit = forms.CharField(max_length=30, label="Unit", help_text="e.g. t, K·d, h, persons")


class EnergyUseForm(ServiceForm):
    name = forms.CharField(max_length=120, label="Energy use")
    is_significant = forms.BooleanField(required=False, label="Significant energy use (SEU)")
    meter_ids = forms.TypedMultipleChoiceField(coerce=int, required=False,
                                               widget=forms.CheckboxSelectMultiple,
                                               label="Meters measuring it")

    def __init__(self, *args, meters, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meter_ids"].choices = [(str(m.pk), m.name) for m in meters]


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV or Excel (XLSX) file",
                           help_text="Line 1 names the columns; one line per day, week or month.")


_UNIT_SUFFIX = re.compile(r"\s*[\[(]([^\])]+)[\])]\s*$")
DATE_NAMES = {"date", "day", "month", "week", "datum", "period", "timestamp", "time",
              "date/time", "datetime", "date and time", "zeitstempel"}


def guess_target(header: str, meters, variables) -> str:
    """What a column holds, by its name: the meter or variable it names — its name
    exactly (the unit in brackets aside), else the longest name it contains — or the
    date, start or end of the period."""
    low = header.casefold().strip()
    base = _UNIT_SUFFIX.sub("", low)
    named = [(f"meter:{m.pk}", m.name.casefold()) for m in meters]
    named += [(f"variable:{v.pk}", v.name.casefold()) for v in variables]
    for target, name in named:
        if name == base:
            return target
    contained = [(len(name), target) for target, name in named if name and name in low]
    if contained:
        return max(contained)[1]
    if base in DATE_NAMES:
        return "date"
    if base in {"start", "from", "period start"}:
        return "start"
    if base in {"end", "to", "period end"}:
        return "end"
    return ""


# The form's word for "no thousands separator" (an empty choice means "not chosen").
NO_GROUPING = "none"


class MappingForm(forms.Form):
    """One select per column of the file (what it holds, and its unit), and how the file
    writes numbers and dates: the options start at what the file shows (``detected``);
    one the file leaves open starts empty and must be chosen."""

    frequency = forms.ChoiceField(label="Each line is", required=False)
    decimal_separator = forms.ChoiceField(label="Decimal separator", required=False)
    thousands_separator = forms.ChoiceField(label="Thousands separator", required=False)
    date_order = forms.ChoiceField(label="Date order (dates not written YYYY-MM-DD)",
                                   required=False)

    def __init__(self, *args, headers, meters, variables, units, detected: Detected,
                 guesses: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        self.detected = detected
        choose = [("", "— choose —")]
        self.fields["frequency"].choices = choose + list(FREQUENCIES.items())
        self.fields["decimal_separator"].choices = choose + list(DECIMAL_SEPARATORS.items())
        self.fields["thousands_separator"].choices = choose + [
            (key or NO_GROUPING, label) for key, label in THOUSANDS_SEPARATORS.items()]
        self.fields["date_order"].choices = choose + list(DATE_ORDERS.items())
        self.initial.setdefault("frequency", detected.frequency or "")
        self.initial.setdefault("decimal_separator", detected.decimal or "")
        if detected.thousands is not None:
            self.initial.setdefault("thousands_separator", detected.thousands or NO_GROUPING)
        self.initial.setdefault("date_order", detected.date_order or "")
        choices = [("", "— ignore —"), ("date", "Date (day, first day of week or month, or "
                                                 "date and time of an interval)"),
                   ("start", "Period start"), ("end", "Period end")]
        choices += [(f"meter:{m.pk}", f"Meter: {m.name} ({m.unit})") for m in meters]
        choices += [(f"variable:{v.pk}", f"Variable: {v.name} ({v.unit})") for v in variables]
        unit_choices = [("", "the meter's unit")] + [(u, u) for u in units]
        self.columns = []
        for i, header in enumerate(headers):
            target = forms.ChoiceField(required=False, choices=choices,
                                       label=f"Column “{header}”", initial=guesses[i])
            unit_match = _UNIT_SUFFIX.search(header)
            guessed_unit = unit_match.group(1).strip() if unit_match else ""
            unit = forms.ChoiceField(required=False, choices=unit_choices,
                                     label=f"Unit of “{header}”",
                                     initial=guessed_unit if guessed_unit in units else "")
            self.fields[f"col_{i}"] = target
            self.fields[f"unit_{i}"] = unit
            self.columns.append((header, f"col_{i}", f"unit_{i}"))

    def bound_columns(self):
        for header, target, unit in self.columns:
            yield {"header": header, "target": self[target], "unit": self[unit]}

    def mapping(self) -> MappingChoice:
        periods, columns = {}, []
        for header, target_name, unit_name in self.columns:
            target = self.cleaned_data.get(target_name) or ""
            if target in ("date", "start", "end"):
                periods[target] = header
            elif target.startswith("meter:"):
                columns.append(ColumnChoice(column=header, meter_id=int(target[6:]),
                                            unit=self.cleaned_data.get(unit_name) or ""))
            elif target.startswith("variable:"):
                columns.append(ColumnChoice(column=header, variable_id=int(target[9:])))
        data = self.cleaned_data
        thousands = data.get("thousands_separator") or None
        return MappingChoice(
            frequency=data.get("frequency") or "", columns=tuple(columns),
            decimal_separator=data.get("decimal_separator") or None,
            thousands_separator="" if thousands == NO_GROUPING else thousands,
            date_order=data.get("date_order") or None, **periods)


class BaselineForm(ServiceForm):
    name = forms.CharField(max_length=120, label="Baseline name",
                           help_text="e.g. “EnB 2024 — production and HDD”")
    period_start = forms.DateField(widget=DATE, label="Baseline period from")
    period_end = forms.DateField(widget=DATE, label="Baseline period to")
    variable_ids = forms.TypedMultipleChoiceField(coerce=int,
                                                  widget=forms.CheckboxSelectMultiple,
                                                  label="Relevant variables")
    meter_ids = forms.TypedMultipleChoiceField(coerce=int, required=False,
                                               widget=forms.CheckboxSelectMultiple,
                                               label="Meters (none ticked = all meters)")

    def __init__(self, *args, meters, variables, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["variable_ids"].choices = [(str(v.pk), f"{v.name} ({v.unit})")
                                               for v in variables]
        self.fields["meter_ids"].choices = [(str(m.pk), m.name) for m in meters]


class ReportingPeriodForm(ServiceForm):
    name = forms.CharField(max_length=120, required=False, label="Name",
                           help_text="e.g. “2025 H1”; the dates when left empty")
    period_start = forms.DateField(widget=DATE, label="Reporting period from")
    period_end = forms.DateField(widget=DATE, label="Reporting period to")


class EnPIForm(ServiceForm):
    name = forms.CharField(max_length=120, label="EnPI name")
    kind = forms.ChoiceField(choices=EnPI.Kind.choices, label="Kind")
    variable_id = forms.TypedChoiceField(required=False, coerce=int, empty_value=None,
                                         label="Variable (ratio EnPI)")
    baseline_id = forms.TypedChoiceField(required=False, coerce=int, empty_value=None,
                                         label="Baseline (regression EnPI)")
    meter_ids = forms.TypedMultipleChoiceField(coerce=int, required=False,
                                               widget=forms.CheckboxSelectMultiple,
                                               label="Meters (ratio EnPI; none ticked = all)")

    def __init__(self, *args, meters, variables, baselines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["variable_id"].choices = [("", "—")] + [
            (str(v.pk), f"{v.name} ({v.unit})") for v in variables]
        self.fields["baseline_id"].choices = [("", "—")] + [
            (str(b.pk), b.name) for b in baselines]
        self.fields["meter_ids"].choices = [(str(m.pk), m.name) for m in meters]


class AdjustmentForm(ServiceForm):
    factor = forms.ChoiceField(choices=NonRoutineAdjustment.Factor.choices,
                               label="Static factor that changed")
    effective_from = forms.DateField(widget=DATE, label="Changed on")
    effective_to = forms.DateField(widget=DATE, label="kWh below cover the days up to",
                                   help_text="Inclusive; the kWh are spread evenly over the "
                                             "days from the change to this date.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
                             label="Reason", help_text="What changed and why.")
    method = forms.ChoiceField(choices=NonRoutineAdjustment.Method.choices,
                               label="Method of quantification")
    calculation = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                                  max_length=2000, label="Calculation",
                                  help_text="e.g. “2,400 m² × 85 kWh/m²·a × 92/365 d”.")
    kwh = forms.DecimalField(max_digits=20, decimal_places=3, label="kWh",
                             help_text="Positive adds to the expected consumption (new load), "
                                       "negative takes away (a shut building).")
