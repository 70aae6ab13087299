"""Forms of the energy pages: they check the shape and give the services typed values
(ids as ints, dates as dates, ``service_data()`` as the service's keyword arguments);
the services check the rules."""

import re

from django import forms

from .importer import FREQUENCIES, ColumnChoice, MappingChoice
from .models import EnPI, RelevantVariable

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


def _guess(header: str, meters, variables) -> str:
    low = header.lower()
    for meter in meters:
        if meter.name.lower() in low:
            return f"meter:{meter.pk}"
    for variable in variables:
        if variable.name.lower() in low:
            return f"variable:{variable.pk}"
    if low in {"date", "day", "month", "week", "datum", "period"}:
        return "date"
    if low in {"start", "from", "period start"}:
        return "start"
    if low in {"end", "to", "period end"}:
        return "end"
    return ""


class MappingForm(forms.Form):
    """One select per column of the file: what the column holds (and its unit)."""

    frequency = forms.ChoiceField(choices=list(FREQUENCIES.items()), label="Each line is")

    def __init__(self, *args, headers, meters, variables, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        choices = [("", "— ignore —"), ("date", "Date (day, first day of week or month)"),
                   ("start", "Period start"), ("end", "Period end")]
        choices += [(f"meter:{m.pk}", f"Meter: {m.name} ({m.unit})") for m in meters]
        choices += [(f"variable:{v.pk}", f"Variable: {v.name} ({v.unit})") for v in variables]
        unit_choices = [("", "the meter's unit")] + [(u, u) for u in units]
        self.columns = []
        for i, header in enumerate(headers):
            target = forms.ChoiceField(required=False, choices=choices,
                                       label=f"Column “{header}”",
                                       initial=_guess(header, meters, variables))
            unit_match = re.search(r"[\[(]([^\])]+)[\])]\s*$", header)
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
        return MappingChoice(frequency=self.cleaned_data["frequency"], columns=tuple(columns),
                             **periods)


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
