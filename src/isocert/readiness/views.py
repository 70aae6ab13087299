"""Pages: gap analyses (list, rows filtered and edited inline with htmx or several at once,
compare, reports), the ISO 50001 energy review, and the owner's switch sharing a standard's
readiness with the CB (the stage-1 readiness page that shows it is improvement's)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from isocert.accounts.permissions import can_in
from isocert.core.errors import DomainError
from isocert.core.files import bytes_download_response, stored_file_response
from isocert.core.forms import add_domain_error
from isocert.core.values import optional_int

from . import reports, selectors, services
from .forms import (
    EnergyFactsForm,
    EvidenceForm,
    GapFilterForm,
    GapItemForm,
    GapRowForm,
    GapRowForms,
    ShareForm,
    StartAssessmentForm,
)
from .models import EnergyReviewFacts


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _can_edit(user, organization) -> bool:
    return can_in(user, "edit", organization)


@login_required
def assessment_list(request, pk):
    organization = selectors.organization_for_readiness(user=request.user, pk=pk)
    role = selectors.membership_role(user=request.user, organization=organization)
    return render(request, "readiness/assessment_list.html", {
        "organization": organization, "role": role, "can_edit": role in ("owner", "editor"),
        "assessments": selectors.assessments_for_organization(user=request.user,
                                                              organization=organization),
        "start_form": StartAssessmentForm(initial={
            "standard": selectors.standard_to_start(organization=organization)}),
    })


@login_required
@require_POST
def assessment_start(request, pk):
    organization = selectors.organization_for_readiness(user=request.user, pk=pk)
    if not selectors.is_member(user=request.user, organization=organization):
        raise Http404("No such organization")
    form = StartAssessmentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a standard.")
        return redirect("gap_assessment_list", pk=pk)
    try:
        assessment = services.start_gap_assessment(
            organization=organization, standard=form.cleaned_data["standard"],
            actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("gap_assessment_list", pk=pk)
    messages.success(request, f"Gap analysis for {assessment.standard} started.")
    return redirect("gap_assessment_detail", pk=assessment.pk)


def _row_context(request, item, form=None, editing=False, error=None):
    can_edit = item.assessment.is_open and _can_edit(request.user, item.assessment.organization)
    return {"item": item, "can_edit": can_edit, "editing": editing and can_edit,
            "form": form or GapItemForm(initial=GapItemForm.initial_for(item), item=item,
                                        members=selectors.members_of(item.assessment.organization)),
            "error": error}


def _swaps_rows(request) -> bool:
    """An htmx request for the list of rows only (filtering, the several-rows editor). Going
    back to a page htmx did not keep (history restore) asks for the whole page."""
    return (_is_htmx(request) and request.headers.get("HX-Target") == "gap-rows"
            and request.headers.get("HX-History-Restore-Request") != "true")


def _render_rows_page(request, template, context, status=200):
    response = render(request, template, context, status=status)
    # One address answers the whole page or the rows: a cache must not mix them up.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _filter_form(request, scores) -> GapFilterForm:
    return GapFilterForm(request.GET or None, sections=selectors.section_choices(scores))


@login_required
def assessment_detail(request, pk):
    """The gap analysis: scores, and its rows filtered by clause and status (GET
    parameters; htmx swaps the rows only)."""
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    items = selectors.items_of(assessment)
    scores = selectors.assessment_scores(assessment, items)
    filter_form = _filter_form(request, scores)
    shown = selectors.filter_items(items, **filter_form.filters())
    can_edit = assessment.is_open and _can_edit(request.user, assessment.organization)
    rows = {"assessment": assessment, "groups": selectors.grouped_items(shown, scores),
            "filter_form": filter_form, "shown": len(shown), "total": len(items),
            "can_edit": can_edit}
    if _swaps_rows(request):
        return _render_rows_page(request, "readiness/_rows.html", {**rows, "swapped": True})
    trend = selectors.trend(assessment=assessment)
    chart = {
        "labels": [f"{c['key']}" for c in scores["clauses"]],
        "scores": [float(c["score"]) if c["score"] is not None else None
                   for c in scores["clauses"]],
        "trend_labels": [f"v{t['number']}" for t in trend],
        "trend": [float(t["overall"]["score"]) if t["overall"]["score"] is not None else None
                  for t in trend],
    }
    return _render_rows_page(request, "readiness/assessment_detail.html", {
        **rows, "organization": assessment.organization,
        "scores": scores, "trend": trend, "chart": chart,
        "is_member": selectors.is_member(
            user=request.user, organization=assessment.organization),
        "versions": selectors.versions_of(user=request.user, assessment=assessment),
        "latest_number": max(t["number"] for t in trend),
        "has_open_version": any(t["status"] == "open" for t in trend),
        **selectors.edition_transition_of(assessment),
        "may_edit": _can_edit(request.user, assessment.organization),
    })


def _saved_message(saved) -> str:
    numbers = ", ".join(item.clause.number for item in saved)
    return (f"{len(saved)} clause{'s' * (len(saved) != 1)} saved: {numbers}." if saved
            else "Nothing to save: no clause was changed.")


@login_required
def assessment_edit_rows(request, pk):
    """Several rows at once: the rows the filter shows (GET parameters, as on the gap
    analysis page), one Save for every row changed (``services.update_gap_items``).

    A row with an invalid field: nothing saved, every row comes back as typed, with the
    errors. A row someone saved meanwhile: the others are saved, that one comes back as
    saved now, with what the person had typed beside it to apply again.
    """
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    may_edit = _can_edit(request.user, assessment.organization)
    if request.method == "GET" and not may_edit:
        raise PermissionDenied("Only an owner or editor of the organization edits its gap "
                               "analysis.")
    back = reverse("gap_assessment_detail", args=[pk])
    if request.method == "GET" and not assessment.is_open:
        messages.error(request, f"Version {assessment.number} is frozen and read-only.")
        return redirect(back)
    items = selectors.items_of(assessment)
    filter_form = _filter_form(request, selectors.assessment_scores(assessment, items))
    back += filter_form.query()
    members = selectors.members_of(assessment.organization)
    status = 200
    if request.method == "GET":
        rows = GapRowForms(selectors.filter_items(items, **filter_form.filters()), members)
    else:
        # The rows the person was shown (their statuses may no longer match the filter).
        posted = {optional_int(value) for value in request.POST.getlist("rows")}
        rows = GapRowForms([item for item in items if item.pk in posted], members,
                           data=request.POST)
        status = _save_rows(request, assessment, rows, members)
        if status is None:
            return redirect(back + "#gap-rows")
    context = {"assessment": assessment, "organization": assessment.organization,
               "rows": rows, "filter_form": filter_form, "back": back,
               "in_place": request.method == "GET" and _swaps_rows(request)}
    template = ("readiness/_edit_rows.html" if context["in_place"]
                else "readiness/edit_rows.html")
    return _render_rows_page(request, template, context, status=status)


def _save_rows(request, assessment, rows: GapRowForms, members) -> int | None:
    """Save the rows changed; ``None`` when all were saved, else the page's status."""
    if not rows.is_valid():
        rows.keep_changed(members)
        return 422
    changed = rows.changed
    try:
        result = services.update_gap_items(assessment=assessment, actor=request.user,
                                           changes=[form.change() for form in changed])
    except DomainError as exc:
        rows.add_error(exc.message)
        for key, message in exc.fields.items():  # "items.<index>.<field>"
            _, index, name = key.split(".", 2)
            form = changed[int(index)]
            form.add_error(name if name in form.fields else None, message)
        rows.keep_changed(members)
        return exc.status
    if not result.conflicts:
        messages.success(request, _saved_message(result.saved))
        return None
    if result.saved:
        messages.success(request, _saved_message(result.saved))
    # Every row afresh: the saved ones, and the stale ones as saved now, what the person
    # typed beside them; the rows they did not change had nothing typed.
    typed = {changed[c.index].item.pk: (c.message, changed[c.index].typed())
             for c in result.conflicts}
    fresh = {item.pk: item for item in selectors.items_of(assessment)}
    rows.forms = [GapRowForm(item=fresh[form.item.pk], members=members) for form in rows.forms]
    saved = {item.pk for item in result.saved}
    for form in rows.forms:
        form.saved = form.item.pk in saved
        form.conflict, form.typed_before = typed.get(form.item.pk, ("", []))
        if form.conflict:
            rows.add_error(form.conflict)  # it names the clause
    return 409


