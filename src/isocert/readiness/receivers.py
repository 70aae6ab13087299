"""What readiness adds to the pages of apps below it (see ``registration.signals``)."""

from django.dispatch import receiver

from isocert.registration.signals import energy_inputs_requested

from .selectors import energy_inputs_for


@receiver(energy_inputs_requested, dispatch_uid="readiness.energy_inputs")
def energy_inputs_from_gap_analysis(sender, *, organization, **kwargs) -> dict | None:
    """An application's ISO 50001 line is pre-filled from the latest energy review."""
    return energy_inputs_for(organization)
