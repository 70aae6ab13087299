"""Fixtures for implementation actions, internal audits and management reviews."""

import pytest
from django.utils import timezone


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def gap_row(nordlicht, alice):
    """Nordlicht's open ISO 9001 gap analysis with clause 8.5 assessed as partial."""
    from isocert.catalog.models import Clause, Standard
    from isocert.readiness.models import GapAssessment, GapItem

    standard = Standard.objects.get(code="ISO 9001", is_current=True)
    assessment = GapAssessment.objects.create(organization=nordlicht, standard=standard,
                                              created_by=alice)
    return GapItem.objects.create(assessment=assessment,
                                  clause=Clause.objects.get(standard=standard, number="8.5"),
                                  status=GapItem.Status.PARTIAL)

