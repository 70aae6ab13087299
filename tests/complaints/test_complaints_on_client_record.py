"""Open complaints on the client's record (ISO/IEC 17021-1 §9.8): the organization's page
shows the CB's complaint handlers the open complaints about it — reference, subject,
status, received date, what is late, a link — read with
``complaints.selectors.open_complaints_on_record``; the client's own members never see
them there, other staff and other tenants do not open the page."""

import pytest
from factories import client_for

from isocert.complaints import selectors, services
from isocert.complaints.models import Complaint

pytestmark = pytest.mark.django_db


def lodge(subject: str, certificate_number: str = "") -> Complaint:
    return services.lodge_complaint(
        name="Petra Public", email="petra@example.org", subject=subject,
        description="Their website claims ISO 9001 for all plants.",
        certificate_number=certificate_number)


@pytest.fixture
def complaints(certificate, ada):
    """Two open complaints about Nordlicht (its certificate number given), one closed, and
    one about nobody in particular."""
    first = lodge("Scope advertised wrongly", certificate.number)
    second = services.acknowledge_complaint(
        complaint=lodge("Logo on the product", certificate.number), actor=ada)
    closed = lodge("An old matter", certificate.number)
    # Closed through the ORM: the process to closing has its own tests.
    Complaint.objects.filter(pk=closed.pk).update(status=Complaint.Status.CLOSED)
    elsewhere = lodge("The auditor was late")
    return first, second, closed, elsewhere


def section(html: str) -> str:
    return html.split('data-testid="open-complaints"', 1)[1].split("</section>", 1)[0]


def test_complaint_handlers_see_the_open_complaints_on_the_organization_page(
        complaints, nordlicht, ada, rita, decider):
    first, second, closed, elsewhere = complaints
    for person in (ada, rita, decider):   # every role that handles complaints
        response = client_for(person).get(f"/organizations/{nordlicht.pk}/")
        assert response.status_code == 200
        shown = section(response.content.decode())
        assert f'<a href="/cb/complaints/{first.pk}/">{first.reference}</a>' in shown
        assert f'<a href="/cb/complaints/{second.pk}/">{second.reference}</a>' in shown
        assert "Scope advertised wrongly" in shown and "Logo on the product" in shown
        assert ">Received</span>" in shown and ">Acknowledged</span>" in shown
        assert f'datetime="{first.received_at:%Y-%m-%d}"' in shown
        assert closed.reference not in shown and elsewhere.reference not in shown
        assert "complaint-overdue" not in shown   # within every time target
    # Oldest first.
    assert shown.index(first.reference) < shown.index(second.reference)


def test_a_complaint_past_a_time_target_is_flagged(complaints, nordlicht, ada, settings):
    first, second, *_ = complaints
    settings.COMPLAINT_ACKNOWLEDGE_DAYS = -1   # Petra's complaint waits for acknowledgment
    shown = section(client_for(ada).get(f"/organizations/{nordlicht.pk}/").content.decode())
    row = shown.split(first.reference, 1)[1].split("</tr>", 1)[0]
    assert 'data-testid="complaint-overdue"' in row and "acknowledgment was due" in row
    row = shown.split(second.reference, 1)[1].split("</tr>", 1)[0]
    assert "complaint-overdue" not in row   # acknowledged already


def test_the_staff_view_offers_no_member_tools(complaints, nordlicht, ada):
    html = client_for(ada).get(f"/organizations/{nordlicht.pk}/").content.decode()
    for member_only in (f"/organizations/{nordlicht.pk}/members/", "Edit profile",
                        "Add a site", "Your role", "Gap analysis"):
        assert member_only not in html
    assert "Bremen head office" in html   # the sites are the record's


@pytest.mark.parametrize("who", ["alice", "bob", "vera"])
def test_the_clients_members_do_not_see_complaints_about_it(complaints, nordlicht, who,
                                                            request):
    """Alice owns, Bob edits, Vera views Nordlicht: the complaints are the CB's record."""
    person = request.getfixturevalue(who)
    html = client_for(person).get(f"/organizations/{nordlicht.pk}/").content.decode()
    assert "open-complaints" not in html
    for complaint in complaints:
        assert complaint.reference not in html
    assert selectors.open_complaints_on_record(user=person, organization_id=nordlicht.pk,
                                               today=complaints[0].received_at.date()) == []


@pytest.mark.parametrize("who", ["charlie", "ivan"])
def test_another_tenant_and_staff_who_do_not_handle_complaints_get_404(complaints, nordlicht,
                                                                       who, request):
    """Charlie owns another organization; Ivan audits but handles no complaints."""
    person = request.getfixturevalue(who)
    assert client_for(person).get(f"/organizations/{nordlicht.pk}/").status_code == 404


def test_no_open_complaint_says_none(certificate, nordlicht, ada):
    shown = section(client_for(ada).get(f"/organizations/{nordlicht.pk}/").content.decode())
    assert "None." in shown
