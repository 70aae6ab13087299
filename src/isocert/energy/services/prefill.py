"""Pre-filling the draft ISO 50001 application with the energy review's figures."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from isocert.accounts.models import Organization, User
from isocert.accounts.services import ensure_can_edit
from isocert.core.errors import Conflict, InvalidInput
from isocert.registration.models import EDITABLE_BY_CLIENT, Application
from isocert.registration.services import update_application

from .. import selectors
from ._common import event


@transaction.atomic
def prefill_application_inputs(*, organization: Organization, actor: User) -> Application:
    """Copy the energy review's annual TJ, energy types and SEU count into the draft
    ISO 50001 application's inputs, through the registration service that edits
    applications (same checks, version bump and audit event as a change by hand)."""
    ensure_can_edit(organization, actor)
    inputs = selectors.iso50003_inputs(organization)
    if inputs is None:
        raise InvalidInput("Import meter readings first: the energy review has no data.",
                           fields={"organization": "No energy data."})
    application = (Application.objects.filter(
        organization=organization, status__in=EDITABLE_BY_CLIENT,
        standard_lines__standard__code=selectors.ENERGY_STANDARD)
        .order_by("-created_at", "-pk").first())
    if application is None:
        raise Conflict("There is no ISO 50001 application in draft to fill in; start one "
                       "from the organization's page.")
    tj = Decimal(str(inputs["annual_energy_consumption_tj"])).quantize(
        Decimal("0.001"), rounding=ROUND_HALF_UP)
    lines = []
    for line in application.standard_lines.select_related("standard"):
        entry = {"standard": line.standard.code, "effective_personnel": line.effective_personnel,
                 "complexity": line.complexity}
        if line.standard.is_energy:
            entry.update(annual_energy_consumption_tj=max(tj, Decimal("0.001")),
                         energy_types=inputs["energy_types"],
                         significant_energy_uses=inputs["significant_energy_uses"])
        lines.append(entry)
    application = update_application(application=application, actor=actor,
                                     standards=lines)
    event(actor, "energy.application.prefilled", application, organization,
           {"application": application.reference,
            "annual_energy_consumption_tj": str(tj),
            "energy_types": inputs["energy_types"],
            "significant_energy_uses": inputs["significant_energy_uses"]})
    return application
