"""Energy pages: summary, setup (meters, variables, uses), import, review, baselines,
analysis with charts, EnPIs and the energy performance report (PDF)."""

import base64
import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from isocert.core.errors import DomainError
from isocert.core.files import bytes_download_response
from isocert.core.forms import add_domain_error

from . import analysis, charts, importer, mv, report, selectors, services
from .forms import (
    AdjustmentForm,
    BaselineForm,
    EnergyUseForm,
    EnPIForm,
    MappingForm,
    MeterForm,
    ReportingPeriodForm,
    UploadForm,
    VariableForm,
    guess_target,
)
from .models import CarrierUnit

PENDING_KEY = "energy-import-{pk}"


def _organization(request, pk):
    return selectors.organization_for_energy(user=request.user, pk=pk)


def _editable(request, organization):
    """Write pages: members who can't edit and CB staff get a 404 (they only read)."""
    if not selectors.can_edit(user=request.user, organization=organization):
        raise Http404("Not an editor of this organization")


def _base(request, organization, current: str, **extra) -> dict:
    return {"organization": organization, "current": current,
            "can_edit": selectors.can_edit(user=request.user, organization=organization),
            "is_member": selectors.is_member(user=request.user, organization=organization),
            **extra}


def _show_error(request, exc: DomainError) -> None:
    details = " ".join(f"{k}: {v}" if k.startswith("line") else v for k, v in exc.fields.items())
    messages.error(request, f"{exc.message} {details}".strip())


# --- summary -------------------------------------------------------------------------------

@login_required
def energy_home(request, pk):
    organization = _organization(request, pk)
    review = selectors.energy_review(organization)
    return render(request, "energy/home.html", _base(
        request, organization, "home", review=review,
        evidence=selectors.improvement_evidence(organization_id=organization.pk),
        data=selectors.data_summary(organization),
        imports=selectors.imports_of(organization)[:20],
        baselines=selectors.assessed_baselines(organization),
        rule=mv.rule_text()))


@login_required
@require_POST
def energy_prefill(request, pk):
    organization = _organization(request, pk)
    _editable(request, organization)
    try:
        application = services.prefill_application_inputs(organization=organization,
                                                           actor=request.user)
    except DomainError as exc:
        _show_error(request, exc)
        return redirect("energy_home", pk=pk)
    messages.success(request, f"ISO 50003 inputs of {application.reference} filled in from the "
                              "energy review.")
    return redirect("application_detail", pk=application.pk)


# --- setup: meters, variables, uses --------------------------------------------------------

def _setup_forms(request, organization, data=None, which=""):
    meters = list(selectors.meters_of(organization))
    return {
        "meter_form": MeterForm(data if which == "meter" else None, organization=organization,
                                carriers=selectors.carriers(), prefix="meter"),
        "variable_form": VariableForm(data if which == "variable" else None, prefix="variable"),
        "use_form": EnergyUseForm(data if which == "use" else None, meters=meters,
                                  prefix="use"),
    }


@login_required
def energy_setup(request, pk):
    organization = _organization(request, pk)
    which = request.POST.get("what", "") if request.method == "POST" else ""
    forms = _setup_forms(request, organization, request.POST, which)
    if request.method == "POST":
        _editable(request, organization)
        form = forms.get(f"{which}_form")
        create = {"meter": services.create_meter, "variable": services.create_variable,
                  "use": services.create_energy_use}.get(which)
        if form is None or create is None:
            raise Http404("Unknown form")
        if form.is_valid():
            try:
                obj = create(organization=organization, actor=request.user,
                             **form.service_data())
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, f"“{obj}” added.")
                return redirect("energy_setup", pk=pk)
    return render(request, "energy/setup.html", _base(
        request, organization, "setup", **forms,
        meters=selectors.meters_of(organization),
        variables=selectors.variables_of(organization),
        uses=selectors.uses_of(organization),
        carriers=selectors.carriers()))


def _edit_page(request, obj, organization, form, update, title):
    if request.method == "POST" and form.is_valid():
        try:
            update(form.service_data())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"“{obj}” saved.")
            return redirect("energy_setup", pk=organization.pk)
    return render(request, "energy/edit.html", _base(request, organization, "setup", form=form,
                                                     obj=obj, title=title))


