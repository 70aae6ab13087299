from decimal import Decimal
from types import SimpleNamespace

from django import forms

from isocert.catalog.selectors import standards_current

from .models import (
    ApplicationDocument,
    ApplicationStandard,
    AuditTimeDetermination,
    PreliminaryAssessment,
    TransferReview,
)
from .signals import energy_inputs

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# The categories' labels are the model's, so the page and the service's errors name them
# alike; the OH&S table has no "limited" column (IAF MD 5; rules §3).
COMPLEXITY_CHOICES = {
    "ISO 14001": [("", "—"), *ApplicationStandard.Complexity.choices],
    "ISO 45001": [("", "—"), *(c for c in ApplicationStandard.Complexity.choices
                               if c[0] != ApplicationStandard.Complexity.LIMITED)],
}


COMPLEXITY_HELP = {
    "ISO 14001": "From the nature, number and severity of your environmental aspects.",
    "ISO 45001": "From the nature and severity of your OH&S risks.",
}


def _with_energy_prefill(line, prefill):
    """The ISO 50001 line's energy inputs, each empty one taken from ``prefill``."""
    if not prefill:
        return line
    values = {field: getattr(line, field, None) for field in prefill}
    values.update({field: value for field, value in prefill.items() if values[field] is None})
    if values["annual_energy_consumption_tj"] is not None:
        values["annual_energy_consumption_tj"] = Decimal(
            values["annual_energy_consumption_tj"]).quantize(Decimal("0.001"))
    return SimpleNamespace(effective_personnel=getattr(line, "effective_personnel", None),
                           complexity=getattr(line, "complexity", ""), **values)


def _sites_personnel(application) -> Decimal | None:
    """The effective personnel of the application's sites (all the organization's sites
    while none is chosen yet), or None without sites."""
    if application is None:
        return None
    sites = list(application.sites.all()) or list(application.organization.sites.all())
    if not sites:
        return None
    return sum((Decimal(site.effective_personnel) for site in sites), Decimal(0))


def _personnel_help(standard, site_total) -> str:
    if site_total is None:
        return ""
    total = f"{site_total.normalize():f}"
    if standard.is_energy:
        return (f"ISO 50003: only the people who significantly affect energy performance "
                f"(top management, energy team, those responsible for SEUs) — the sites "
                f"have {total} FTE in all.")
    return f"Pre-filled from the sites ({total} FTE); part-time staff count by hours worked."


