"""The sites a certificate lists (ISO/IEC 17021-1 §8.2.2; IAF MD 1): exactly the sites in
the certified scope of the cycle — applied for and so covered by the audit programme,
sampled sites included, sites excluded from the scope not — each with its own address
and country; scope extensions and reductions change the list through the same rule
(``services.certified_sites``)."""

import datetime

import pytest
from certification_helpers import DECIDED, closed_audit, decision_ready_cycle
from factories import client_for

from isocert.accounts.services import add_site
from isocert.audits.models import Audit
from isocert.audits.programme.services import add_special_audit
from isocert.certification.lifecycle import suspend_certificate
from isocert.certification.models import Certificate
from isocert.certification.services import certified_sites, decide
from isocert.core.errors import Conflict, InvalidInput
from isocert.core.models import AuditEvent

REDUCED_ON = datetime.date(2026, 5, 4)


@pytest.fixture
def cycle(nordlicht, alice, rita, adam):
    """Nordlicht applies for its Bremen head office, the Oldenburg plant and a plant in
    Poland; a Hamburg warehouse is added to the organization after the application."""
    add_site(organization=nordlicht, actor=alice, name="Szczecin plant", address="ul. Portowa 3",
             city="Szczecin", country="PL", effective_personnel=40)
    cycle = decision_ready_cycle(nordlicht, alice, rita, adam)
    add_site(organization=nordlicht, actor=alice, name="Hamburg warehouse",
             address="Kaiserkai 1, Hamburg", effective_personnel=5)
    return cycle


def site(organization, name):
    return organization.sites.get(name=name)


def printed(certificate) -> list[tuple[str, str]]:
    return list(certificate.sites.values_list("name", "country"))


def grant(cycle, dora, **extra):
    return decide(cycle=cycle, actor=dora, kind="initial", outcome="grant",
                  decision_date=DECIDED, **extra)


def test_the_certificate_lists_the_sites_applied_for_each_with_its_country(cycle, dora,
                                                                         nordlicht):
    certificate = grant(cycle, dora).certificate

    assert printed(certificate) == [("Bremen head office", "DE"), ("Oldenburg plant", "DE"),
                                    ("Szczecin plant", "PL")]
    content = certificate.revisions.get().content
    szczecin = next(s for s in content["sites"] if s["name"] == "Szczecin plant")
    assert (szczecin["country"], szczecin["country_name"]) == ("PL", "Poland")
    assert "Hamburg warehouse" not in {s["name"] for s in content["sites"]}
    assert set(certificate.sites.values_list("site_id", flat=True)) == set(
        cycle.application.sites.values_list("pk", flat=True))


def test_a_sampled_site_the_stage_2_did_not_visit_is_certified(cycle, dora, nordlicht):
    stage2 = cycle.audits.get(kind=Audit.Kind.STAGE2)
    stage2.sites.set([site(nordlicht, "Bremen head office")])

    certificate = grant(cycle, dora).certificate

    assert "Oldenburg plant" in dict(printed(certificate))


def test_a_site_excluded_from_the_scope_is_not_certified(cycle, dora, nordlicht):
    kept = [site(nordlicht, "Bremen head office").pk, site(nordlicht, "Szczecin plant").pk]

    decision = grant(cycle, dora, site_ids=kept)

    assert [name for name, _ in printed(decision.certificate)] == ["Bremen head office",
                                                                   "Szczecin plant"]
    assert decision.site_ids == kept
    event = AuditEvent.objects.get(action="certification.certificate.issued")
    assert event.payload["sites"] == kept


@pytest.mark.parametrize("names, message", [
    (["Oldenburg plant"], "central function"),
    (["Bremen head office", "Hamburg warehouse"], "applied for"),
])
def test_sites_outside_the_rule_are_refused(cycle, dora, nordlicht, names, message):
    with pytest.raises(InvalidInput) as refused:
        grant(cycle, dora, site_ids=[site(nordlicht, name).pk for name in names])

    assert "site_ids" in refused.value.fields
    assert message in refused.value.message
    assert not Certificate.objects.exists()


def test_a_scope_reduction_leaves_out_a_site_and_adds_none(cycle, dora, nordlicht):
    certificate = grant(cycle, dora).certificate
    head, plant = site(nordlicht, "Bremen head office"), site(nordlicht, "Szczecin plant")

    decide(cycle=cycle, actor=dora, kind="scope_reduction", outcome="grant",
           decision_date=REDUCED_ON, site_ids=[head.pk, plant.pk],
           reason="Oldenburg plant closed.")

    certificate.refresh_from_db()
    assert certificate.revision == 2
    assert [name for name, _ in printed(certificate)] == ["Bremen head office",
                                                          "Szczecin plant"]
    oldenburg = site(nordlicht, "Oldenburg plant")
    with pytest.raises(InvalidInput) as refused:
        decide(cycle=cycle, actor=dora, kind="scope_reduction", outcome="grant",
               decision_date=REDUCED_ON, site_ids=[head.pk, oldenburg.pk],
               reason="Swap the plants.")
    assert "site_ids" in refused.value.fields
    with pytest.raises(InvalidInput) as unchanged:
        decide(cycle=cycle, actor=dora, kind="scope_reduction", outcome="grant",
               decision_date=REDUCED_ON, reason="Nothing changes really.")
    assert {"scope", "site_ids"} <= set(unchanged.value.fields)
    # The default of a later decision is the certificate's current list.
    assert [s.name for s in certified_sites(cycle=cycle, kind="recertification",
                                            certificate=certificate)] == [
        "Bremen head office", "Szczecin plant"]


