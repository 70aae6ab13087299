"""The CB administrator's pages of edition transitions: the list with the form recording a
new one, and a transition's page to change it (``editions.record_transition``,
``editions.change_transition``). Other people get 404: the pages do not exist for them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render

from isocert.accounts.permissions import can
from isocert.catalog import selectors as catalog_selectors
from isocert.core.errors import DomainError
from isocert.core.forms import add_domain_error

from . import editions
from .forms import EditionTransitionChangeForm, EditionTransitionForm


def _ensure_administrator(user) -> None:
    if not can(user, "administer"):
        raise Http404("Not a CB administrator")


@login_required
def edition_transitions(request):
    _ensure_administrator(request.user)
    form = EditionTransitionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                transition = editions.record_transition(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
            else:
                messages.success(request, f"Transition recorded: {transition}.")
                return redirect("edition_transitions")
    return render(request, "certification/edition_transitions.html", {
        "transitions": catalog_selectors.transitions_all(), "form": form}, status=status)


@login_required
def edition_transition_edit(request, pk):
    _ensure_administrator(request.user)
    transition = catalog_selectors.transition_get(pk)
    if transition is None:
        raise Http404("No such transition")
    initial = {"deadline": transition.deadline, "extra_audit_days": transition.extra_audit_days,
               "extra_audit_percent": transition.extra_audit_percent,
               "notice_reference": transition.notice_reference}
    form = EditionTransitionChangeForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                editions.change_transition(transition=transition, actor=request.user,
                                           **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
            else:
                messages.success(request, f"Transition {transition.from_standard} → "
                                          f"{transition.to_standard} saved.")
                return redirect("edition_transitions")
    return render(request, "certification/edition_transition_edit.html",
                  {"transition": transition, "form": form}, status=status)