class StandardsForm(forms.Form):
    """One block of fields per standard: tick it, give its personnel and inputs."""

    def __init__(self, *args, application=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.standards = list(standards_current())
        lines = {line.standard_id: line for line in application.standard_lines.all()} if application else {}
        site_total = _sites_personnel(application)
        self.blocks = []
        for standard in self.standards:
            key = standard.slug
            line: ApplicationStandard | None = lines.get(standard.pk)
            names = {"selected": f"{key}__selected", "personnel": f"{key}__personnel"}
            self.fields[names["selected"]] = forms.BooleanField(
                required=False, label=f"{standard} — {standard.title}", initial=line is not None)
            given = line.effective_personnel if line else None
            self.fields[names["personnel"]] = forms.DecimalField(
                required=False, min_value=0.01, max_digits=9, decimal_places=2,
                label="Effective personnel (FTE)",
                # IAF MD 5: effective personnel is everyone involved in the scope, part-time
                # staff as full-time equivalents — the sites' figures, to adjust. ISO 50003
                # counts only the people who significantly affect energy performance, so
                # the ISO 50001 field shows the sites' total as a hint and stays empty.
                initial=given if given is not None or standard.is_energy else site_total,
                help_text=_personnel_help(standard, site_total))
            if standard.code in COMPLEXITY_CHOICES:
                names["complexity"] = f"{key}__complexity"
                self.fields[names["complexity"]] = forms.ChoiceField(
                    required=False, choices=COMPLEXITY_CHOICES[standard.code],
                    label="Complexity category", initial=line.complexity if line else "",
                    help_text=COMPLEXITY_HELP[standard.code])
            if standard.is_energy:
                # Not given yet: pre-fill from the inputs recorded elsewhere (the gap
                # analysis's energy review, answered by readiness), if any.
                prefill = energy_inputs(application.organization) if application else None
                line = _with_energy_prefill(line, prefill)
                names.update(energy_tj=f"{key}__energy_tj", energy_types=f"{key}__energy_types",
                             seus=f"{key}__seus")
                self.fields[names["energy_tj"]] = forms.DecimalField(
                    required=False, min_value=0.001, max_digits=12, decimal_places=3,
                    label="Annual energy consumption (TJ)",
                    initial=line.annual_energy_consumption_tj if line else None,
                    help_text="1 TJ = 277,778 kWh.")
                self.fields[names["energy_types"]] = forms.IntegerField(
                    required=False, min_value=1, max_value=1000, label="Number of energy types",
                    initial=line.energy_types if line else None,
                    help_text="e.g. electricity, natural gas, diesel = 3")
                self.fields[names["seus"]] = forms.IntegerField(
                    required=False, min_value=1, max_value=1000,
                    label="Number of significant energy uses (SEUs)",
                    initial=line.significant_energy_uses if line else None)
            self.blocks.append({"standard": standard, "names": names})

    def bound_blocks(self):
        for block in self.blocks:
            yield {"standard": block["standard"],
                   "fields": {k: self[name] for k, name in block["names"].items()}}

    def service_lines(self) -> tuple[list[dict], dict[str, str]]:
        """The standards list for the service, and the field name of each index's inputs."""
        lines, field_map = [], {}
        for block in self.blocks:
            names = block["names"]
            if not self.cleaned_data.get(names["selected"]):
                continue
            index = len(lines)
            line = {"standard": block["standard"].code,
                    "effective_personnel": self.cleaned_data.get(names["personnel"]),
                    "complexity": self.cleaned_data.get(names.get("complexity", ""), "")}
            if "energy_tj" in names:
                line.update(annual_energy_consumption_tj=self.cleaned_data.get(names["energy_tj"]),
                            energy_types=self.cleaned_data.get(names["energy_types"]),
                            significant_energy_uses=self.cleaned_data.get(names["seus"]))
            lines.append(line)
            service_names = {"effective_personnel": "personnel", "complexity": "complexity",
                             "annual_energy_consumption_tj": "energy_tj",
                             "energy_types": "energy_types", "significant_energy_uses": "seus",
                             "standard": "selected"}
            for service_name, local in service_names.items():
                if local in names:
                    field_map[f"standards.{index}.{service_name}"] = names[local]
        return lines, field_map


class ScopeForm(forms.Form):
    scope_statement = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, label="Scope of certification",
        help_text="Activities, products and services, e.g. 'Design and manufacture of "
                  "aluminium castings for the automotive industry'.")
    site_ids = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Sites to be certified")

    def __init__(self, *args, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site_ids"].choices = [
            (str(site.pk), f"{site.name}{' (central function)' if site.is_central_function else ''}"
                           f" — {site.effective_personnel} FTE")
            for site in organization.sites.all()
        ]


class BackgroundForm(forms.Form):
    consultancy_used = forms.BooleanField(
        required=False, label="We received management-system consultancy in the last 2 years")
    consultancy_by = forms.CharField(
        max_length=200, required=False, label="Consultancy given by",
        help_text="Company and person. We check that none of them audits or certifies you.")
    is_transfer = forms.BooleanField(
        required=False, label="We are certified by another certification body (transfer)")
    current_cb_name = forms.CharField(max_length=200, required=False,
                                      label="Current certification body")
    current_certificate_number = forms.CharField(max_length=60, required=False,
                                                 label="Current certificate number")
    current_certificate_expiry = forms.DateField(required=False, widget=DATE,
                                                 label="Current certificate expires on")
    current_accreditation_body = forms.CharField(
        max_length=200, required=False, label="Accreditation body of the current certificate")
    current_certificate_standard = forms.CharField(
        max_length=60, required=False, label="Standard on the current certificate",
        help_text="With its edition, e.g. ISO 9001:2015.")
    current_certificate_scope = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}),
        label="Scope on the current certificate")
    current_cycle_decision_date = forms.DateField(
        required=False, widget=DATE, label="Decision that started the current cycle")
    current_cycle_stage = forms.ChoiceField(
        required=False, label="Last audit held in the current cycle",
        choices=[("", "—"), ("initial", "Initial certification (no surveillance yet)"),
                 ("surveillance1", "Surveillance 1"), ("surveillance2", "Surveillance 2")])
    current_open_nonconformities = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}),
        label="Nonconformities still open with the current CB")
    current_complaints = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}),
        label="Complaints received and the action taken")