def test_a_scope_extension_adds_back_a_site_the_extension_audit_covered(
        cycle, dora, rita, adam, alice, nordlicht):
    head, plant = site(nordlicht, "Bremen head office"), site(nordlicht, "Oldenburg plant")
    certificate = grant(cycle, dora, site_ids=[head.pk]).certificate
    audit = add_special_audit(cycle=cycle, actor=rita, kind="scope_extension",
                              reason="Oldenburg plant ready.")
    closed_audit(audit, lead=adam, owner=alice, end=datetime.date(2026, 5, 20))
    audit.sites.set([head, plant])

    with pytest.raises(InvalidInput) as unaudited:
        decide(cycle=cycle, actor=dora, kind="scope_extension", outcome="grant",
               decision_date=datetime.date(2026, 6, 1),
               site_ids=[head.pk, plant.pk, site(nordlicht, "Szczecin plant").pk])
    assert "did not cover Szczecin plant" in unaudited.value.message
    decide(cycle=cycle, actor=dora, kind="scope_extension", outcome="grant",
           decision_date=datetime.date(2026, 6, 1), site_ids=[head.pk, plant.pk])

    certificate.refresh_from_db()
    assert [name for name, _ in printed(certificate)] == ["Bremen head office",
                                                          "Oldenburg plant"]


def test_a_scope_extension_keeps_every_certified_site(cycle, dora, rita, adam, alice,
                                                      nordlicht):
    grant(cycle, dora)
    audit = add_special_audit(cycle=cycle, actor=rita, kind="scope_extension",
                              reason="Machining line added.")
    closed_audit(audit, lead=adam, owner=alice, end=datetime.date(2026, 5, 20))

    with pytest.raises(InvalidInput) as refused:
        decide(cycle=cycle, actor=dora, kind="scope_extension", outcome="grant",
               decision_date=datetime.date(2026, 6, 1), scope="Casting and machining.",
               site_ids=[site(nordlicht, "Bremen head office").pk])
    assert "Oldenburg plant" in refused.value.message


# --- scope reduction while suspended (§9.6.5) ---------------------------------------------

def test_a_suspended_certificate_can_be_reduced_and_stays_suspended(cycle, dora, nordlicht):
    certificate = grant(cycle, dora).certificate
    suspend_certificate(certificate=certificate, actor=dora, date=datetime.date(2026, 4, 20),
                        reason="Major nonconformity at the Oldenburg plant not closed.")

    decide(cycle=cycle, actor=dora, kind="scope_reduction", outcome="grant",
           decision_date=REDUCED_ON, reason="Oldenburg plant does not conform.",
           site_ids=[site(nordlicht, "Bremen head office").pk,
                     site(nordlicht, "Szczecin plant").pk])

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.SUSPENDED
    assert certificate.revision == 2
    assert "Oldenburg plant" not in dict(printed(certificate))


def test_a_suspended_certificate_cannot_be_extended(cycle, dora, rita, adam, alice):
    certificate = grant(cycle, dora).certificate
    suspend_certificate(certificate=certificate, actor=dora, date=datetime.date(2026, 4, 20),
                        reason="Major nonconformity not closed.")
    audit = add_special_audit(cycle=cycle, actor=rita, kind="scope_extension",
                              reason="Machining line added.")
    closed_audit(audit, lead=adam, owner=alice, end=datetime.date(2026, 5, 20))

    with pytest.raises(Conflict) as refused:
        decide(cycle=cycle, actor=dora, kind="scope_extension", outcome="grant",
               decision_date=datetime.date(2026, 6, 1), scope="Casting and machining.")
    assert "extended only while it is active" in refused.value.message


# --- the page and the API -----------------------------------------------------------------

def test_the_decision_page_offers_the_sites_applied_for(cycle, dora, nordlicht):
    client = client_for(dora)

    page = client.get(f"/cb/cycles/{cycle.pk}/decision/").content.decode()
    assert "Szczecin plant (PL)" in page and "Hamburg warehouse" not in page
    head = site(nordlicht, "Bremen head office")
    response = client.post(f"/cb/cycles/{cycle.pk}/decision/", {
        "kind": "initial", "outcome": "grant", "decision_date": DECIDED.isoformat(),
        "scope": "Die casting of aluminium parts.", "site_ids": [head.pk]})

    assert response.status_code == 302, response.content.decode()[:2000]
    assert printed(Certificate.objects.get()) == [("Bremen head office", "DE")]


def test_the_api_takes_and_returns_the_certified_sites(cycle, dora, nordlicht, api_client):
    client = api_client(dora)
    head = site(nordlicht, "Bremen head office")

    refused = client.post(f"/api/v1/cycles/{cycle.pk}/decisions", {
        "kind": "initial", "outcome": "grant", "decision_date": DECIDED.isoformat(),
        "site_ids": [site(nordlicht, "Hamburg warehouse").pk, head.pk]},
        content_type="application/json")
    assert refused.status_code == 422
    assert "site_ids" in refused.json()["error"]["fields"]
    granted = client.post(f"/api/v1/cycles/{cycle.pk}/decisions", {
        "kind": "initial", "outcome": "grant", "decision_date": DECIDED.isoformat(),
        "site_ids": [head.pk]}, content_type="application/json")
    assert granted.status_code == 201, granted.content
    assert granted.json()["site_ids"] == [head.pk]
    certificate = client.get(f"/api/v1/certificates/{granted.json()['certificate_id']}").json()
    assert [(s["name"], s["country"], s["site_id"]) for s in certificate["sites"]] == [
        ("Bremen head office", "DE", head.pk)]
