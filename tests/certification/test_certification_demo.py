"""The demo certificates: issued through the services by ``isocert seed-demo``, once."""

from io import StringIO

import pytest
from django.core.management import call_command

from isocert.certification.models import Certificate, CertificateRevision
from isocert.core.audit import verify_chain

pytestmark = pytest.mark.django_db


def test_seed_demo_issues_an_active_energy_and_a_suspended_certificate_once():
    call_command("seed-demo", stdout=StringIO())

    active = Certificate.objects.get(status="Active")
    suspended = Certificate.objects.get(status="Suspended")
    assert (active.organization_name, active.standard_labels) == (
        "Nordlicht Aluminium GmbH", ["ISO 50001:2018"])
    assert active.decisions.get().energy_evidence is not None
    assert suspended.organization_name == "Brightpath Services Ltd"
    assert suspended.suspended_until is not None
    assert not CertificateRevision.objects.filter(pdf__isnull=True).exists()

    counts = (Certificate.objects.count(), CertificateRevision.objects.count())
    again = StringIO()
    call_command("seed-demo", stdout=again)
    assert "already present" in again.getvalue()
    assert (Certificate.objects.count(), CertificateRevision.objects.count()) == counts
    assert verify_chain() is None
