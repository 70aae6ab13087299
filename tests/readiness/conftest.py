"""Gap-analysis fixtures: Nordlicht's gap analyses and a viewer (Vic)."""

import pytest
from factories import make_user


@pytest.fixture
def vic(nordlicht):
    """A viewer of Nordlicht: reads, never writes."""
    from isocert.accounts.models import Membership

    user = make_user("vic@nordlicht.example", "Vic Viewer")
    Membership.objects.create(organization=nordlicht, user=user, role=Membership.Role.VIEWER)
    return user


@pytest.fixture
def gap9001(nordlicht, alice):
    from isocert.readiness.services import start_gap_assessment

    return start_gap_assessment(organization=nordlicht, standard="ISO 9001", actor=alice)


@pytest.fixture
def gap27001(nordlicht, alice):
    from isocert.readiness.services import start_gap_assessment

    return start_gap_assessment(organization=nordlicht, standard="ISO/IEC 27001", actor=alice)


@pytest.fixture
def gap50001(nordlicht, alice):
    from isocert.readiness.services import start_gap_assessment

    return start_gap_assessment(organization=nordlicht, standard="ISO 50001", actor=alice)