@login_required
def item_edit(request, pk):
    """A row: GET shows its form (htmx: the row only), POST saves it with its version."""
    item = selectors.gap_item_get(user=request.user, pk=pk)
    members = selectors.members_of(item.assessment.organization)
    if request.method == "GET":
        if _is_htmx(request) and request.GET.get("view") == "1":
            return render(request, "readiness/_row.html", _row_context(request, item))
        context = _row_context(request, item, editing=True)
        if _is_htmx(request):
            return render(request, "readiness/_row.html", context)
        return render(request, "readiness/item_edit.html", context)
    form = GapItemForm(request.POST, item=item, members=members)
    status, error = 200, None
    if form.is_valid():
        try:
            item = services.update_gap_item(item=item, actor=request.user,
                                            **form.service_data(),
                                            expected_version=form.cleaned_data["version"])
        except DomainError as exc:
            status = exc.status
            if exc.status == 409:
                # Show what is saved now; the person re-applies their change on top of it.
                item = selectors.gap_item_get(user=request.user, pk=pk)
                form = GapItemForm(initial=GapItemForm.initial_for(item), item=item,
                                   members=members)
                error = exc.message
            else:
                add_domain_error(form, exc)
        else:
            if _is_htmx(request):
                return render(request, "readiness/_row.html",
                              {**_row_context(request, item), "saved": True})
            messages.success(request, f"Clause {item.clause.number} saved.")
            return redirect(reverse("gap_assessment_detail", args=[item.assessment_id])
                            + f"#row-{item.pk}")
    else:
        status = 422
    context = _row_context(request, item, form=form, editing=True, error=error)
    template = "readiness/_row.html" if _is_htmx(request) else "readiness/item_edit.html"
    return render(request, template, context, status=status)


