"""Forms of the impartiality pages: they parse what was posted into typed values for the
services, which enforce the rules. Field names are the services' (``owner_id``,
``attendee_ids`` …) so a refusal lands beside its field."""

from django import forms

from .models import CommitteeMember, ImpartialityRisk, Level, RiskReview
from .selectors import organization_choices, staff_choices

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RiskForm(forms.Form):
    threat = forms.ChoiceField(choices=ImpartialityRisk.Threat.choices, label="Threat")
    source = forms.CharField(max_length=300, label="Source",
                             help_text="Where the threat comes from: a relationship, an "
                                       "activity, a person, a client.")
    organization_id = forms.ModelChoiceField(queryset=organization_choices(), required=False,
                                             label="Client concerned")
    description = forms.CharField(max_length=10000, label="Description",
                                  widget=forms.Textarea(attrs={"rows": 4}))
    likelihood = forms.TypedChoiceField(choices=Level.choices, coerce=int,
                                        initial=Level.MEDIUM, label="Likelihood")
    impact = forms.TypedChoiceField(choices=Level.choices, coerce=int, initial=Level.MEDIUM,
                                    label="Impact")
    safeguard = forms.CharField(max_length=10000, required=False, label="Safeguard",
                                widget=forms.Textarea(attrs={"rows": 3}),
                                help_text="How the threat is eliminated or minimized.")
    owner_id = forms.ModelChoiceField(queryset=staff_choices(), required=False, label="Owner")
    next_review_on = forms.DateField(widget=DATE, required=False, label="Next review",
                                     help_text="Empty: a review interval from today.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization_id"].queryset = organization_choices()
        self.fields["owner_id"].queryset = staff_choices()

    def service_values(self) -> dict:
        data = dict(self.cleaned_data)
        data["organization"] = data.pop("organization_id")
        data["owner"] = data.pop("owner_id")
        return data


class RiskReviewForm(forms.Form):
    outcome = forms.ChoiceField(choices=RiskReview.Outcome.choices, label="Outcome")
    conclusion = forms.CharField(max_length=10000, label="Conclusion",
                                 widget=forms.Textarea(attrs={"rows": 3}))
    reviewed_on = forms.DateField(widget=DATE, required=False, label="Reviewed on",
                                  help_text="Empty: today.")
    next_review_on = forms.DateField(widget=DATE, required=False, label="Next review",
                                     help_text="Empty: a review interval from today.")


class RegisterReviewForm(forms.Form):
    conclusion = forms.CharField(max_length=20000, label="Conclusion",
                                 widget=forms.Textarea(attrs={"rows": 5}),
                                 help_text="What the review of the whole register found.")
    reviewed_on = forms.DateField(widget=DATE, required=False, label="Reviewed on",
                                  help_text="Empty: today.")
    meeting_id = forms.ModelChoiceField(queryset=None, required=False,
                                        label="At the committee meeting")

    def __init__(self, *args, meetings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting_id"].queryset = meetings


class MemberForm(forms.Form):
    name = forms.CharField(max_length=150)
    organization = forms.CharField(max_length=200, required=False,
                                   help_text="The body the member comes from.")
    interest = forms.ChoiceField(choices=CommitteeMember.Interest.choices,
                                 label="Interest represented")
    email = forms.EmailField(max_length=254, label="E-mail address")
    appointed_on = forms.DateField(widget=DATE, label="Appointed on")
    term_ends_on = forms.DateField(widget=DATE, required=False, label="Term ends on")
    active = forms.BooleanField(required=False, initial=True, label="Active")


class MeetingForm(forms.Form):
    date = forms.DateField(widget=DATE, label="Date")
    agenda = forms.CharField(max_length=10000, widget=forms.Textarea(attrs={"rows": 4}))


class HoldForm(forms.Form):
    attendee_ids = forms.ModelMultipleChoiceField(queryset=None, label="Attendees",
                                                  widget=forms.CheckboxSelectMultiple)
    minutes = forms.CharField(max_length=50000, required=False, label="Minutes",
                              widget=forms.Textarea(attrs={"rows": 8}))
    minutes_file = forms.FileField(required=False, label="Minutes file",
                                   help_text="PDF, Office document or image.")
    risk_ids = forms.ModelMultipleChoiceField(queryset=None, required=False,
                                              label="Risks reviewed",
                                              widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, members, risks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendee_ids"].queryset = members
        self.fields["risk_ids"].queryset = risks
