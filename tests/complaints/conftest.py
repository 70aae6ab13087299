"""Fixtures of the complaints and appeals tests: Alice's Nordlicht certified by Dora after
Adam's stage 2, with Rita as the application's reviewer."""

import pytest
from certification_helpers import DECIDED, certified_cycle, decision_ready_cycle
from factories import make_user, qualify_decision_maker
from programme_helpers import auditor

from isocert.certification.models import Certificate


@pytest.fixture
def lead(db):
    """Adam, the lead auditor of Nordlicht's stage 2."""
    return auditor("adam.lead@cb.example", "Adam Lead", lead=True)


@pytest.fixture
def decider(db):
    user = make_user("dora.decider@cb.example", "Dora Decider", roles=["decision_maker"])
    qualify_decision_maker(user)
    return user


@pytest.fixture
def vic(db):
    """Another decision maker, not involved in Nordlicht's cycle."""
    user = make_user("vic.independent@cb.example", "Vic Independent", roles=["decision_maker"])
    qualify_decision_maker(user)
    return user


@pytest.fixture
def ivan(db):
    """An auditor who never audited Nordlicht: a possible investigator or panel member."""
    return auditor("ivan.investigator@cb.example", "Ivan Investigator")


@pytest.fixture
def certified(nordlicht, alice, rita, lead, decider):
    return certified_cycle(nordlicht, alice, rita, lead, decider, decided=DECIDED)


@pytest.fixture
def certificate(certified) -> Certificate:
    return Certificate.objects.get(cycle=certified)


@pytest.fixture
def ready_cycle(nordlicht, alice, rita, lead):
    return decision_ready_cycle(nordlicht, alice, rita, lead)
