"""The decision queue and the decision page: who sees them, the checklist, the form and
its errors named on the field, and the grant that leads to the certificate."""

import pytest
from certification_helpers import (
    DECIDED,
    ENERGY_LINE,
    certified_cycle,
    decision_ready_cycle,
    recertify,
)
from django.core.files.uploadedfile import SimpleUploadedFile

from isocert.audits.models import Audit, TeamMember
from isocert.certification import services
from isocert.certification.models import Certificate, CertificationDecision

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def cycle(nordlicht, alice, rita, adam):
    return decision_ready_cycle(nordlicht, alice, rita, adam, findings=("minor",))


def url(cycle) -> str:
    return f"/cb/cycles/{cycle.pk}/decision/"


def grant_data(**extra) -> dict:
    return {"kind": "initial", "outcome": "grant", "decision_date": DECIDED.isoformat(),
            "effective_date": "", "reason": "", "scope": "Die casting of aluminium parts.",
            **extra}


def test_dora_finds_the_cycle_in_her_queue_and_grants(cycle, dora, api_client):
    client = api_client(dora)

    queue = client.get("/cb/decisions/")
    assert queue.status_code == 200
    assert url(cycle) in queue.content.decode()
    assert "Nordlicht Aluminium GmbH" in queue.content.decode()

    page = client.get(url(cycle))
    assert page.status_code == 200
    html = page.content.decode()
    for text in ("Nordlicht Aluminium GmbH", "ISO 9001", "Bremen head office", "Oldenburg plant",
                 "Stage 2 report issued with a recommendation", "Recommend certification",
                 "Every minor nonconformity has an accepted plan", "1 minor(s), all with an "
                 "accepted plan.", "Minor nonconformity", "Scope at Oldenburg plant",
                 "Every item is met", "No decision yet."):
        assert text in html, text
    assert "Statement of Applicability" not in html and "energy_evidence" not in html
    assert 'href="/audits/' in html  # the report and the findings are linked

    oldenburg = cycle.organization.sites.get(name="Oldenburg plant")
    granted = client.post(url(cycle), grant_data(**{f"site_{oldenburg.pk}": "Casting only"}))

    certificate = Certificate.objects.get()
    assert granted.status_code == 302
    assert granted["Location"] == f"/certificates/{certificate.pk}/"
    assert certificate.sites.get(name="Oldenburg plant").scope == "Casting only"
    decision = CertificationDecision.objects.get()
    assert (decision.kind, decision.outcome, decision.decided_by) == ("initial", "grant", dora)
    assert url(cycle) not in client.get("/cb/decisions/").content.decode()
    after = client.get(url(cycle)).content.decode()
    assert certificate.number in after and "Initial certification" in after


@pytest.mark.parametrize("who", ["alice", "bob", "charlie", "adam"])
def test_clients_and_auditors_get_404(cycle, who, request, api_client):
    client = api_client(request.getfixturevalue(who))
    assert client.get("/cb/decisions/").status_code == 404
    assert client.get(url(cycle)).status_code == 404
    assert client.post(url(cycle), grant_data()).status_code == 404
    assert not CertificationDecision.objects.exists()


def test_a_reviewer_sees_the_checklist_but_cannot_decide(cycle, rita, api_client):
    client = api_client(rita)
    page = client.get(url(cycle)).content.decode()
    assert "Only a CB decision maker can take certification decisions" in page
    assert 'name="outcome"' not in page

    refused = client.post(url(cycle), grant_data())
    assert refused.status_code == 403
    assert "Only a CB decision maker" in refused.content.decode()
    assert not CertificationDecision.objects.exists()


def test_form_errors_name_the_field(cycle, dora, api_client):
    client = api_client(dora)

    no_reason = client.post(url(cycle), grant_data(outcome="refuse"))
    assert no_reason.status_code == 422
    html = no_reason.content.decode()
    assert 'id="id_reason_error"' in html and "Give the reason for refusing" in html

    early = client.post(url(cycle), grant_data(effective_date="2026-03-01"))
    assert early.status_code == 422
    assert 'id="id_effective_date_error"' in early.content.decode()

    missing_date = client.post(url(cycle), grant_data(decision_date="", outcome="nonsense"))
    assert missing_date.status_code == 422
    html = missing_date.content.decode()
    assert 'id="id_decision_date_error"' in html and 'id="id_outcome_error"' in html
    assert not CertificationDecision.objects.exists()


def test_a_grant_with_an_open_item_is_refused_and_says_which(nordlicht, alice, rita, adam,
                                                            dora, api_client):
    cycle = decision_ready_cycle(nordlicht, alice, rita, adam, findings=("minor",),
                                 verify=False)
    client = api_client(dora)
    page = client.get(url(cycle)).content.decode()
    assert "No accepted plan: #1" in page and "can only be refused or deferred" in page

    refused = client.post(url(cycle), grant_data())
    assert refused.status_code == 409
    assert "Certification cannot be granted yet: Every minor nonconformity has an accepted " \
        "plan" in refused.content.decode()

    deferred = client.post(url(cycle), grant_data(outcome="defer",
                                                  reason="Waiting for the plan of finding #1."))
    assert deferred.status_code == 302 and deferred["Location"] == url(cycle)
    listed = client.get(url(cycle)).content.decode()
    assert "Decision recorded: Initial certification deferred." in listed
    assert "Waiting for the plan of finding #1." in listed
    assert not Certificate.objects.exists()


