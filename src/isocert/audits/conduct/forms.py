"""Forms of the audit conduct pages; the conduct's services do the domain validation."""

from django import forms

from isocert.core.forms import LongSelect

from ..programme.models import Audit
from .common import audit_clauses, audit_sites
from .findings import REVIEW_DECISION_CHOICES
from .models import AuditRecord, AuditReport, Finding

TEXT = {"rows": 3}


def _clause_choices(audit: Audit):
    return [("", "— choose —")] + [
        (str(c.pk), f"{c.standard.code} {c.number} {c.title}") for c in audit_clauses(audit)]


def _site_choices(audit: Audit):
    return [("", "— no particular site —")] + [(str(s.pk), s.name) for s in audit_sites(audit)]


class CoverageForm(forms.Form):
    covered = forms.BooleanField(required=False)
    internal_notes = forms.CharField(required=False, label="Internal notes (CB only)",
                                     widget=forms.Textarea(attrs={"rows": 2}))


class RecordForm(forms.Form):
    kind = forms.ChoiceField(choices=AuditRecord.Kind.choices)
    text = forms.CharField(label="What you saw", widget=forms.Textarea(attrs=TEXT))
    clause_id = forms.ChoiceField(required=False, label="Clause", widget=LongSelect)
    site_id = forms.ChoiceField(required=False, label="Site")
    file = forms.FileField(required=False, label="Evidence file",
                           help_text="PDF, Office document or photo; CB working papers, not "
                                     "shown to the client.")

    def __init__(self, *args, audit: Audit, **kwargs):
        kwargs.setdefault("auto_id", "id_record_%s")  # both on the conduct page
        super().__init__(*args, **kwargs)
        self.fields["clause_id"].choices = _clause_choices(audit)
        self.fields["site_id"].choices = _site_choices(audit)


class FindingForm(forms.Form):
    # No grade is preselected: the auditor chooses one (a default would grade a finding
    # nobody graded; the grades and what each asks of the client: ISO/IEC 17021-1 §9.4.9).
    grade = forms.ChoiceField(choices=[("", "Choose a grade…"), *Finding.Grade.choices])
    clause_id = forms.ChoiceField(label="Clause", widget=LongSelect)
    statement = forms.CharField(widget=forms.Textarea(attrs=TEXT),
                                help_text="The requirement and how it is not met.")
    objective_evidence = forms.CharField(widget=forms.Textarea(attrs=TEXT))
    site_id = forms.ChoiceField(required=False, label="Site")

    def __init__(self, *args, audit: Audit, **kwargs):
        kwargs.setdefault("auto_id", "id_finding_%s")  # both on the conduct page
        super().__init__(*args, **kwargs)
        self.fields["clause_id"].choices = _clause_choices(audit)
        self.fields["site_id"].choices = _site_choices(audit)

    @staticmethod
    def initial_for(finding: Finding) -> dict:
        return {"grade": finding.grade, "clause_id": str(finding.clause_id),
                "statement": finding.statement, "objective_evidence": finding.objective_evidence,
                "site_id": str(finding.site_id or "")}


class AnswerForm(forms.Form):
    correction = forms.CharField(widget=forms.Textarea(attrs=TEXT),
                                 help_text="What you did at once to fix the problem found.")
    root_cause = forms.CharField(widget=forms.Textarea(attrs=TEXT))
    corrective_action = forms.CharField(widget=forms.Textarea(attrs=TEXT),
                                        help_text="What stops it from happening again.")
    evidence = forms.FileField(required=False,
                               help_text="PDF, Office document or image.")


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=REVIEW_DECISION_CHOICES, widget=forms.RadioSelect)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs=TEXT),
                              help_text="Required when you return the answer.")


class ReportForm(forms.Form):
    spent_days = forms.DecimalField(required=False, max_digits=6, decimal_places=1,
                                    label="Auditor days spent")
    positive_notes = forms.CharField(required=False, widget=forms.Textarea(attrs=TEXT))
    conclusion = forms.CharField(widget=forms.Textarea(attrs=TEXT))
    areas_of_concern = forms.CharField(required=False, widget=forms.Textarea(attrs=TEXT),
                                       help_text="Stage 1: what could become a nonconformity "
                                                 "at stage 2.")
    ready_for_stage2 = forms.ChoiceField(required=False, label="Ready for stage 2?",
                                         choices=[("", "—"), ("true", "Yes"), ("false", "No")])
    recommendation = forms.ChoiceField(
        required=False, choices=[("", "—"), *AuditReport.Recommendation.choices])
    correction_reason = forms.CharField(required=False, widget=forms.Textarea(attrs=TEXT),
                                        label="Reason for the correction")

    def __init__(self, *args, audit: Audit, revising: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if audit.kind == Audit.Kind.STAGE1:
            del self.fields["recommendation"]
        else:
            del self.fields["ready_for_stage2"]
        if not revising:
            del self.fields["correction_reason"]
        else:
            self.fields["correction_reason"].required = True

    @staticmethod
    def initial_for(report: AuditReport | None, audit: Audit) -> dict:
        initial = {"spent_days": audit.spent_days}
        if report is not None:
            initial.update({
                "positive_notes": report.positive_notes, "conclusion": report.conclusion,
                "areas_of_concern": report.areas_of_concern,
                "ready_for_stage2": {True: "true", False: "false"}.get(report.ready_for_stage2,
                                                                        ""),
                "recommendation": report.recommendation})
        return initial

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("correction_reason", None)
        if "ready_for_stage2" in data:
            data["ready_for_stage2"] = {"true": True, "false": False}.get(
                data["ready_for_stage2"])
        return data