class PeriodForm(forms.Form):
    desired_audit_from = forms.DateField(required=False, widget=DATE,
                                         label="Desired audit period — from")
    desired_audit_to = forms.DateField(required=False, widget=DATE,
                                       label="Desired audit period — to")


class DocumentForm(forms.Form):
    file = forms.FileField(help_text="PDF, Word, Excel, PowerPoint, OpenDocument or an image.")
    kind = forms.ChoiceField(choices=ApplicationDocument.Kind.choices, label="Document type")
    description = forms.CharField(max_length=255, required=False)


class ResubmitForm(forms.Form):
    response = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}),
                               label="Your answer to the reviewer")


class WithdrawForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                             label="Reason (optional)")


class RequestInformationForm(forms.Form):
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}),
                              label="What information do you need?")


class DeclineForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                             label="Reason for declining (sent to the client)")


class AssessmentForm(forms.Form):
    documents_reviewed = forms.BooleanField(required=False, label="Documents reviewed")
    scope_clear = forms.BooleanField(required=False, label="Scope clear and certifiable")
    sites_personnel_plausible = forms.BooleanField(required=False,
                                                   label="Sites and personnel plausible")
    cb_competent = forms.BooleanField(required=False,
                                      label="CB competent for the standards and IAF sectors")
    impartiality_risk = forms.ChoiceField(
        choices=PreliminaryAssessment.ImpartialityRisk.choices,
        label="Impartiality risk from declared consultancy", widget=forms.RadioSelect)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                            label="Notes (internal)")


class TransferReviewForm(forms.Form):
    """The pre-transfer review's checks (IAF MD 2 §2.2) and the visit (§2.2)."""

    certificate_valid = forms.BooleanField(required=False)
    accredited_by_mla_signatory = forms.BooleanField(required=False)
    not_suspended = forms.BooleanField(required=False)
    scope_within_accreditation = forms.BooleanField(required=False)
    complaints_addressed = forms.BooleanField(required=False)
    reports_reviewed = forms.BooleanField(required=False)
    open_majors_closed = forms.BooleanField(required=False)
    visit = forms.ChoiceField(choices=TransferReview.Visit.choices, label="Pre-transfer visit",
                              widget=forms.RadioSelect)
    visit_date = forms.DateField(required=False, widget=DATE, label="Visit held on")
    visit_findings = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                                     label="What the visit found")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                            label="Notes of the document review")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field, label in TransferReview.CHECKS.items():
            self.fields[field].label = label


class TransferConclusionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "Accept the transfer"),
                                          ("refuse", "Refuse: certify anew")],
                                 widget=forms.RadioSelect, label="Conclusion")
    reasons = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                              label="Reasons (the client is told)")


