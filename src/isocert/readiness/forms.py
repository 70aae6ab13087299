from django import forms

from isocert.catalog.selectors import standards_current

from .models import EnergyReviewFacts, GapItem

YES_NO = [("", "— not decided —"), ("yes", "Applicable"), ("no", "Excluded")]


class StartAssessmentForm(forms.Form):
    standard = forms.ChoiceField(label="Standard")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A placeholder first: without one the browser shows the first standard (ISO 14001)
        # as if chosen. The view pre-selects the client's own standard (``initial``).
        self.fields["standard"].choices = [("", "— choose a standard —")] + [
            (s.code, f"{s} — {s.title}") for s in standards_current()]


class GapItemForm(forms.Form):
    """One row's answer; the hidden version makes a stale save fail instead of overwrite."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=GapItem.Status.choices, label="Status")
    justification = forms.CharField(
        required=False, max_length=5000, label="Why not applicable",
        widget=forms.Textarea(attrs={"rows": 2}), help_text="Required when not applicable.")
    notes = forms.CharField(required=False, max_length=5000, label="Notes",
                            widget=forms.Textarea(attrs={"rows": 3}))
    owner_id = forms.ChoiceField(required=False, label="Owner")

    def __init__(self, *args, item: GapItem, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.item = item
        prefix = f"row{item.pk}"
        self.auto_id = f"id_{prefix}_%s"
        self.fields["owner_id"].choices = [("", "— nobody —")] + [
            (str(user.pk), str(user)) for user in members]
        if item.clause.group == "annex_a":
            self.fields["soa_applicable"] = forms.ChoiceField(
                required=False, choices=YES_NO, label="Statement of Applicability")
            self.fields["soa_justification"] = forms.CharField(
                required=False, max_length=5000, label="SoA justification",
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text="Why the control is included or excluded.")
            self.fields["soa_implementation"] = forms.ChoiceField(
                required=False, label="Implementation",
                choices=[("", "—"), *GapItem.Implementation.choices])

    @classmethod
    def initial_for(cls, item: GapItem) -> dict:
        initial = {"version": item.version, "status": item.status,
                   "justification": item.justification, "notes": item.notes,
                   "owner_id": str(item.owner_id or "")}
        if item.clause.group == "annex_a":
            initial.update(
                soa_applicable={True: "yes", False: "no"}.get(item.soa_applicable, ""),
                soa_justification=item.soa_justification,
                soa_implementation=item.soa_implementation)
        return initial

    def service_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        if "soa_applicable" in data:
            data["soa_applicable"] = {"yes": True, "no": False}.get(data["soa_applicable"])
        return data


class EvidenceForm(forms.Form):
    title = forms.CharField(required=False, max_length=200, label="Title",
                            help_text="Defaults to the file name or the link.")
    file = forms.FileField(required=False, label="File",
                           help_text="PDF, Office document or image.")
    link = forms.CharField(required=False, max_length=500, label="…or a link",
                           help_text="e.g. https://intranet.example/policy")


SEU_ROWS = 6


class EnergyFactsForm(forms.Form):
    annual_consumption = forms.DecimalField(min_value=0, max_digits=16, decimal_places=3,
                                            label="Annual energy consumption")
    unit = forms.ChoiceField(choices=EnergyReviewFacts.Unit.choices, label="Unit",
                             help_text="Kept in TJ exactly: 1 kWh = 0.0000036 TJ, "
                                       "1 MWh = 0.0036 TJ, 1 GJ = 0.001 TJ.")
    energy_types = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                                   label="Energy types, one per line",
                                   help_text="e.g. electricity, natural gas, diesel")
    enpis = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                            label="Declared energy performance indicators (EnPIs)")
    baseline = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                               label="Energy baseline (period and basis)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(SEU_ROWS):
            self.fields[f"seu_{i}_name"] = forms.CharField(
                required=False, max_length=150, label=f"Significant energy use {i + 1}")
            self.fields[f"seu_{i}_share"] = forms.DecimalField(
                required=False, max_digits=5, decimal_places=2,
                label=f"Share of consumption {i + 1} (%)")

    @classmethod
    def initial_for(cls, facts) -> dict:
        if facts is None:
            return {"unit": "MWh"}
        initial = {"annual_consumption": facts.annual_consumption, "unit": facts.unit,
                   "energy_types": "\n".join(facts.energy_types), "enpis": facts.enpis,
                   "baseline": facts.baseline}
        for i, use in enumerate(list(facts.significant_uses.all())[:SEU_ROWS]):
            initial[f"seu_{i}_name"] = use.name
            initial[f"seu_{i}_share"] = use.share_percent
        return initial

    def service_data(self) -> tuple[dict, dict]:
        data = self.cleaned_data
        uses, field_map = [], {}
        for i in range(SEU_ROWS):
            if data.get(f"seu_{i}_name") or data.get(f"seu_{i}_share") is not None:
                field_map[f"significant_uses.{len(uses)}.name"] = f"seu_{i}_name"
                field_map[f"significant_uses.{len(uses)}.share_percent"] = f"seu_{i}_share"
                uses.append({"name": data.get(f"seu_{i}_name"),
                             "share_percent": data.get(f"seu_{i}_share")})
        field_map["significant_uses"] = "seu_0_share"
        return ({"annual_consumption": data["annual_consumption"], "unit": data["unit"],
                 "energy_types": [t for t in data["energy_types"].splitlines() if t.strip()],
                 "significant_uses": uses, "enpis": data["enpis"],
                 "baseline": data["baseline"]}, field_map)


class ShareForm(forms.Form):
    standard = forms.CharField(max_length=30)
    shared = forms.BooleanField(required=False)