@login_required
def meter_edit(request, pk):
    meter = selectors.meter_get(user=request.user, pk=pk)
    _editable(request, meter.organization)
    form = MeterForm(request.POST or None, organization=meter.organization,
                     carriers=selectors.carriers(),
                     initial={"name": meter.name, "site_id": meter.site_id or "",
                              "carrier": meter.carrier.code, "unit": meter.unit})
    return _edit_page(request, meter, meter.organization, form,
                      lambda data: services.update_meter(meter=meter, actor=request.user,
                                                         **data),
                      f"Meter {meter}")


@login_required
def variable_edit(request, pk):
    variable = selectors.variable_get(user=request.user, pk=pk)
    _editable(request, variable.organization)
    form = VariableForm(request.POST or None, initial={
        "name": variable.name, "kind": variable.kind, "unit": variable.unit})
    return _edit_page(request, variable, variable.organization, form,
                      lambda data: services.update_variable(variable=variable,
                                                            actor=request.user, **data),
                      f"Relevant variable {variable}")


@login_required
def energy_use_edit(request, pk):
    use = selectors.energy_use_get(user=request.user, pk=pk)
    _editable(request, use.organization)
    form = EnergyUseForm(request.POST or None, meters=selectors.meters_of(use.organization),
                         initial={"name": use.name, "is_significant": use.is_significant,
                                  "meter_ids": [str(m.pk) for m in use.meters.all()]})
    return _edit_page(request, use, use.organization, form,
                      lambda data: services.update_energy_use(use=use, actor=request.user,
                                                              **data),
                      f"Energy use {use}")


def _delete(request, obj, organization, delete, back="energy_setup"):
    _editable(request, organization)
    label = str(obj)
    try:
        delete()
    except DomainError as exc:
        _show_error(request, exc)
    else:
        messages.success(request, f"“{label}” deleted.")
    return redirect(back, pk=organization.pk)


@login_required
@require_POST
def meter_delete(request, pk):
    meter = selectors.meter_get(user=request.user, pk=pk)
    return _delete(request, meter, meter.organization,
                   lambda: services.delete_meter(meter=meter, actor=request.user))


@login_required
@require_POST
def variable_delete(request, pk):
    variable = selectors.variable_get(user=request.user, pk=pk)
    return _delete(request, variable, variable.organization,
                   lambda: services.delete_variable(variable=variable, actor=request.user))


@login_required
@require_POST
def energy_use_delete(request, pk):
    use = selectors.energy_use_get(user=request.user, pk=pk)
    return _delete(request, use, use.organization,
                   lambda: services.delete_energy_use(use=use, actor=request.user))


# --- import --------------------------------------------------------------------------------

@login_required
def energy_import(request, pk):
    """Step 1: upload. The file is kept in the session until the mapping is confirmed."""
    organization = _organization(request, pk)
    _editable(request, organization)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read(importer.MAX_BYTES + 1)
        try:
            importer.read_table(data, upload.name)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            request.session[PENDING_KEY.format(pk=organization.pk)] = {
                "name": upload.name[:255], "data": base64.b64encode(data).decode("ascii"),
                "sha256": hashlib.sha256(data).hexdigest()}
            return redirect("energy_import_map", pk=pk)
    return render(request, "energy/import.html", _base(
        request, organization, "import", form=form, imports=selectors.imports_of(organization),
        frequencies=importer.FREQUENCIES))