@login_required
@require_POST
def evidence_add(request, pk):
    item = selectors.gap_item_get(user=request.user, pk=pk)
    form = EvidenceForm(request.POST, request.FILES)
    back = reverse("gap_assessment_detail", args=[item.assessment_id]) + f"#row-{item.pk}"
    if form.is_valid():
        try:
            evidence = services.add_gap_evidence(
                item=item, actor=request.user, title=form.cleaned_data["title"],
                upload=form.cleaned_data["file"], link=form.cleaned_data["link"])
        except DomainError as exc:
            messages.error(request, " ".join([exc.message, *exc.fields.values()]))
        else:
            messages.success(request, f"Evidence “{evidence.title}” added to "
                                      f"{item.clause.number}.")
    else:
        messages.error(request, "The evidence was not added: check the fields.")
    return redirect(back)


@login_required
def evidence_download(request, pk):
    evidence = selectors.evidence_get(user=request.user, pk=pk)
    if evidence.file is None:
        raise Http404("A link, not a file")
    return stored_file_response(evidence.file, evidence.original_name or evidence.title)


@login_required
@require_POST
def evidence_delete(request, pk):
    evidence = selectors.evidence_get(user=request.user, pk=pk)
    item = evidence.item
    try:
        services.remove_gap_evidence(evidence=evidence, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Evidence “{evidence.title}” removed.")
    return redirect(reverse("gap_assessment_detail", args=[item.assessment_id])
                    + f"#row-{item.pk}")


@login_required
@require_POST
def item_mirror(request, pk):
    item = selectors.gap_item_get(user=request.user, pk=pk)
    try:
        targets = services.mirror_gap_item(item=item, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if targets:
            messages.success(request, f"Clause {item.clause.number} mirrored to "
                             + ", ".join(str(t.assessment.standard) for t in targets) + ".")
        else:
            messages.info(request, "No other open gap analysis has this clause.")
    return redirect(reverse("gap_assessment_detail", args=[item.assessment_id])
                    + f"#row-{item.pk}")


@login_required
@require_POST
def assessment_freeze(request, pk):
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    try:
        services.freeze_gap_assessment(assessment=assessment, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Version {assessment.number} frozen: it is now a read-only "
                                  "snapshot.")
    return redirect("gap_assessment_detail", pk=pk)


@login_required
@require_POST
def assessment_new_version(request, pk):
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    try:
        new = services.start_new_version(assessment=assessment, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("gap_assessment_detail", pk=pk)
    messages.success(request, f"Version {new.number} started from version {assessment.number}.")
    return redirect("gap_assessment_detail", pk=new.pk)


@login_required
@require_POST
def assessment_carry(request, pk):
    """Carry the gap analysis to the edition that supersedes its standard."""
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    try:
        new = services.carry_gap_analysis(assessment=assessment, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("gap_assessment_detail", pk=pk)
    messages.success(request, f"Gap analysis carried to {new.standard}: matching clauses "
                              "copied, new clauses to assess.")
    return redirect("gap_assessment_detail", pk=new.pk)


@login_required
def assessment_compare(request, pk):
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    versions = list(selectors.versions_of(user=request.user, assessment=assessment))
    other_pk = request.GET.get("with")
    other = next((v for v in versions if str(v.pk) == other_pk), None) or assessment.previous
    older, newer = ((other, assessment) if other is None or other.number < assessment.number
                    else (assessment, other))
    return render(request, "readiness/compare.html", {
        "assessment": assessment, "organization": assessment.organization,
        "older": older, "newer": newer, "versions": versions,
        "changes": selectors.compare(older=older, newer=newer) if older else [],
    })


@login_required
def energy_facts(request, pk):
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    if not assessment.standard.is_energy:
        raise Http404("Not an ISO 50001 gap analysis")
    facts = EnergyReviewFacts.objects.filter(assessment=assessment).first()
    can_edit = assessment.is_open and _can_edit(request.user, assessment.organization)
    form = EnergyFactsForm(request.POST or None, initial=EnergyFactsForm.initial_for(facts))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data, field_map = form.service_data()
            try:
                services.save_energy_facts(assessment=assessment, actor=request.user, **data)
            except DomainError as exc:
                add_domain_error(form, exc, field_map)
                status = exc.status
            else:
                messages.success(request, "Energy-review facts saved.")
                return redirect("gap_energy_facts", pk=pk)
        else:
            status = 422
    return render(request, "readiness/energy_facts.html", {
        "assessment": assessment, "organization": assessment.organization, "facts": facts,
        "form": form, "can_edit": can_edit,
    }, status=status)


def _report(request, pk, kind):
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    if kind == "pdf":
        data, content_type = (reports.gap_report_pdf(assessment=assessment), "application/pdf")
    else:
        data = reports.gap_report_xlsx(assessment=assessment)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return bytes_download_response(data, content_type, reports.report_filename(assessment, kind))


@login_required
def report_pdf(request, pk):
    return _report(request, pk, "pdf")


@login_required
def report_xlsx(request, pk):
    return _report(request, pk, "xlsx")


@login_required
@require_POST
def readiness_share(request, pk):
    organization = selectors.organization_for_readiness(user=request.user, pk=pk)
    if not selectors.is_member(user=request.user, organization=organization):
        raise Http404("No such organization")
    form = ShareForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a standard.")
        return redirect("readiness", pk=pk)
    try:
        share = services.set_readiness_share(
            organization=organization, standard=form.cleaned_data["standard"],
            actor=request.user, shared=form.cleaned_data["shared"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Readiness for {share.standard} is "
                         + ("now shared with the certification body." if share.is_shared
                            else "no longer shared with the certification body."))
    return redirect("readiness", pk=pk)

