from urllib.parse import urlencode

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


class GapFilterForm(forms.Form):
    """Which rows the gap analysis page shows: GET parameters, so a filtered list has an
    address to share and the back button returns to it. An unknown value filters nothing."""

    clause = forms.ChoiceField(required=False, label="Clause")
    status = forms.ChoiceField(required=False, label="Status",
                               choices=[("", "Any status"), *GapItem.Status.choices])

    def __init__(self, *args, sections: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.auto_id = "id_filter_%s"
        self.fields["clause"].choices = [("", "All clauses"), *sections]

    def filters(self) -> dict:
        """``{"section", "status"}`` for ``selectors.filter_items``: the valid ones."""
        if not self.is_bound:
            return {"section": "", "status": ""}
        self.is_valid()
        return {"section": self.cleaned_data.get("clause", ""),
                "status": self.cleaned_data.get("status", "")}

    def query(self) -> str:
        """The filter as a query string ("?clause=7&status=partial"), "" for none."""
        filters = self.filters()
        params = {k: v for k, v in (("clause", filters["section"]),
                                    ("status", filters["status"])) if v}
        return "?" + urlencode(params) if params else ""

    def description(self) -> str:
        """The filter in words, e.g. "7 Support, partially conforms"."""
        filters, words = self.filters(), []
        if filters["section"]:
            words.append(dict(self.fields["clause"].choices)[filters["section"]])
        if filters["status"]:
            words.append(GapItem.Status(filters["status"]).label.lower())
        return ", ".join(words)


class GapRowForm(GapItemForm):
    """One row of the several-rows editor. Each field is named after its clause ("Status of
    4.1") and keeps, hidden, the value the person read, so only what they changed is sent:
    a row they did not touch is neither saved nor reported as a conflict. The Statement of
    Applicability stays on the row's own form; an excluded control's status is fixed (not
    applicable) and not offered here."""

    # After a save with conflicts: whether the row was saved, or why not and what was typed.
    saved = False
    conflict = ""
    typed_before: list[tuple[str, str]] = []

    def __init__(self, *args, item: GapItem, members, **kwargs):
        super().__init__(*args, item=item, members=members, prefix=f"row{item.pk}",
                         initial=self.initial_for(item), **kwargs)
        self.auto_id = "id_%s"
        for name in ("soa_applicable", "soa_justification", "soa_implementation"):
            self.fields.pop(name, None)
        if item.soa_applicable is False:
            del self.fields["status"], self.fields["justification"]
        owner = self.fields["owner_id"]
        if item.owner_id and str(item.owner_id) not in dict(owner.choices):
            # Offered as it is: a select that cannot show the owner would change the row.
            owner.choices = [*owner.choices,
                             (str(item.owner_id), f"{item.owner} (no longer a member)")]
        number = item.clause.number
        labels = {"version": f"Version of {number}", "status": f"Status of {number}",
                  "justification": f"Why {number} does not apply",
                  "notes": f"Notes on {number}", "owner_id": f"Owner of {number}"}
        for name, field in self.fields.items():
            field.label = labels[name]
            field.show_hidden_initial = name != "version"
        if "status" in self.fields:
            # portal.js shows the justification when "not applicable" is chosen.
            self.fields["status"].widget.attrs.update({
                "data-shows": f"justification-{item.pk}",
                "data-shows-when": GapItem.Status.NOT_APPLICABLE})
            self.fields["justification"].help_text = ""
            self.fields["justification"].widget.attrs["rows"] = 2
        self.fields["notes"].widget.attrs["rows"] = 2

    @property
    def changed_fields(self) -> list[str]:
        return [name for name in self.changed_data if name != "version"]

    def is_not_applicable(self) -> bool:
        """Whether the row shows "not applicable" (as typed, else as saved): its
        justification field is shown then."""
        if "status" not in self.fields:
            return False
        return self["status"].value() == GapItem.Status.NOT_APPLICABLE

    def shows_justification(self) -> bool:
        return "justification" in self.fields and (
            self.is_not_applicable() or bool(self.is_bound and self["justification"].errors))

    def typed(self) -> list[tuple[str, str]]:
        """The changed fields as the person typed them, e.g. [("Status", "Conforms")]."""
        shown = []
        for name in self.changed_fields:
            value = self.cleaned_data[name]
            if name in ("status", "owner_id"):
                value = dict(self.fields[name].choices).get(value, value)
            shown.append((GapItemForm.base_fields[name].label, str(value or "—")))
        return shown

    def change(self) -> dict:
        """The row for ``services.update_gap_items``: its id, version and changed fields."""
        return {"id": self.item.pk, "version": self.cleaned_data["version"],
                **{name: self.cleaned_data[name] for name in self.changed_fields}}


class GapRowForms:
    """The several-rows editor: one ``GapRowForm`` per row shown, read as one form by
    error_summary.html (its errors name the clause through the fields' labels)."""

    def __init__(self, items: list[GapItem], members, data=None):
        self.forms = [GapRowForm(data, item=item, members=members) for item in items]
        self._errors: list[str] = []

    @property
    def changed(self) -> list[GapRowForm]:
        return [form for form in self.forms if form.is_bound and form.changed_fields]

    def is_valid(self) -> bool:
        valid = [form.is_valid() for form in self.changed]  # every row, for every error
        return all(valid)

    def keep_changed(self, members) -> None:
        """Rows the person did not change are shown afresh (nothing typed is lost)."""
        changed = self.changed
        self.forms = [form if form in changed else GapRowForm(item=form.item, members=members)
                      for form in self.forms]

    def add_error(self, message: str) -> None:
        self._errors.append(message)

    @property
    def errors(self) -> bool:
        return bool(self._errors) or any(form.errors for form in self.changed)

    def non_field_errors(self) -> list[str]:
        return self._errors + [f"{form.item.clause.number}: {error}" for form in self.changed
                               for error in form.non_field_errors()]

    def hidden_fields(self) -> list:
        return [field for form in self.changed for field in form.hidden_fields()]

    def visible_fields(self) -> list:
        return [field for form in self.changed for field in form.visible_fields()]


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