@login_required
def energy_import_map(request, pk):
    """Step 2: preview the first lines, map each column, confirm (all or nothing)."""
    organization = _organization(request, pk)
    _editable(request, organization)
    pending = request.session.get(PENDING_KEY.format(pk=organization.pk))
    if not pending:
        messages.info(request, "Upload a file first.")
        return redirect("energy_import", pk=pk)
    data = base64.b64decode(pending["data"])
    table = importer.read_table(data, pending["name"])
    meters = list(selectors.meters_of(organization))
    variables = list(selectors.variables_of(organization))
    units = sorted(set(CarrierUnit.objects.filter(
        carrier_id__in={m.carrier_id for m in meters}).values_list("unit", flat=True)))
    guesses = [guess_target(header, meters, variables) for header in table.headers]
    # What the file shows, read from the columns as guessed by their names (all but the
    # date columns when no name matches); the import reads the columns as mapped.
    dates = [h for h, g in zip(table.headers, guesses, strict=True)
             if g in ("date", "start", "end")]
    numbers = ([h for h, g in zip(table.headers, guesses, strict=True) if ":" in g]
               or [h for h in table.headers if h not in dates])
    detected = importer.detect(table, number_columns=numbers, date_columns=dates)
    form = MappingForm(request.POST or None, headers=table.headers, meters=meters,
                       variables=variables, units=units, detected=detected, guesses=guesses)
    problems = {}
    if request.method == "POST" and form.is_valid():
        try:
            batch = services.import_energy_data(organization=organization, actor=request.user,
                                                 data=data, file_name=pending["name"],
                                                 mapping=form.mapping())
        except DomainError as exc:
            options = {k: v for k, v in exc.fields.items() if k in form.fields}
            problems = {k: v for k, v in exc.fields.items() if k not in form.fields}
            for key, message in options.items():
                form.add_error(key, message)
            form.add_error(None, exc.message)
        else:
            del request.session[PENDING_KEY.format(pk=organization.pk)]
            messages.success(request, f"Imported {batch.values} values from {batch.rows} lines "
                                      f"of {batch.file_name}.")
            return redirect("energy_home", pk=pk)
    return render(request, "energy/import_map.html", _base(
        request, organization, "import", form=form, file_name=pending["name"],
        headers=table.headers, preview=table.preview(), line_count=len(table.rows),
        problems=problems, flags=detected.flags))


@login_required
@require_POST
def import_undo(request, pk):
    batch = selectors.import_batch_get(user=request.user, pk=pk)
    return _delete(request, batch, batch.organization,
                   lambda: services.undo_import(batch=batch, actor=request.user),
                   back="energy_import")


# --- energy review -------------------------------------------------------------------------

@login_required
def energy_review(request, pk):
    organization = _organization(request, pk)
    review = selectors.energy_review(organization)
    return render(request, "energy/review.html", _base(
        request, organization, "review", review=review,
        pareto=charts.pareto_data(review.by_use)))


# --- baselines, reporting periods, analysis ------------------------------------------------

@login_required
def baseline_list(request, pk):
    organization = _organization(request, pk)
    form = BaselineForm(request.POST or None, meters=selectors.meters_of(organization),
                        variables=selectors.variables_of(organization))
    if request.method == "POST":
        _editable(request, organization)
        if form.is_valid():
            try:
                baseline = services.create_baseline(organization=organization,
                                                    actor=request.user,
                                                    **form.service_data())
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, f"Baseline “{baseline}” fitted.")
                return redirect("baseline_detail", pk=baseline.pk)
    return render(request, "energy/baselines.html", _base(
        request, organization, "baselines", form=form,
        baselines=selectors.assessed_baselines(organization),
        data=selectors.data_summary(organization)))


@login_required
def baseline_detail(request, pk):
    baseline = selectors.baseline_get(user=request.user, pk=pk)
    organization = baseline.organization
    form = ReportingPeriodForm(request.POST or None)
    if request.method == "POST":
        _editable(request, organization)
        if form.is_valid():
            try:
                period = services.add_reporting_period(baseline=baseline, actor=request.user,
                                                       **form.service_data())
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, f"Reporting period “{period}” added.")
                return redirect("reporting_period_detail", pk=period.pk)
    fit = selectors.baseline_fit(baseline)
    points = selectors.baseline_points(baseline)
    scatter = None
    if points.periods:
        scatter = charts.scatter_data(fit, {v.name: v.unit for v in baseline.variables.all()},
                                      points)
    return render(request, "energy/baseline_detail.html", _base(
        request, organization, "baselines", baseline=baseline, fit=fit, form=form,
        terms=analysis.terms(fit), scatter=scatter, periods=baseline.reporting_periods.all(),
        rule=mv.rule_text()))


@login_required
@require_POST
def baseline_delete(request, pk):
    baseline = selectors.baseline_get(user=request.user, pk=pk)
    return _delete(request, baseline, baseline.organization,
                   lambda: services.delete_baseline(baseline=baseline, actor=request.user),
                   back="baseline_list")


