"""Fixtures of the impartiality tests: Ada keeps the register (administrator), Dora reads it
(decision maker), Adam declared consultancy for Alice's Nordlicht."""

import datetime

import pytest
from django.utils import timezone

from isocert.accounts.services import declare_client_relationship
from isocert.impartiality import committee, services


@pytest.fixture
def risk(ada):
    return services.record_risk(
        threat="self_interest", source="Fee dependence on one large client",
        description="One client brings a fifth of the CB's certification fees.",
        likelihood=2, impact=3, safeguard="Decisions by a person paid no commission.",
        owner=ada, actor=ada)


@pytest.fixture
def relationship(adam, nordlicht):
    """Adam's consultancy for Nordlicht, ongoing since last year."""
    return declare_client_relationship(
        user=adam, organization_id=nordlicht.pk, kind="consultancy",
        start_date=timezone.localdate() - datetime.timedelta(days=400), actor=adam)


@pytest.fixture
def members(ada):
    today = timezone.localdate()
    return [
        committee.add_committee_member(name="Carla Client", organization="Hansa Metall",
                                       interest="clients", email="carla@hansa.example",
                                       appointed_on=today, actor=ada),
        committee.add_committee_member(name="Ralf Regulator", organization="Gewerbeaufsicht",
                                       interest="regulators", email="ralf@gaa.example",
                                       appointed_on=today, actor=ada),
        committee.add_committee_member(name="Nina Consumer", organization="Verbraucherzentrale",
                                       interest="ngos", email="nina@vz.example",
                                       appointed_on=today, actor=ada),
    ]


@pytest.fixture
def meeting(ada):
    return committee.plan_meeting(date=timezone.localdate(), actor=ada,
                                  agenda="1. Annual review of the impartiality register.")
