"""A complaint about a certified client handled end to end through the pages (issue #17,
ISO/IEC 17021-1 §9.8): lodged on the public form without an account, then acknowledged,
classified (the client told), answered by the client, investigated by a person not
involved, decided, reported on, told and closed on the CB's complaint page — after each
step the status the page shows, the audit event and the e-mails. And the refusals on the
pages: an involved investigator or decider, a client member or another tenant (404)."""

import re

import pytest
from complaint_helpers import last_event, subjects_to
from django.core import mail
from django.test import Client
from factories import client_for

from isocert.complaints.models import Complaint
from isocert.core.models import AuditEvent

pytestmark = pytest.mark.django_db

PETRA = "petra@example.org"


def status_shown(client, complaint_id: int) -> str:
    page = client.get(f"/cb/complaints/{complaint_id}/")
    assert page.status_code == 200
    return re.search(r'data-testid="complaint-status">([^<]+)<',
                     page.content.decode()).group(1)


@pytest.fixture
def lodged(certificate, ada, django_capture_on_commit_callbacks):
    """Petra lodges a complaint about Nordlicht on the public page, with its certificate's
    number; no account, no log-in. Ada, a complaint handler, is on staff already."""
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/complaints/", {
            "name": "Petra Public", "email": PETRA, "subject": "Scope advertised wrongly",
            "description": "Their website claims ISO 9001 for all plants.",
            "organization_name": "Nordlicht Aluminium GmbH",
            "certificate_number": certificate.number})
    assert response.status_code == 201, response.content
    complaint = Complaint.objects.get()
    assert complaint.reference in response.content.decode()
    return complaint


def step(client, complaint, action: str, data: dict | None = None, *, capture) -> None:
    """POST one step's form on the complaint page, after-commit e-mails sent."""
    with capture(execute=True):
        response = client.post(f"/cb/complaints/{complaint.pk}/{action}/", data or {})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response.url == f"/cb/complaints/{complaint.pk}/"


