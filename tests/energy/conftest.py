"""Fixtures of the energy tests: Nordlicht's meters, variables and uses; Vera, a viewer."""

import pytest
from factories import make_user


@pytest.fixture
def setup(nordlicht, alice):
    """Electricity (kWh) and natural gas (m³) meters, production and HDD variables,
    furnaces (an SEU, on electricity) and space heating (on gas)."""
    from isocert.energy.demo import set_up_meters

    return set_up_meters(organization=nordlicht, actor=alice)


@pytest.fixture
def story(nordlicht, alice):
    """Setup, 18 months of data (2024-01 … 2025-06), baseline 2024, reporting 2025 H1."""
    from isocert.energy.demo import build_energy_story

    return build_energy_story(organization=nordlicht, actor=alice)


@pytest.fixture
def vera(nordlicht):
    """A viewer of Nordlicht: reads, never writes."""
    from isocert.accounts.models import Membership

    user = make_user("vera@nordlicht.example", "Vera Viewer")
    Membership.objects.create(organization=nordlicht, user=user, role=Membership.Role.VIEWER)
    return user
