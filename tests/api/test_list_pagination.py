"""Every API list is paginated (issue #19): ``limit`` items from ``offset``, at most
``API_MAX_PAGE_SIZE``, in a stable order; the answer stays a JSON array. The audit list page
is paginated too."""

import datetime

import pytest
from factories import client_for, complete_application_data
from programme_helpers import cycle_for
from registry_helpers import make_certificate

from isocert.audits.programme import views as programme_views
from isocert.certification.models import Certificate
from isocert.complaints.models import Appeal
from isocert.complaints.services import lodge_complaint
from isocert.registration.services import create_application, submit_application

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_pages(settings):
    settings.API_PAGE_SIZE = 2
    settings.API_MAX_PAGE_SIZE = 3


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()]


def test_applications_come_a_page_at_a_time_newest_first(small_pages, nordlicht, alice, rita):
    made = []
    for _ in range(4):
        application = create_application(organization=nordlicht, actor=alice,
                                          **complete_application_data())
        made.append(submit_application(application=application, actor=alice).pk)
    client = client_for(rita)

    assert ids(client.get("/api/v1/applications")) == made[::-1][:2]
    assert ids(client.get("/api/v1/applications?offset=2")) == made[::-1][2:]
    assert ids(client.get("/api/v1/applications?limit=100")) == made[::-1][:3]  # the cap
    assert ids(client.get("/api/v1/applications?offset=4")) == []


def test_certificates_come_a_page_at_a_time(small_pages, nordlicht, dora):
    for name in ("Alpha GmbH", "Beta GmbH", "Gamma GmbH"):
        certificate = make_certificate(name)
        Certificate.objects.filter(pk=certificate.pk).update(organization=nordlicht)
    client = client_for(dora)

    first, rest = (client.get("/api/v1/certificates").json(),
                   client.get("/api/v1/certificates?offset=2").json())
    assert [c["organization_name"] for c in first + rest] == ["Alpha GmbH", "Beta GmbH",
                                                             "Gamma GmbH"]


def test_audits_and_cycles_come_a_page_at_a_time(small_pages, nordlicht, alice, rita):
    cycle = cycle_for(nordlicht, alice, rita)
    audits = list(cycle.audits.order_by("pk").values_list("pk", flat=True))
    client = client_for(rita)

    assert ids(client.get("/api/v1/audits")) == audits[:2]
    assert ids(client.get("/api/v1/audits?offset=2&limit=3")) == audits[2:5]
    assert ids(client.get("/api/v1/cycles?limit=1")) == [cycle.pk]
    assert ids(client.get("/api/v1/cycles?offset=1")) == []


def test_audits_come_by_cycle_oldest_first_each_in_programme_order(nordlicht, brightpath,
                                                                     alice, charlie, rita):
    older = cycle_for(nordlicht, alice, rita)
    newer = cycle_for(brightpath, charlie, rita)
    expected = [*older.audits.order_by("pk").values_list("pk", flat=True),
                *newer.audits.order_by("pk").values_list("pk", flat=True)]

    assert ids(client_for(rita).get(f"/api/v1/audits?limit={len(expected)}")) == expected


def test_paging_never_shows_another_tenants_rows(small_pages, nordlicht, alice, rita,
                                                 charlie):
    cycle_for(nordlicht, alice, rita)
    client = client_for(charlie)

    for url in ("/api/v1/audits?limit=3", "/api/v1/cycles?offset=0", "/api/v1/applications",
                "/api/v1/certificates"):
        assert ids(client.get(url)) == [], url


def test_the_audit_list_page_is_paginated(monkeypatch, nordlicht, alice, rita):
    monkeypatch.setattr(programme_views, "LIST_PAGE_SIZE", 2)
    cycle_for(nordlicht, alice, rita)  # five audits
    client = client_for(rita)

    first, last = client.get("/audits/"), client.get("/audits/?page=3")
    assert first.status_code == last.status_code == 200
    assert len(first.context["page"]) == 2 and len(last.context["page"]) == 1
    assert b"Page 1 of 3" in first.content


def test_complaints_and_appeals_come_a_page_at_a_time_newest_first(small_pages, nordlicht,
                                                                    alice, ada):
    references = []
    for i in range(3):
        references.append(lodge_complaint(name="Carla Complainant", email="carla@example.com",
                                          subject=f"Late delivery {i}",
                                          description="Again.").reference)
        Appeal.objects.create(reference=f"APL-2026-{i + 1:06d}", organization=nordlicht,
                              subject="refusal", decided_on=datetime.date(2026, 11, 2),
                              grounds="The evidence was there.", lodged_by=alice)
    staff = client_for(ada)

    def refs(url):
        return [item["reference"] for item in staff.get(url).json()]

    assert refs("/api/v1/complaints") + refs("/api/v1/complaints?offset=2") == references[::-1]
    assert refs("/api/v1/appeals?limit=5") == ["APL-2026-000003", "APL-2026-000002",
                                               "APL-2026-000001"]  # capped at 3
    assert refs("/api/v1/appeals?offset=1&limit=1") == ["APL-2026-000002"]