def test_a_complaint_about_a_certified_client_from_the_public_form_to_closing(
        lodged, certificate, ada, ivan, vic, alice, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    complaint = lodged
    ada_client, ivan_client, vic_client = client_for(ada), client_for(ivan), client_for(vic)
    # Received: the handlers are told, the complaint waits on the list and its page.
    assert last_event(complaint.pk) == ("complaints.complaint.received", "received")
    assert f"New complaint {complaint.reference}: Scope advertised wrongly" in subjects_to(
        ada.email)
    assert complaint.reference in ada_client.get("/cb/complaints/").content.decode()
    assert status_shown(ada_client, complaint.pk) == "Received"

    step(ada_client, complaint, "acknowledge", capture=capture)
    assert status_shown(ada_client, complaint.pk) == "Acknowledged"
    assert last_event(complaint.pk) == ("complaints.complaint.acknowledged", "acknowledged")
    acknowledgment = [m for m in mail.outbox if PETRA in m.to][0]
    assert acknowledgment.subject == f"Your complaint {complaint.reference} was received"
    assert complaint.reference in acknowledgment.body

    step(ada_client, complaint, "classify", {"relates_to": "certified_client",
                                             "certificate_id": str(certificate.pk)},
         capture=capture)
    assert status_shown(ada_client, complaint.pk) == "Classified"
    assert last_event(complaint.pk) == ("complaints.complaint.classified", "classified")
    notice = [m for m in mail.outbox if alice.email in m.to]
    assert [m.subject for m in notice] == [
        f"A complaint about your certified organization ({complaint.reference})"]
    assert "petra" not in notice[0].body.lower()   # the complainant is not named (§9.8.4)

    # The client answers on its own page (§9.8.4).
    alice_client = client_for(alice)
    assert "Scope advertised wrongly" in alice_client.get(
        f"/complaints/{complaint.pk}/").content.decode()
    with capture(execute=True):
        answer = alice_client.post(f"/complaints/{complaint.pk}/",
                                   {"response": "Our website was fixed on Monday."})
    assert answer.status_code == 302
    assert last_event(complaint.pk) == ("complaints.complaint.client_responded", "classified")
    assert "Our website was fixed on Monday." in ada_client.get(
        f"/cb/complaints/{complaint.pk}/").content.decode()

    step(ada_client, complaint, "assign_investigator", {"investigator_id": str(ivan.pk)},
         capture=capture)
    assert status_shown(ada_client, complaint.pk) == "Investigator assigned"
    assert last_event(complaint.pk) == ("complaints.complaint.investigator_assigned",
                                        "investigating")
    assert subjects_to(ivan.email) == [f"You investigate complaint {complaint.reference}"]

    step(ada_client, complaint, "progress",
         {"text": "We are checking the website and the scope."}, capture=capture)
    assert last_event(complaint.pk) == ("complaints.complaint.progress_reported",
                                        "investigating")
    progress = [m for m in mail.outbox if PETRA in m.to][-1]
    assert progress.subject == f"Progress on your complaint {complaint.reference}"
    assert "checking the website" in progress.body

    # The investigator records on the same page (he sees the complaints assigned to him).
    assert f'action="/cb/complaints/{complaint.pk}/record_investigation/"' in \
        ivan_client.get(f"/cb/complaints/{complaint.pk}/").content.decode()
    step(ivan_client, complaint, "record_investigation",
         {"investigation": "The old page claimed all plants."}, capture=capture)
    assert status_shown(ivan_client, complaint.pk) == "Investigation recorded"
    assert last_event(complaint.pk) == ("complaints.complaint.investigated", "investigated")

    # Vic, a decision maker not involved, decides; no approval is needed (§9.8.6).
    step(vic_client, complaint, "decide",
         {"outcome": "Upheld: the client corrected its claims.", "action": "none"},
         capture=capture)
    assert status_shown(vic_client, complaint.pk) == "Outcome decided"
    assert last_event(complaint.pk) == ("complaints.complaint.decided", "decided")

    step(ada_client, complaint, "communicate_outcome", {"text": ""}, capture=capture)
    assert status_shown(ada_client, complaint.pk) == "Complainant told the outcome"
    assert last_event(complaint.pk) == ("complaints.complaint.outcome_communicated",
                                        "communicated")
    outcome = [m for m in mail.outbox if PETRA in m.to][-1]
    assert outcome.subject == f"Outcome of your complaint {complaint.reference}"
    assert "the client corrected its claims" in outcome.body   # the decided outcome

    step(ada_client, complaint, "close", capture=capture)
    assert status_shown(ada_client, complaint.pk) == "Closed"
    assert last_event(complaint.pk) == ("complaints.complaint.closed", "closed")

    assert subjects_to(PETRA) == [
        f"Your complaint {complaint.reference} was received",
        f"Progress on your complaint {complaint.reference}",
        f"Outcome of your complaint {complaint.reference}"]
    page = ada_client.get(f"/cb/complaints/{complaint.pk}/").content.decode()
    assert "Upheld: the client corrected its claims." in page
    assert "The old page claimed all plants." in page
    assert 'action="/cb/complaints/' not in page   # no step left on a closed complaint


# --- refusals on the pages ----------------------------------------------------------------------

@pytest.fixture
def classified(lodged, certificate, ada, django_capture_on_commit_callbacks):
    client = client_for(ada)
    step(client, lodged, "acknowledge", capture=django_capture_on_commit_callbacks)
    step(client, lodged, "classify", {"relates_to": "certified_client",
                                      "certificate_id": str(certificate.pk)},
         capture=django_capture_on_commit_callbacks)
    return Complaint.objects.get()


def field_errors(html: str, field: str) -> str:
    found = re.search(rf'id="id_{field}_error">(.*?)</ul>', html, re.S)
    return found.group(1) if found else ""


def test_an_involved_investigator_is_refused_on_the_page(classified, ada, lead):
    """Adam led the stage 2 of the certificate's cycle (§9.8.5, §5.2)."""
    events = AuditEvent.objects.count()
    response = client_for(ada).post(f"/cb/complaints/{classified.pk}/assign_investigator/",
                                    {"investigator_id": str(lead.pk)})
    assert response.status_code == 403
    assert "Adam Lead was on the audit team (Stage 2)." in field_errors(
        response.content.decode(), "investigator_id")
    assert Complaint.objects.get().investigator is None
    assert Complaint.objects.get().status == "classified"
    assert AuditEvent.objects.count() == events


def test_an_involved_decider_is_refused_on_the_page(classified, ada, ivan, decider,
                                                    django_capture_on_commit_callbacks):
    """Dora took the certification decision on the certificate's cycle (§9.8.6): she is
    refused, the form says why, nothing changes."""
    step(client_for(ada), classified, "assign_investigator", {"investigator_id": str(ivan.pk)},
         capture=django_capture_on_commit_callbacks)
    step(client_for(ivan), classified, "record_investigation",
         {"investigation": "The old page claimed all plants."},
         capture=django_capture_on_commit_callbacks)
    events = AuditEvent.objects.count()
    response = client_for(decider).post(f"/cb/complaints/{classified.pk}/decide/",
                                        {"outcome": "Dismissed.", "action": "none"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "Dora Decider took the certification decision" in html
    assert "must be someone not involved" in html
    assert "Dismissed.</textarea>" in html   # the form is kept as posted
    complaint = Complaint.objects.get()
    assert complaint.status == "investigated" and complaint.outcome == ""
    assert complaint.decided_by is None
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("who", ["alice", "charlie"])
def test_a_client_member_or_another_tenant_gets_404_on_the_cb_pages(classified, who, request):
    """Alice's organization is complained about; Charlie is another client. Neither opens
    the CB's list, the complaint's handling page or its steps."""
    client = client_for(request.getfixturevalue(who))
    assert client.get("/cb/complaints/").status_code == 404
    assert client.get(f"/cb/complaints/{classified.pk}/").status_code == 404
    for action in ("acknowledge", "classify", "close", "decide"):
        assert client.post(f"/cb/complaints/{classified.pk}/{action}/").status_code == 404
    assert Complaint.objects.get().status == "classified"


def test_another_tenant_gets_404_on_the_client_complaint_page(classified, charlie):
    client = client_for(charlie)
    assert client.get(f"/complaints/{classified.pk}/").status_code == 404
    assert client.post(f"/complaints/{classified.pk}/",
                       {"response": "Not mine."}).status_code == 404
    assert Complaint.objects.get().client_response == ""
