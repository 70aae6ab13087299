"""Certificate numbers: from the format setting, unique and gap-free per standard and year,
also with concurrent issuers on PostgreSQL."""

import threading

import pytest
from certification_helpers import DECIDED, decision_ready_cycle
from django.db import connection, connections, transaction

from isocert.accounts.models import User
from isocert.accounts.services import create_organization
from isocert.certification.models import Certificate
from isocert.certification.services import allocate_number, decide, standard_key
from isocert.core.audit import verify_chain

THREADS = 20


def test_standard_keys():
    assert standard_key(["ISO 50001"]) == "ISO50001"
    assert standard_key(["ISO/IEC 27001"]) == "ISOIEC27001"
    assert standard_key(["ISO 9001", "ISO 14001"]) == "IMS"


def test_the_format_is_a_setting(settings, db):
    settings.CERTIFICATE_NUMBER_FORMAT = "CB/{year}/{std}/{seq:04d}"

    with transaction.atomic():
        assert allocate_number(["ISO 14001"], 2026) == "CB/2026/ISO14001/0001"
        assert allocate_number(["ISO 14001"], 2026) == "CB/2026/ISO14001/0002"
        assert allocate_number(["ISO 14001"], 2027) == "CB/2027/ISO14001/0001"


def test_a_rolled_back_issue_gives_its_number_back(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        allocate_number(["ISO 9001"], 2026)
        raise RuntimeError("the grant failed after the number was drawn")

    with transaction.atomic():
        assert allocate_number(["ISO 9001"], 2026) == "ISO9001-2026-000001"


def organization_of(owner, n):
    return create_organization(actor=owner, legal_name=f"Parallel Works {n} GmbH", country="DE",
                               registered_address=f"Werkstraße {n}, Bremen", sector_codes=[17],
                               scope_statement="Die casting of aluminium parts.")


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="needs row locks and concurrent writers (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_grants_get_distinct_gap_free_numbers(alice, rita, adam, dora):
    from isocert.accounts.services import add_site

    cycles = []
    for n in range(THREADS):
        organization = organization_of(alice, n)
        add_site(organization=organization, actor=alice, name="Plant", address="Werkstraße 1",
                 effective_personnel=30, is_central_function=True)
        cycles.append(decision_ready_cycle(organization, alice, rita, adam))
    start = threading.Barrier(THREADS)
    numbers: dict[int, str] = {}
    failures: list[BaseException] = []

    def issue(cycle_pk: int) -> None:
        try:
            from isocert.audits.models import CertificationCycle

            cycle = CertificationCycle.objects.get(pk=cycle_pk)
            decider = User.objects.get(pk=dora.pk)
            start.wait(timeout=30)
            decision = decide(cycle=cycle, actor=decider, kind="initial", outcome="grant",
                              decision_date=DECIDED)
            numbers[cycle_pk] = decision.certificate.number
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue, args=(c.pk,)) for c in cycles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not failures, failures
    assert sorted(numbers.values()) == [f"ISO9001-2026-{seq:06d}" for seq in range(1, THREADS + 1)]
    assert Certificate.objects.count() == THREADS
    assert verify_chain() is None
