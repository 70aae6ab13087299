"""Forms of the decision and certificate pages. They only shape the input; the services
(``services.decide`` and the lifecycle services) do the domain validation and name the
field when they refuse."""

from django import forms
from django.conf import settings
from django.utils import timezone

from isocert.catalog.models import Standard

from .models import CertificationDecision

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
D = CertificationDecision
SITE_PREFIX = "site_"


class ChecklistKindForm(forms.Form):
    """The GET form that shows the checklist for another kind of decision."""

    kind = forms.ChoiceField(choices=D.Kind.choices, label="Checklist for")


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(choices=D.Kind.choices, label="Kind of decision")
    outcome = forms.ChoiceField(choices=[(D.Outcome.GRANT, "Grant certification"),
                                         (D.Outcome.REFUSE, "Refuse"),
                                         (D.Outcome.DEFER, "Defer: information is missing")],
                                widget=forms.RadioSelect, label="Decision")
    decision_date = forms.DateField(widget=DATE, label="Decision date",
                                    help_text="Today or earlier; not before the audit's last day.")
    effective_date = forms.DateField(widget=DATE, required=False, label="Effective date",
                                     help_text="When the certificate takes effect; empty for "
                                               "the decision date.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                             label="Reason or notes",
                             help_text="Required to refuse or defer, and to reduce the scope.")
    scope = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                            label="Certified scope",
                            help_text="Activities, products and services as printed.")
    soa_version = forms.CharField(max_length=60, required=False,
                                  label="Statement of Applicability version",
                                  help_text="ISO/IEC 27001: the SoA version the audit reviewed.")
    energy_statement = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False,
        label="Energy performance statement",
        help_text="ISO 50001 without energy data in the portal: how the client demonstrated "
                  "energy performance improvement.")
    energy_evidence = forms.FileField(required=False, label="Energy performance evidence",
                                      help_text="PDF, Office document or image.")

    site_ids = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple,
        label="Certified sites",
        help_text="Sites applied for; the central function is always certified. An "
                  "extension may add sites, a reduction leave some out. None ticked: all "
                  "sites applied for at the initial decision, the current ones later.")

    def __init__(self, *args, sites=(), isms=False, energy_upload=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site_ids"].choices = [
            (site.pk, f"{site.name} ({site.country_id})"
                      + (" — central function" if site.is_central_function else ""))
            for site in sites]
        self.site_fields = []
        for site in sites:
            name = f"{SITE_PREFIX}{site.pk}"
            self.fields[name] = forms.CharField(
                widget=forms.Textarea(attrs={"rows": 2}), required=False,
                label=f"Scope at {site.name}",
                help_text="Empty: the site's activities, else the certified scope.")
            self.site_fields.append(name)
        if not isms:
            del self.fields["soa_version"]
        if not energy_upload:
            del self.fields["energy_statement"]
            del self.fields["energy_evidence"]

    @classmethod
    def initial_for(cls, *, cycle, certificate, kind: str, site_ids=()) -> dict:
        initial = {"kind": kind, "decision_date": timezone.localdate(),
                   "scope": certificate.scope if certificate else cycle.scope,
                   "site_ids": list(site_ids)}
        if certificate is not None:
            initial["soa_version"] = certificate.soa_version
            for site in certificate.sites.exclude(site=None):
                initial[f"{SITE_PREFIX}{site.site_id}"] = site.scope
        return initial

    def site_scopes(self) -> dict[str, str]:
        return {name.removeprefix(SITE_PREFIX): self.cleaned_data[name]
                for name in self.site_fields if self.cleaned_data.get(name, "").strip()}

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {"kind": data["kind"], "outcome": data["outcome"],
                "decision_date": data["decision_date"],
                "effective_date": data.get("effective_date"),
                "reason": data.get("reason", ""), "scope": data.get("scope", ""),
                "site_scopes": self.site_scopes(),
                # None ticked: the default of the kind (the central function is always
                # certified, so an empty list could never be granted).
                "site_ids": data.get("site_ids") or None,
                "soa_version": data.get("soa_version", ""),
                "energy_statement": data.get("energy_statement", ""),
                "energy_evidence": data.get("energy_evidence")}


class SuspendForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}),
                             label="Reason for the suspension")
    date = forms.DateField(widget=DATE, required=False, label="Suspended from",
                           help_text="Empty for today.")
    until = forms.DateField(widget=DATE, required=False, label="Suspended until",
                            help_text="At most 6 months; empty for the longest allowed.")


def _reason_and_date_form(name: str, *, reason: str, date: str) -> type[forms.Form]:
    """A status change that takes a reason and a day (empty for today)."""
    return type(name, (forms.Form,), {
        "reason": forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label=reason),
        "date": forms.DateField(widget=DATE, required=False, label=date,
                                help_text="Empty for today."),
    })


RestoreForm = _reason_and_date_form("RestoreForm", reason="Why the certification can be "
                                    "restored", date="Restored on")
WithdrawForm = _reason_and_date_form("WithdrawForm", reason="Reason for the withdrawal",
                                     date="Withdrawn on")


class ExtendSuspensionForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}),
                             label="Why the suspension is extended")
    until = forms.DateField(widget=DATE, label="Suspended until")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["until"].help_text = (
            f"After the current end, at most {settings.SUSPENSION_EXTENSION_MAX_MONTHS} "
            "months later. A suspension is extended once only.")


LIFECYCLE_FORMS = {"suspend": SuspendForm, "restore": RestoreForm,
                   "extend_suspension": ExtendSuspensionForm, "withdraw": WithdrawForm}


class CertificateFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, label="Status", choices=[
        ("", "Any status"), *[(s, s) for s in ("Active", "Suspended", "Withdrawn", "Expired")]])


class EditionTransitionChangeForm(forms.Form):
    """What a CB administrator may change on a recorded transition."""

    deadline = forms.DateField(widget=DATE, label="Transition deadline",
                               help_text="From the transition notice; certificates not "
                                         "transitioned by then expire.")
    extra_audit_days = forms.DecimalField(
        min_value=0, max_value=99, decimal_places=1, initial=0, label="Extra audit days",
        help_text="Auditor days added to the audit for the transition, in half days.")
    extra_audit_percent = forms.IntegerField(
        min_value=0, max_value=100, initial=0, label="Extra audit time (%)",
        help_text="Share of the combined surveillance or recertification audit's time added.")
    notice_reference = forms.CharField(
        max_length=300, label="Transition notice",
        help_text='The IAF or ISO notice it comes from, e.g. "IAF MD 26:2023".')


class EditionTransitionForm(EditionTransitionChangeForm):
    """A new transition: the superseded edition and the one that supersedes it."""

    from_standard = forms.ModelChoiceField(queryset=Standard.objects.order_by("code", "edition"),
                                           label="Superseded edition")
    to_standard = forms.ModelChoiceField(queryset=Standard.objects.order_by("code", "edition"),
                                         label="New edition")
    field_order = ["from_standard", "to_standard", "deadline", "extra_audit_days",
                   "extra_audit_percent", "notice_reference"]
