from django import forms

from isocert.catalog.selectors import standards_current

from .models import Action, ChecklistItem, InternalFinding
from .selectors import ActionFilters, members_of

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# Where a standard is required, the list starts with this placeholder: without one the
# browser shows the first standard (ISO 14001) as if chosen. Views pre-select the client's
# own standard (``initial``).
CHOOSE_STANDARD = "— choose a standard —"


def _standard_choices(blank: str | None = "—"):
    choices = [(s.code, f"{s} — {s.title}") for s in standards_current()]
    return ([("", blank)] if blank is not None else []) + choices


def _member_choices(organization, blank: str | None = "— nobody yet —"):
    choices = [(str(u.pk), str(u)) for u in members_of(organization=organization)]
    return ([("", blank)] if blank is not None else []) + choices


class ActionForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    standard = forms.ChoiceField(required=False)
    clause = forms.CharField(required=False, max_length=20, label="Clause number",
                             help_text="e.g. 8.5 — optional; needs the standard.")
    owner_id = forms.ChoiceField(required=False, label="Owner",
                                 help_text="A member of the organization.")
    due_date = forms.DateField(required=False, widget=DATE)
    gap_item_id = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["standard"].choices = _standard_choices()
        self.fields["owner_id"].choices = _member_choices(organization)

    @classmethod
    def initial_for(cls, action: Action) -> dict:
        return {"title": action.title, "description": action.description,
                "standard": action.standard.code if action.standard else "",
                "clause": action.clause.number if action.clause else "",
                "owner_id": str(action.owner_id or ""), "due_date": action.due_date}

    def service_data(self, *, with_gap_item=False) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k != "gap_item_id"}
        if with_gap_item and self.cleaned_data.get("gap_item_id"):
            data["gap_item_id"] = self.cleaned_data["gap_item_id"]
        return data


class ActionFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any")] + Action.Status.choices)
    standard = forms.ChoiceField(required=False)
    clause = forms.CharField(required=False, max_length=20,
                             help_text="Includes its sub-clauses.")
    owner = forms.ChoiceField(required=False)
    overdue = forms.BooleanField(required=False, label="Overdue only")

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["standard"].choices = _standard_choices("Any")
        self.fields["owner"].choices = _member_choices(organization, "Anyone")

    def filters(self):
        if not self.is_valid():
            return ActionFilters()
        data = self.cleaned_data
        return ActionFilters(status=data["status"], standard=data["standard"],
                             clause=data["clause"].strip(),
                             owner_id=int(data["owner"]) if data["owner"] else None,
                             overdue=data["overdue"])


class NoteForm(forms.Form):
    text = forms.CharField(label="Progress note", widget=forms.Textarea(attrs={"rows": 3}))


class EvidenceForm(forms.Form):
    title = forms.CharField(max_length=200)
    file = forms.FileField(required=False, help_text="PDF, Office document or image.")
    link = forms.URLField(required=False, max_length=500, assume_scheme="https",
                          help_text="Or a link to where the evidence is kept.")


class InternalAuditForm(forms.Form):
    title = forms.CharField(max_length=200)
    standard = forms.ChoiceField()
    start_date = forms.DateField(widget=DATE)
    end_date = forms.DateField(widget=DATE)
    auditor_ids = forms.MultipleChoiceField(label="Internal auditors",
                                            widget=forms.CheckboxSelectMultiple,
                                            help_text="Members of the organization.")
    clauses = forms.CharField(required=False, label="Clauses in scope",
                              help_text="Numbers separated by commas, e.g. 4.1, 8.5; "
                                        "leave empty for all main clauses (4–10).")
    processes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                label="Processes in scope")
    site_ids = forms.MultipleChoiceField(required=False, label="Sites in scope",
                                         widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["standard"].choices = _standard_choices(CHOOSE_STANDARD)
        self.fields["auditor_ids"].choices = _member_choices(organization, None)
        self.fields["site_ids"].choices = [(str(s.pk), s.name) for s in organization.sites.all()]


class ChecklistItemForm(forms.Form):
    result = forms.ChoiceField(choices=ChecklistItem.Result.choices)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class FindingForm(forms.Form):
    kind = forms.ChoiceField(choices=InternalFinding.Kind.choices)
    clause = forms.CharField(max_length=20, label="Clause number")
    statement = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                               label="Objective evidence")
    file = forms.FileField(required=False, label="Evidence file")
    owner_id = forms.ChoiceField(required=False, label="Corrective action owner",
                                 help_text="Nonconformities only; a member of the organization.")
    due_date = forms.DateField(required=False, widget=DATE, label="Corrective action due",
                               help_text="Nonconformities only; default 30 days after the audit.")

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_id"].choices = _member_choices(organization)


class CompleteAuditForm(forms.Form):
    conclusion = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class ManagementReviewForm(forms.Form):
    standard = forms.ChoiceField()
    date = forms.DateField(widget=DATE)
    attendees = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                                help_text="Names and roles, one per line.")
    decisions = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["standard"].choices = _standard_choices(CHOOSE_STANDARD)


class ReviewInputsForm(forms.Form):
    """One "covered" box and one notes field per input of the review."""

    def __init__(self, *args, review, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for row in review.inputs.all():
            covered, notes = f"covered__{row.key}", f"notes__{row.key}"
            self.fields[covered] = forms.BooleanField(required=False, label=row.label,
                                                      initial=row.covered)
            self.fields[notes] = forms.CharField(
                required=False, initial=row.notes, label=f"Notes: {row.label}",
                widget=forms.Textarea(attrs={"rows": 2}))
            self.rows.append((row.key, self[covered], self[notes]))

    def service_inputs(self) -> list[dict]:
        return [{"key": key, "covered": self.cleaned_data[f"covered__{key}"],
                 "notes": self.cleaned_data[f"notes__{key}"]} for key, _, _ in self.rows]


class DecisionsForm(forms.Form):
    decisions = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