@login_required
def reporting_period_detail(request, pk):
    period = selectors.reporting_period_get(user=request.user, pk=pk)
    organization = period.baseline.organization
    try:
        context = report.analysis_context(period)
    except analysis.AnalysisError as exc:
        return render(request, "energy/analysis.html", _base(
            request, organization, "baselines", period=period, baseline=period.baseline,
            no_data=str(exc)))
    context.pop("organization")
    return render(request, "energy/analysis.html", _base(request, organization, "baselines",
                                                         **context))


@login_required
def reporting_period_pdf(request, pk):
    period = selectors.reporting_period_get(user=request.user, pk=pk)
    try:
        data = report.report_pdf(period=period)
    except analysis.AnalysisError as exc:
        messages.error(request, str(exc))
        return redirect("reporting_period_detail", pk=pk)
    return bytes_download_response(data, "application/pdf", report.report_filename(period))


@login_required
@require_POST
def reporting_period_delete(request, pk):
    period = selectors.reporting_period_get(user=request.user, pk=pk)
    organization = period.baseline.organization
    _editable(request, organization)
    try:
        services.delete_reporting_period(period=period, actor=request.user)
    except DomainError as exc:
        _show_error(request, exc)
    return redirect("baseline_detail", pk=period.baseline_id)


# --- EnPIs ---------------------------------------------------------------------------------

@login_required
def enpi_list(request, pk):
    organization = _organization(request, pk)
    form = EnPIForm(request.POST or None, meters=selectors.meters_of(organization),
                    variables=selectors.variables_of(organization),
                    baselines=selectors.baselines_of(organization))
    if request.method == "POST":
        _editable(request, organization)
        if form.is_valid():
            try:
                enpi = services.create_enpi(organization=organization, actor=request.user,
                                            **form.service_data())
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, f"EnPI “{enpi}” added.")
                return redirect("enpi_list", pk=pk)
    trends = [selectors.enpi_trend(enpi) for enpi in selectors.enpis_of(organization)]
    return render(request, "energy/enpis.html", _base(
        request, organization, "enpis", form=form, trends=trends,
        chart=charts.enpi_data(trends)))


@login_required
@require_POST
def enpi_delete(request, pk):
    enpi = selectors.enpi_get(user=request.user, pk=pk)
    return _delete(request, enpi, enpi.organization,
                   lambda: services.delete_enpi(enpi=enpi, actor=request.user),
                   back="enpi_list")


# --- non-routine adjustments ---------------------------------------------------------------

@login_required
def adjustment_list(request, pk):
    """The adjustment log, and (for editors) the form recording a new adjustment."""
    organization = _organization(request, pk)
    form = AdjustmentForm(request.POST or None)
    if request.method == "POST":
        _editable(request, organization)
        if form.is_valid():
            try:
                adjustment = services.create_adjustment(organization=organization,
                                                        actor=request.user,
                                                        **form.service_data())
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, f"Adjustment “{adjustment}” recorded.")
                return redirect("adjustment_list", pk=pk)
    adjustments = list(selectors.adjustments_of(organization))
    return render(request, "energy/adjustments.html", _base(
        request, organization, "adjustments", form=form, adjustments=adjustments,
        total_kwh=sum(a.kwh for a in adjustments)))


@login_required
def adjustment_edit(request, pk):
    adjustment = selectors.adjustment_get(user=request.user, pk=pk)
    organization = adjustment.organization
    _editable(request, organization)
    form = AdjustmentForm(request.POST or None, initial={
        field: getattr(adjustment, field) for field in AdjustmentForm.base_fields})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_adjustment(adjustment=adjustment, actor=request.user,
                                       **form.service_data())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"“{adjustment}” saved.")
            return redirect("adjustment_list", pk=organization.pk)
    return render(request, "energy/edit.html", _base(
        request, organization, "adjustments", form=form, obj=adjustment,
        title=f"Non-routine adjustment: {adjustment}", back="adjustment_list"))


@login_required
@require_POST
def adjustment_delete(request, pk):
    adjustment = selectors.adjustment_get(user=request.user, pk=pk)
    return _delete(request, adjustment, adjustment.organization,
                   lambda: services.delete_adjustment(adjustment=adjustment, actor=request.user),
                   back="adjustment_list")
