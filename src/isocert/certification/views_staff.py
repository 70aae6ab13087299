"""Pages of the certification decision and of certificates (CB staff and the client's
members). Thin: validate → select → call one service → render or redirect."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from isocert.accounts.permissions import can
from isocert.audits.models import Audit, Finding
from isocert.catalog import selectors as catalog_selectors
from isocert.core.dates import display_date
from isocert.core.errors import DomainError
from isocert.core.files import stored_file_response
from isocert.core.forms import add_domain_error
from isocert.energy import selectors as energy_selectors

from . import decision_checks, editions, lifecycle, selectors, services, signals, transfers
from .forms import LIFECYCLE_FORMS, CertificateFilterForm, ChecklistKindForm, DecisionForm
from .models import Certificate, CertificationDecision

D = CertificationDecision
LIST_PAGE_SIZE = 25
# Checklist items that a field of the decision form answers.
CHECK_FIELDS = {"energy_improvement": "energy_statement", "soa_version": "soa_version"}
STATUS_BADGES = {"Active": "registered", "Suspended": "information_requested",
                 "Withdrawn": "withdrawn", "Expired": "cancelled"}


# --- the decision queue and page ---------------------------------------------------------------

@login_required
def decision_queue(request):
    if not selectors.sees_all_certificates(request.user):
        raise Http404("Not CB staff")
    cycles = (selectors.cycles_awaiting_decision(user=request.user)
              .prefetch_related("standards"))
    return render(request, "certification/decision_queue.html", {
        "page": Paginator(cycles, LIST_PAGE_SIZE).get_page(request.GET.get("page")),
        "transfers": selectors.transfers_awaiting_issue(user=request.user)})


@login_required
def transfer_issue(request, pk):
    """The accepted pre-transfer review and, on POST, the issue of the transferred
    certificate (IAF MD 2 §2.3)."""
    application = selectors.transfer_application_get(user=request.user, pk=pk)
    review = application.transfer_review
    if request.method == "POST":
        try:
            decision = transfers.issue_transfer(
                application=application, actor=request.user,
                decision_date=request.POST.get("decision_date") or None,
                effective_date=request.POST.get("effective_date") or None)
        except DomainError as exc:
            messages.error(request, " ".join([exc.message, *exc.fields.values()]))
        else:
            messages.success(request, f"Certificate {decision.certificate.number} issued: it "
                                      "continues the transferred cycle.")
            return redirect("certificate_detail", pk=decision.certificate_id)
    return render(request, "certification/transfer_issue.html", {
        "application": application, "review": review,
        "can_issue": can(request.user, "decide") and review.status == "accepted",
        "today": timezone.localdate()})


def _default_kind(cycle, certificate) -> str:
    """The kind of decision the latest closed, undecided audit calls for."""
    kinds = {audit_kind: kind for kind, audit_kind in decision_checks.AUDIT_FOR_KIND.items()}
    decided = set(cycle.decisions.filter(outcome__in=[D.Outcome.GRANT, D.Outcome.REFUSE],
                                         status=D.Status.FINAL)
                  .values_list("audit_id", flat=True))
    waiting = (cycle.audits.filter(kind__in=kinds, status=Audit.Status.CLOSED)
               .exclude(pk__in=decided).order_by("-end_date", "-pk").first())
    if waiting is not None:
        return kinds[waiting.kind]
    return D.Kind.INITIAL if certificate is None else D.Kind.RECERTIFICATION


def _energy_upload_needed(cycle) -> bool:
    """ISO 50001 without a baseline and reporting period in the portal: the decision maker
    attaches the evidence and writes a statement."""
    if decision_checks.ENERGY_STANDARD not in {s.code for s in cycle.standards.all()}:
        return False
    return energy_selectors.improvement_evidence(organization_id=cycle.organization_id) is None


def _decision_context(request, cycle, *, kind: str, form: DecisionForm) -> dict:
    certificate = decision_checks.current_certificate(cycle)
    decision_date = timezone.localdate()
    if form.is_bound and form.is_valid():
        decision_date = form.cleaned_data["decision_date"]
    data = form.data if form.is_bound else {}
    audit, checks = decision_checks.decision_checklist(
        cycle=cycle, kind=kind, decision_date=min(decision_date, timezone.localdate()),
        energy_statement=data.get("energy_statement", ""),
        has_energy_evidence=bool(form.files.get("energy_evidence")) if form.is_bound else False,
        soa_version=data.get("soa_version", "") or (certificate.soa_version if certificate else ""))
    report = audit.reports.order_by("-revision").first() if audit else None
    return {
        "cycle": cycle, "organization": cycle.organization,
        "standards": list(cycle.standards.order_by("code")),
        "sites": services.applied_sites(cycle),
        "printed_sites": list(certificate.sites.all()) if certificate else [],
        "certificate": certificate, "kind": kind, "kind_label": D.Kind(kind).label,
        "kind_form": ChecklistKindForm(initial={"kind": kind}),
        "audit": audit, "report": report,
        "findings": (list(Finding.objects.filter(audit=audit).select_related("clause")
                          .order_by("number")) if audit else []),
        "checks": checks, "ready": all(check.ok for check in checks),
        "independence_problems": decision_checks.decider_problems(request.user, cycle),
        "panels": signals.decision_panels(cycle=cycle, request=request),
        "can_decide": can(request.user, "decide"),
        "form": form,
        "site_fields": [form[name] for name in form.site_fields],
        "decisions": list(cycle.decisions.select_related("decided_by", "certificate", "audit")),
    }


def _decision_form(cycle, *, data=None, files=None, kind=None) -> DecisionForm:
    certificate = decision_checks.current_certificate(cycle)
    codes = {s.code for s in cycle.standards.all()}
    kwargs = {"sites": services.applied_sites(cycle),
              "isms": decision_checks.ISMS_STANDARD in codes,
              "energy_upload": _energy_upload_needed(cycle)}
    if data is not None:
        return DecisionForm(data, files, **kwargs)
    try:
        default_sites = [site.pk for site in services.certified_sites(
            cycle=cycle, kind=kind, certificate=certificate)]
    except DomainError:
        default_sites = []
    return DecisionForm(initial=DecisionForm.initial_for(
        cycle=cycle, certificate=certificate, kind=kind, site_ids=default_sites), **kwargs)


@login_required
def cycle_decision(request, pk):
    cycle = selectors.decision_cycle_get(user=request.user, pk=pk)
    if request.method == "POST":
        form = _decision_form(cycle, data=request.POST, files=request.FILES)
        kind = request.POST.get("kind") if request.POST.get("kind") in D.Kind.values else \
            _default_kind(cycle, decision_checks.current_certificate(cycle))
        status = 422
        if form.is_valid():
            try:
                decision = services.decide(cycle=cycle, actor=request.user,
                                           **form.service_data())
            except DomainError as exc:
                add_domain_error(form, exc, CHECK_FIELDS)
                status = exc.status
            else:
                if decision.outcome == D.Outcome.GRANT:
                    messages.success(request, f"{decision.get_kind_display()} granted: "
                                              f"certificate {decision.certificate.number}, "
                                              f"revision {decision.certificate.revision}.")
                    return redirect("certificate_detail", decision.certificate_id)
                messages.success(request, f"Decision recorded: {decision.get_kind_display()} "
                                          f"{decision.get_outcome_display().lower()}.")
                return redirect("cycle_decision", cycle.pk)
        context = _decision_context(request, cycle, kind=kind, form=form)
        return render(request, "certification/decision.html", context, status=status)
    kind = request.GET.get("kind")
    if kind not in D.Kind.values:
        kind = _default_kind(cycle, decision_checks.current_certificate(cycle))
    form = _decision_form(cycle, kind=kind)
    return render(request, "certification/decision.html",
                  _decision_context(request, cycle, kind=kind, form=form))


# --- certificates ------------------------------------------------------------------------------

def _status_text(certificate: Certificate, last_change) -> str:
    """The status in plain words, as the certificate holder should read it."""
    since = f" on {display_date(last_change.date)}" if last_change else ""
    if certificate.status == Certificate.Status.SUSPENDED:
        until = (f" until {display_date(certificate.suspended_until)}"
                 if certificate.suspended_until else "")
        extended = (f" (extended on {display_date(certificate.suspension_extended_on)})"
                    if certificate.suspension_extended_on else "")
        text = (f"Suspended{since}{until}{extended}: the certification is temporarily invalid "
                "and may not be advertised.")
        due = lifecycle.withdrawal_due(certificate)
        if due:
            text += (" The suspension has run out: unless the certification body restores it, "
                     "reduces its scope or extends the suspension, it is withdrawn on "
                     f"{display_date(due)}.")
        return text
    if certificate.status == Certificate.Status.WITHDRAWN:
        return f"Withdrawn{since}: the certification has ended."
    if certificate.status == Certificate.Status.EXPIRED:
        deadline = services.restoration_deadline(certificate)
        return (f"Expired{since}: it was not recertified before "
                f"{display_date(certificate.expiry_date)}. "
                f"A completed recertification can restore it until {display_date(deadline)}.")
    return f"Active: valid until {display_date(certificate.expiry_date)}."


def _certificate_context(request, certificate: Certificate, forms=None) -> dict:
    today = timezone.localdate()
    revisions = list(selectors.revisions_of(certificate=certificate))
    history = list(selectors.status_history_of(certificate=certificate))
    surveillance = selectors.surveillance_due(certificate=certificate, today=today)
    actions = selectors.status_actions(certificate=certificate, user=request.user)
    forms = forms or {}
    current = revisions[0] if revisions else None
    qr_url = current.content.get("qr_url", "") if current else ""
    return {
        "certificate": certificate, "current": current,
        # The signed address printed as the QR code, on this server.
        "qr_path": qr_url.removeprefix(settings.SITE_URL),
        "revisions": revisions, "history": history,
        "status_text": _status_text(certificate, history[-1] if history else None),
        "status_badge": STATUS_BADGES.get(certificate.status, ""),
        "surveillance": surveillance,
        "is_cb_staff": selectors.sees_all_certificates(request.user),
        "lifecycle_forms": [(action, forms.get(action) or LIFECYCLE_FORMS[action](prefix=action))
                            for action in actions],
        "panels": signals.certificate_panels(certificate=certificate, request=request),
        "edition_notices": editions.edition_notices(certificate),
    }


@login_required
def certificate_detail(request, pk):
    certificate = selectors.certificate_get(user=request.user, pk=pk)
    return render(request, "certification/certificate_detail.html",
                  _certificate_context(request, certificate))


LIFECYCLE_SERVICES = {
    "suspend": (lifecycle.suspend_certificate, "Certificate suspended."),
    "restore": (lifecycle.restore_certificate, "Certificate restored: it is active again."),
    "extend_suspension": (lifecycle.extend_suspension, "Suspension extended."),
    "withdraw": (lifecycle.withdraw_certificate, "Certificate withdrawn."),
}


def _lifecycle_action(request, pk, action: str):
    certificate = selectors.certificate_get(user=request.user, pk=pk)
    if not selectors.can_manage_status(request.user):
        raise Http404("Not a certificate status manager")
    form = LIFECYCLE_FORMS[action](request.POST, prefix=action)
    status = 422
    if form.is_valid():
        call, success = LIFECYCLE_SERVICES[action]
        try:
            call(certificate=certificate, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
            status = exc.status
            certificate.refresh_from_db()
            if action not in selectors.status_actions(certificate=certificate,
                                                      user=request.user):
                # The form of an action the certificate no longer allows is not shown.
                messages.error(request, exc.message)
        else:
            messages.success(request, success)
            return redirect("certificate_detail", certificate.pk)
    certificate.refresh_from_db()
    return render(request, "certification/certificate_detail.html",
                  _certificate_context(request, certificate, {action: form}), status=status)


def _lifecycle_view(action: str):
    """The POST view of one lifecycle action (its form and service in the tables above)."""
    @login_required
    @require_POST
    def view(request, pk):
        return _lifecycle_action(request, pk, action)

    view.__name__ = view.__qualname__ = f"certificate_{action}"
    return view


certificate_suspend = _lifecycle_view("suspend")
certificate_restore = _lifecycle_view("restore")
certificate_extend_suspension = _lifecycle_view("extend_suspension")
certificate_withdraw = _lifecycle_view("withdraw")


@login_required
def certificate_revision_pdf(request, pk):
    revision = selectors.revision_get(user=request.user, pk=pk)
    if revision.pdf is None:
        raise Http404("The PDF is being rendered")
    return stored_file_response(revision.pdf, f"certificate-{revision.certificate.number}"
                                              f"-rev{revision.revision}.pdf")


@login_required
def certificate_list(request):
    form = CertificateFilterForm(request.GET or None)
    certificates = selectors.certificates_for_user(user=request.user).order_by(
        "name_key", "number")
    status = ""
    if form.is_bound and form.is_valid():
        status = form.cleaned_data["status"]
        if status:
            certificates = certificates.filter(status=status)
    page = Paginator(certificates, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    transitions = catalog_selectors.transitions_by_edition()
    for certificate in page:
        certificate.badge = STATUS_BADGES.get(certificate.status, "")
        certificate.edition_notices = editions.edition_notices(certificate, transitions)
    return render(request, "certification/certificate_list.html", {
        "page": page, "form": form if form.is_bound else CertificateFilterForm(),
        "status": status, "is_cb_staff": selectors.sees_all_certificates(request.user)})