def test_a_decision_maker_on_the_audit_team_sees_why_she_may_not_decide(cycle, dora,
                                                                        api_client):
    stage2 = cycle.audits.get(kind=Audit.Kind.STAGE2)
    TeamMember.objects.create(audit=stage2, auditor=dora, role=TeamMember.Role.MEMBER)
    client = api_client(dora)

    page = client.get(url(cycle)).content.decode()
    assert "You may not take this decision" in page
    assert "was on the audit team of this cycle (Stage 2)" in page

    refused = client.post(url(cycle), grant_data())
    assert refused.status_code == 403
    assert "must be taken by someone not involved in the audit" in refused.content.decode()
    assert not CertificationDecision.objects.exists()


def test_iso_50001_without_portal_data_asks_for_evidence_and_a_statement(
        nordlicht, alice, rita, adam, dora, api_client):
    cycle = decision_ready_cycle(nordlicht, alice, rita, adam, standards=[ENERGY_LINE])
    client = api_client(dora)
    page = client.get(url(cycle)).content.decode()
    assert "Energy performance improvement demonstrated" in page
    assert "No energy baseline with a reporting period in the portal" in page
    assert 'name="energy_evidence"' in page and 'name="energy_statement"' in page

    refused = client.post(url(cycle), grant_data())
    assert refused.status_code == 409
    assert 'id="id_energy_statement_error"' in refused.content.decode()

    granted = client.post(url(cycle), grant_data(
        energy_statement="EnPI kWh/t fell 6.2 % against the 2024 baseline.",
        energy_evidence=SimpleUploadedFile("enpi.pdf", PDF, "application/pdf")))
    assert granted.status_code == 302
    certificate = Certificate.objects.get()
    assert certificate.standards == [{"code": "ISO 50001", "edition": "2018"}]
    decision = CertificationDecision.objects.get()
    assert decision.energy_evidence is not None
    assert any("EnPI kWh/t fell 6.2 %" in check["detail"] for check in decision.checks)


def test_iso_27001_shows_the_soa_version_field(nordlicht, alice, rita, adam, dora, api_client):
    cycle = decision_ready_cycle(nordlicht, alice, rita, adam, standards=[
        {"standard": "ISO/IEC 27001", "effective_personnel": "30"}])
    client = api_client(dora)
    assert 'name="soa_version"' in client.get(url(cycle)).content.decode()

    refused = client.post(url(cycle), grant_data())
    assert refused.status_code == 409
    assert 'id="id_soa_version_error"' in refused.content.decode()

    assert client.post(url(cycle), grant_data(soa_version="SoA v3.1")).status_code == 302
    assert Certificate.objects.get().soa_version == "SoA v3.1"


def test_the_cycle_page_links_the_decision_and_the_certificate(cycle, dora, alice, api_client):
    cycle_url = f"/cycles/{cycle.pk}/"
    assert url(cycle) in api_client(dora).get(cycle_url).content.decode()
    alice_page = api_client(alice).get(cycle_url).content.decode()
    assert url(cycle) not in alice_page

    certificate = services.decide(cycle=cycle, actor=dora, kind="initial", outcome="grant",
                                  decision_date=DECIDED).certificate
    assert f"/certificates/{certificate.pk}/" in api_client(alice).get(cycle_url).content.decode()
    organization = api_client(alice).get(f"/organizations/{cycle.organization_id}/")
    assert f"/certificates/{certificate.pk}/" in organization.content.decode()


def test_the_checklist_follows_the_kind_asked_for(cycle, dora, api_client):
    services.decide(cycle=cycle, actor=dora, kind="initial", outcome="grant",
                    decision_date=DECIDED)
    page = api_client(dora).get(url(cycle) + "?kind=scope_reduction").content.decode()
    assert "Checklist: Scope reduction" in page
    assert "A certificate to renew or revise" in page
    assert "Stage 2 report issued" not in page


def test_after_a_recertification_the_pages_lead_to_the_next_cycle(nordlicht, alice, rita, adam,
                                                                  dora, api_client):
    import datetime

    closed = certified_cycle(nordlicht, alice, rita, adam, dora, decided=datetime.date(2023, 6, 1))
    certificate = recertify(closed, dora, adam, alice, audit_end=datetime.date(2026, 4, 20),
                            decision_date=datetime.date(2026, 5, 4)).certificate
    current = certificate.cycle
    cb, client = api_client(dora), api_client(alice)

    old_page = cb.get(f"/cycles/{closed.pk}/").content.decode()
    assert "Closed" in old_page and "recertification decision of 4 May 2026" in old_page
    assert f'href="/cycles/{current.pk}/"' in old_page
    assert "Add a special audit" not in api_client(rita).get(f"/cycles/{closed.pk}/").content.decode()
    new_page = client.get(f"/cycles/{current.pk}/").content.decode()
    assert f'href="/cycles/{closed.pk}/"' in new_page
    assert f"/certificates/{certificate.pk}/" in new_page and "2027-05-04" not in new_page
    assert "4 May 2027" in new_page   # surveillance 1 due
    assert "Add a special audit" in api_client(rita).get(f"/cycles/{current.pk}/").content.decode()
    application = client.get(f"/applications/{closed.application_id}/").content.decode()
    assert f"/cycles/{current.pk}/" in application
    # Adam audited the closed cycle only: he is not shown the new one.
    assert f"/cycles/{current.pk}/" not in api_client(adam).get(
        f"/cycles/{closed.pk}/").content.decode()

    assert url(closed) not in cb.get("/cb/decisions/").content.decode()
    decision_page = cb.get(url(closed)).content.decode()
    assert "This cycle is closed" in decision_page and url(current) in decision_page
    refused = cb.post(url(closed), {**grant_data(kind="recertification"),
                                    "decision_date": "2026-05-04"})
    assert refused.status_code == 409 and "is closed" in refused.content.decode()
    certificate.refresh_from_db()
    assert certificate.revision == 2 and certificate.cycle == current
