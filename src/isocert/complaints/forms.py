"""Forms of the complaint and appeal pages: they parse what was posted into typed values
for the services, which enforce the rules."""

from django import forms

from isocert.audits.models import Finding

from .models import Complaint
from .selectors import staff_choices


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern); each is checked by the
    service with ``core.files.check_upload``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


class ComplaintForm(forms.Form):
    name = forms.CharField(max_length=150, label="Your name")
    email = forms.EmailField(max_length=254, label="Your e-mail address",
                             help_text="We send the acknowledgment and the outcome here.")
    organization_name = forms.CharField(max_length=200, required=False,
                                        label="Organization complained about",
                                        help_text="If the complaint is about a certified "
                                                  "organization.")
    certificate_number = forms.CharField(max_length=60, required=False,
                                         label="Its certificate number", help_text="If known.")
    subject = forms.CharField(max_length=200)
    description = forms.CharField(max_length=10000, widget=forms.Textarea(attrs={"rows": 8}),
                                  label="What happened")
    attachments = MultipleFileField(required=False, label="Attachments",
                                    help_text="Up to 5 files: PDF, Office documents or "
                                              "images.")


class ClassifyForm(forms.Form):
    relates_to = forms.ChoiceField(choices=Complaint.Relates.choices, label="Relates to")
    certificate_id = forms.ChoiceField(required=False, label="Certificate",
                                       help_text="Required for a certified client.")
    audit_ids = forms.MultipleChoiceField(required=False, label="Audits complained about",
                                          widget=forms.CheckboxSelectMultiple)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, certificates, audits, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["certificate_id"].choices = [("", "—")] + [
            (str(c.pk), f"{c.number} — {c.organization_name}") for c in certificates]
        self.fields["audit_ids"].choices = [(str(a.pk), str(a)) for a in audits]


class InvestigatorForm(forms.Form):
    investigator_id = forms.ModelChoiceField(queryset=staff_choices(), label="Investigator")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["investigator_id"].queryset = staff_choices()


class InvestigationForm(forms.Form):
    investigation = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}),
                                    label="What the investigation examined and found")


class DecisionForm(forms.Form):
    outcome = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    action = forms.ChoiceField(choices=Complaint.Action.choices, initial="none")
    action_reason = forms.CharField(required=False, label="Reason for the action",
                                    help_text="Defaults to the outcome.")


class ApprovalForm(forms.Form):
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                            label="Review notes", help_text="What you checked (optional).")


class ReturnOutcomeForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                             label="Why the outcome is not approved")


class TextForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="Message")


class OutcomeForm(forms.Form):
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}),
                           label="Formal notice", help_text="Defaults to the decided outcome.")


class ResponseForm(forms.Form):
    response = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), label="Your response")


# --- appeals -------------------------------------------------------------------------------------

class AppealForm(forms.Form):
    grounds = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}),
                              label="Grounds for the appeal")
    attachments = MultipleFileField(required=False)


class PanelForm(forms.Form):
    member_ids = forms.ModelMultipleChoiceField(queryset=staff_choices(), label="Panel members",
                                                widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member_ids"].queryset = staff_choices()


class StayForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                             label="Why the panel stays the suspension",
                             help_text="The certificate is restored while the appeal runs; "
                                       "dismissed, the suspension resumes.")


class AppealDecisionForm(forms.Form):
    upheld = forms.TypedChoiceField(choices=[("true", "Upheld"), ("false", "Dismissed")],
                                    coerce=lambda value: value == "true",
                                    widget=forms.RadioSelect, label="Outcome")
    reasons = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    new_grade = forms.ChoiceField(required=False, label="New grade of the finding",
                                  help_text="Upheld: the lower grade the finding gets; its "
                                            "corrective action follows the new grade.")

    suspended_until = forms.DateField(
        required=False, label="End of the resumed suspension",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Dismissed, once the stayed suspension's end has passed: its new last day.")

    def __init__(self, *args, finding=None, stayed: bool = False, **kwargs):
        """``finding``: the finding of a grading appeal; without one there is no grade.
        ``stayed``: the panel stayed the suspension appealed (the resumed end is asked)."""
        super().__init__(*args, **kwargs)
        if not stayed:
            del self.fields["suspended_until"]
        if finding is None:
            del self.fields["new_grade"]
        else:
            self.fields["new_grade"].choices = [("", "—")] + [
                choice for choice in Finding.Grade.choices if choice[0] != finding.grade]