class AuditTimeForm(forms.Form):
    """The reviewer's factors and hand-set figures for the audit-time determination."""

    ADJUSTMENT_ROWS = 3

    sampling_allowed = forms.BooleanField(
        required=False, label="Multi-site sampling allowed (IAF MD 1)",
        help_text="Sites perform the same activities under one management system.")
    integration_reduction_percent = forms.DecimalField(
        required=False, min_value=0, max_value=20, decimal_places=1,
        label="Integration reduction % (IAF MD 11, 0–20, integrated audits only)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(self.ADJUSTMENT_ROWS):
            self.fields[f"adjustment_{i}_reason"] = forms.CharField(
                required=False, max_length=200, label=f"Adjustment {i + 1} — reason")
            self.fields[f"adjustment_{i}_percent"] = forms.DecimalField(
                required=False, min_value=-30, max_value=100, decimal_places=1,
                label=f"Adjustment {i + 1} — percent (signed)")
        for key in AuditTimeDetermination.OVERRIDABLE:
            label = AuditTimeDetermination.FIGURES[key]
            self.fields[f"override_{key}"] = forms.DecimalField(
                required=False, min_value=0.5, max_value=999, decimal_places=1,
                label=f"{label} — set by hand (days)")
            self.fields[f"justification_{key}"] = forms.CharField(
                required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                label=f"{label} — justification")

    def clean(self):
        data = super().clean()
        for i in range(self.ADJUSTMENT_ROWS):
            reason, percent = data.get(f"adjustment_{i}_reason"), data.get(f"adjustment_{i}_percent")
            if percent is not None and not reason:
                self.add_error(f"adjustment_{i}_reason", "Give the reason for this adjustment.")
            if reason and percent is None:
                self.add_error(f"adjustment_{i}_percent", "Give the percent (e.g. -10 or 10).")
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "sampling_allowed": data["sampling_allowed"],
            "integration_reduction_percent": str(data["integration_reduction_percent"] or 0),
            "adjustments": [
                {"reason": data[f"adjustment_{i}_reason"],
                 "percent": str(data[f"adjustment_{i}_percent"])}
                for i in range(self.ADJUSTMENT_ROWS) if data.get(f"adjustment_{i}_reason")
            ],
            "overrides": {
                key: {"value": str(data[f"override_{key}"]),
                      "justification": data[f"justification_{key}"]}
                for key in AuditTimeDetermination.OVERRIDABLE
                if data.get(f"override_{key}") is not None
            },
        }

    @staticmethod
    def field_map() -> dict[str, str]:
        """Service error keys → form fields."""
        mapping = {"integration_reduction_percent": "integration_reduction_percent",
                   "sites.sampling_allowed": "sampling_allowed"}
        for key in AuditTimeDetermination.OVERRIDABLE:
            mapping[f"overrides.{key}.value"] = f"override_{key}"
            mapping[f"overrides.{key}.justification"] = f"justification_{key}"
        for i in range(AuditTimeForm.ADJUSTMENT_ROWS):
            mapping[f"adjustments.{i}.percent"] = f"adjustment_{i}_percent"
            mapping[f"adjustments.{i}.reason"] = f"adjustment_{i}_reason"
        return mapping

    @classmethod
    def initial_from(cls, determination) -> dict:
        if determination is None:
            return {}
        inputs = determination.inputs
        initial = {"sampling_allowed": inputs.get("sites", {}).get("sampling_allowed", False),
                   "integration_reduction_percent": inputs.get("integration_reduction_percent")}
        for i, adjustment in enumerate(inputs.get("adjustments", [])[: cls.ADJUSTMENT_ROWS]):
            initial[f"adjustment_{i}_reason"] = adjustment.get("reason")
            initial[f"adjustment_{i}_percent"] = adjustment.get("percent")
        for key, entry in determination.overrides.items():
            initial[f"override_{key}"] = entry.get("value")
            initial[f"justification_{key}"] = entry.get("justification")
        return initial


class AcceptQuotationForm(forms.Form):
    confirm = forms.BooleanField(
        label="I accept this quotation on behalf of the organization; it becomes the "
              "certification contract.")


class QuotationPriceForm(forms.Form):
    """The reviewer's price inputs on the quotation preview; the service checks them."""

    day_rate = forms.CharField(label="Day rate", max_length=20,
                               help_text="Per audit day, before VAT.")
    adjustment = forms.CharField(
        required=False, max_length=20, label="Adjustment (optional)",
        help_text="A discount (e.g. -250.00) or a surcharge on the net price.")
    adjustment_reason = forms.CharField(
        required=False, max_length=200, label="Reason for the adjustment",
        help_text="Printed on the quotation.")
