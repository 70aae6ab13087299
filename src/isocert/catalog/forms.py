"""The public audit-day estimator's form: the engine's input as plain fields."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from .audittime import COMPLEXITY_LEVELS, ENMS

# (field prefix, engine code, label); the prefixes keep the result URL short and readable.
ESTIMATOR_STANDARDS = [
    ("iso9001", "ISO 9001", "ISO 9001 — quality management"),
    ("iso14001", "ISO 14001", "ISO 14001 — environmental management"),
    ("iso45001", "ISO 45001", "ISO 45001 — occupational health and safety"),
    ("iso27001", "ISO/IEC 27001", "ISO/IEC 27001 — information security"),
    ("iso50001", "ISO 50001", "ISO 50001 — energy management"),
]
ADJUSTMENT_ROWS = 3
COMPLEXITY_HELP = {
    "ISO 14001": "From the nature, number and severity of your environmental aspects.",
    "ISO 45001": "From the nature and severity of your OH&S risks.",
}
# Engine field of a standard -> suffix of the form field.
_STANDARD_INPUTS = {
    "code": "", "effective_personnel": "_personnel", "complexity": "_complexity",
    "annual_energy_consumption_tj": "_energy_tj", "energy_types": "_energy_types",
    "significant_energy_uses": "_seus",
}


class AuditTimeEstimateForm(forms.Form):
    """Per standard a tick box and its inputs, up to three adjustments, integration, sites.

    ``engine_input()`` gives the engine's JSON input and remembers which form field
    each of its dotted fields came from, so ``add_engine_errors()`` can put the
    engine's refusal next to the right input.
    """

    integration_reduction_percent = forms.DecimalField(
        required=False, min_value=0, max_value=20, max_digits=4, decimal_places=2,
        label="Integration reduction (%)",
        help_text="For an integrated management system covering two or more of the standards, "
                  "0 to 20 % (IAF MD 11).")
    sites = forms.IntegerField(
        required=False, min_value=0, max_value=100_000,
        label="Sites besides the central function",
        help_text="Leave empty for a single site.")
    sampling_allowed = forms.BooleanField(
        required=False, label="Sampling allowed (IAF MD 1: the sites run similar processes "
                              "under one management system)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.blocks = []
        for prefix, code, label in ESTIMATOR_STANDARDS:
            names = {"selected": prefix, "personnel": f"{prefix}_personnel"}
            self.fields[prefix] = forms.BooleanField(required=False, label=label)
            self.fields[names["personnel"]] = forms.DecimalField(
                required=False, min_value=1, max_digits=9, decimal_places=2,
                label="Effective personnel (FTE)",
                help_text="Full-time equivalents working under this management system.")
            if code in COMPLEXITY_LEVELS:
                names["complexity"] = f"{prefix}_complexity"
                self.fields[names["complexity"]] = forms.ChoiceField(
                    required=False, label="Complexity category", help_text=COMPLEXITY_HELP[code],
                    choices=[("", "—"), *((level, level.capitalize())
                                          for level in COMPLEXITY_LEVELS[code])])
            if code == ENMS:
                names.update(energy_tj=f"{prefix}_energy_tj",
                             energy_types=f"{prefix}_energy_types", seus=f"{prefix}_seus")
                self.fields[names["energy_tj"]] = forms.DecimalField(
                    required=False, min_value=0.001, max_digits=12, decimal_places=3,
                    label="Annual energy consumption (TJ)", help_text="1 TJ = 277,778 kWh.")
                self.fields[names["energy_types"]] = forms.IntegerField(
                    required=False, min_value=1, max_value=1000, label="Number of energy types",
                    help_text="e.g. electricity, natural gas, diesel = 3")
                self.fields[names["seus"]] = forms.IntegerField(
                    required=False, min_value=1, max_value=1000,
                    label="Number of significant energy uses (SEUs)")
            self.blocks.append({"prefix": prefix, "code": code, "energy": code == ENMS,
                                "names": names})
        for row in range(1, ADJUSTMENT_ROWS + 1):
            self.fields[f"adjustment{row}_reason"] = forms.CharField(
                required=False, max_length=200, label=f"Reason (adjustment {row})")
            self.fields[f"adjustment{row}_percent"] = forms.DecimalField(
                required=False, max_digits=5, decimal_places=2,
                label=f"Percent (adjustment {row})")
        self.field_map: dict[str, str] = {}

    def bound_blocks(self):
        for block in self.blocks:
            fields = {key: self[name] for key, name in block["names"].items()}
            yield {**block, "selected": fields.pop("selected"), "inputs": list(fields.values())}

    def adjustment_rows(self):
        return [(self[f"adjustment{row}_reason"], self[f"adjustment{row}_percent"])
                for row in range(1, ADJUSTMENT_ROWS + 1)]

    @property
    def has_field_errors(self) -> bool:
        return any(name != NON_FIELD_ERRORS for name in self.errors)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("sampling_allowed") and cleaned.get("sites") is None:
            self.add_error("sites", "Give the number of sites, or untick sampling.")
        return cleaned

    def engine_input(self) -> dict:
        """The engine's input from the cleaned data; fills ``field_map``."""
        data = self.cleaned_data
        self.field_map = {}
        standards = []
        for prefix, code, _ in ESTIMATOR_STANDARDS:
            if not data.get(prefix):
                continue
            index = len(standards)
            standard = {"code": code, "effective_personnel": data.get(f"{prefix}_personnel")}
            for engine_name, suffix in _STANDARD_INPUTS.items():
                if f"{prefix}{suffix}" not in self.fields:
                    continue
                self.field_map[f"standards.{index}.{engine_name}"] = f"{prefix}{suffix}"
                if engine_name not in ("code", "effective_personnel"):
                    value = data.get(f"{prefix}{suffix}")
                    if value not in (None, ""):
                        standard[engine_name] = value
            standards.append(standard)
        result = {"standards": standards}

        adjustments = []
        for row in range(1, ADJUSTMENT_ROWS + 1):
            reason = data.get(f"adjustment{row}_reason", "")
            percent = data.get(f"adjustment{row}_percent")
            if not reason and percent is None:
                continue
            index = len(adjustments)
            adjustments.append({"reason": reason, "percent": percent})
            self.field_map[f"adjustments.{index}.reason"] = f"adjustment{row}_reason"
            self.field_map[f"adjustments.{index}.percent"] = f"adjustment{row}_percent"
        if adjustments:
            result["adjustments"] = adjustments

        if data.get("integration_reduction_percent") is not None:
            result["integration_reduction_percent"] = data["integration_reduction_percent"]
            self.field_map["integration_reduction_percent"] = "integration_reduction_percent"
        if data.get("sites") is not None:
            result["sites"] = {"count": data["sites"],
                               "sampling_allowed": bool(data.get("sampling_allowed"))}
            self.field_map["sites.count"] = "sites"
            self.field_map["sites.sampling_allowed"] = "sampling_allowed"
        return result

    def add_engine_errors(self, fields: dict[str, str]) -> None:
        """Show the engine's refusals ("must be at least 1") on the inputs they came from."""
        for engine_field, message in fields.items():
            if engine_field == "standards":
                self.add_error(None, "Tick at least one standard and give its effective "
                                     "personnel.")
                continue
            name = self.field_map.get(engine_field)
            if name is None:
                self.add_error(None, f"{engine_field}: {message}")
            else:
                self.add_error(name, message[:1].upper() + message[1:])
