"""Forms of the audit programme pages; the services do the domain validation."""

from django import forms

from isocert.accounts.permissions import staff_with
from isocert.catalog.models import Clause
from isocert.core.forms import LongSelect

from .models import Audit, TeamMember
from .rules import SPECIAL_KINDS
from .teams import DECLARATION_TEXT

DATE = forms.DateInput(attrs={"type": "date"})
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ScheduleForm(forms.Form):
    start_date = forms.DateField(widget=DATE)
    end_date = forms.DateField(widget=DATE)
    late_entry_justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False,
        label="Why the dates are past (late entry)",
        help_text="Only for an audit whose first day is past: it was held before it was "
                  "recorded here. At least 20 characters; kept on the audit and in its trail.")


class SitesForm(forms.Form):
    chosen_site_ids = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple,
        label="Sites chosen by the reviewer",
        help_text="The rest of the sample (at least 25 %) is drawn at random.")

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["chosen_site_ids"].choices = [(site.pk, site.name) for site in sites]


class TeamMemberForm(forms.Form):
    auditor_id = forms.TypedChoiceField(coerce=int, label="Auditor", widget=LongSelect)
    role = forms.ChoiceField(choices=TeamMember.Role.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        auditors = staff_with("audit").order_by("email")
        self.fields["auditor_id"].choices = [(u.pk, f"{u} ({u.email})") for u in auditors]


class DeclarationForm(forms.Form):
    """The impartiality declaration (``teams.clean_declaration`` says what it needs:
    the page shows the service's errors beside these fields)."""

    statement = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                max_length=2000, label="Declaration",
                                initial=DECLARATION_TEXT)
    no_threat = forms.BooleanField(required=False,
                                   label="I know of no threat to my impartiality for this audit")
    threat = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                             max_length=2000, label="Otherwise: the threat")
    safeguard = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                                max_length=2000, label="and how it is safeguarded")


class LateStage2Form(forms.Form):
    late_stage2_justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), label="Why stage 1's results still hold")


class SessionForm(forms.Form):
    starts_at = forms.DateTimeField(widget=DATETIME, label="Starts")
    ends_at = forms.DateTimeField(widget=DATETIME, label="Ends")
    topic = forms.CharField(max_length=200, label="Clause or process")
    clause_id = forms.TypedChoiceField(coerce=int, required=False, empty_value=None,
                                       label="Clause", widget=LongSelect)
    site_id = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Site")
    auditee = forms.CharField(max_length=200, required=False)
    auditor_id = forms.TypedChoiceField(coerce=int, required=False, empty_value=None,
                                        label="Auditor")
    is_remote = forms.BooleanField(required=False, label="Held remotely with ICT (IAF MD 4)")

    def __init__(self, *args, audit: Audit | None = None, **kwargs):
        # Shares the planning page with TeamMemberForm: distinct ids for the labels.
        kwargs.setdefault("auto_id", "id_session_%s")
        super().__init__(*args, **kwargs)
        if audit is not None:
            clauses = Clause.objects.filter(standard__in=audit.cycle.standards.all())
            self.fields["clause_id"].choices = [("", "—")] + [
                (c.pk, f"{c.standard.code} {c.number} {c.title}"[:120])
                for c in clauses.select_related("standard")]
            self.fields["site_id"].choices = [("", "—")] + [
                (s.pk, s.name) for s in audit.cycle.organization.sites.all()]
            self.fields["auditor_id"].choices = [("", "—")] + [
                (m.auditor_id, str(m.auditor)) for m in audit.team.select_related("auditor")]


class SpecialAuditForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k.value, k.label) for k in SPECIAL_KINDS])
    planned_days = forms.DecimalField(required=False, min_value=0, decimal_places=1)
    target_date = forms.DateField(required=False, widget=DATE)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class PlanAnswerForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class RevisePlanForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), label="Why the plan is revised",
        help_text="At least 5 characters; the client's owners and editors receive it.")

    def __init__(self, *args, **kwargs):
        # Shares the planning page with CancelAuditForm: distinct ids for the labels.
        kwargs.setdefault("auto_id", "id_revise_%s")
        super().__init__(*args, **kwargs)


class CancelAuditForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), label="Why the audit is cancelled",
        help_text="At least 5 characters; the client and the team receive it.")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_cancel_%s")
        super().__init__(*args, **kwargs)


class RemoteForm(forms.Form):
    """The audit's use of ICT and its feasibility assessment (IAF MD 4 §4.1, §4.2)."""

    ict_used = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="ICT used")
    remote_share_percent = forms.IntegerField(min_value=1, max_value=100,
                                              label="Share of the audit time held remotely (%)")
    connectivity = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}),
                                   label="Connectivity (bandwidth, stability, fallback)")
    confidentiality = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}),
                                      label="Confidentiality and security of information")
    visible_remotely = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}),
                                       label="What can be audited remotely")
    not_visible_remotely = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}),
                                           label="What cannot be seen remotely")
    feasible = forms.BooleanField(required=False, label="Remote auditing is feasible")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_remote_%s")
        super().__init__(*args, **kwargs)
