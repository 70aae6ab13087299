"""The owner shares readiness with the CB; CB staff see it only while it is shared."""

import pytest
from readiness_helpers import answer, row

from isocert.core.errors import NotPermitted
from isocert.core.models import AuditEvent
from isocert.readiness.models import ReadinessShare
from isocert.readiness.services import add_gap_evidence, set_readiness_share

NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


def test_only_an_owner_shares(nordlicht, alice, bob, vic, charlie):
    for actor in (bob, vic, charlie):
        with pytest.raises(NotPermitted, match="Only an owner"):
            set_readiness_share(organization=nordlicht, standard="ISO 50001", actor=actor,
                                shared=True)
    assert not ReadinessShare.objects.exists()

    share = set_readiness_share(organization=nordlicht, standard="ISO 50001", actor=alice,
                                shared=True)

    assert share.is_shared and share.changed_by == alice
    event = AuditEvent.objects.filter(action="readiness.share.granted").get()
    assert event.payload == {"standard": "ISO 50001:2018", "shared": True}
    set_readiness_share(organization=nordlicht, standard="ISO 50001", actor=alice, shared=False)
    assert AuditEvent.objects.filter(action="readiness.share.revoked").count() == 1


@pytest.fixture
def evidence(gap50001, alice):
    from factories import pdf_upload

    answer(gap50001, "4.1", alice, "conforms")
    return add_gap_evidence(item=row(gap50001, "4.1"), actor=alice, upload=pdf_upload())


def _urls(assessment, evidence, organization):
    item = row(assessment, "4.1")
    return [f"/organizations/{organization.pk}/gap-analysis/",
            f"/organizations/{organization.pk}/readiness/",
            f"/gap-analysis/{assessment.pk}/", f"/gap-analysis/{assessment.pk}/compare/",
            f"/gap-analysis/{assessment.pk}/energy/", f"/gap-analysis/{assessment.pk}/report.pdf",
            f"/gap-analysis/{assessment.pk}/report.xlsx", f"/gap-items/{item.pk}/",
            f"/gap-evidence/{evidence.pk}/download/"], [
            f"/api/v1/organizations/{organization.pk}/gap-assessments",
            f"/api/v1/organizations/{organization.pk}/readiness",
            f"/api/v1/gap-assessments/{assessment.pk}",
            f"/api/v1/gap-assessments/{assessment.pk}/compare",
            f"/api/v1/gap-assessments/{assessment.pk}/report.pdf",
            f"/api/v1/gap-assessments/{assessment.pk}/report.xlsx",
            f"/api/v1/gap-evidence/{evidence.pk}/download"]


def test_cb_staff_get_404_until_the_owner_shares(nordlicht, gap50001, evidence, alice, rita,
                                                 ada, adam, api_client):
    pages, api = _urls(gap50001, evidence, nordlicht)
    for user in (rita, ada, adam):
        client = api_client(user)
        for url in pages:
            assert client.get(url).status_code == 404, (user, url)
        for url in api:
            response = client.get(url)
            assert response.status_code == 404, (user, url)
            assert response.json() == NOT_FOUND

    set_readiness_share(organization=nordlicht, standard="ISO 50001", actor=alice, shared=True)

    for user in (rita, ada):
        client = api_client(user)
        for url in pages + api:
            assert client.get(url).status_code == 200, (user, url)
    # Auditors are not application reviewers: still nothing.
    assert api_client(adam).get(pages[2]).status_code == 404


def test_sharing_one_standard_shares_nothing_else(nordlicht, gap50001, gap9001, alice, rita,
                                                  api_client):
    set_readiness_share(organization=nordlicht, standard="ISO 50001", actor=alice, shared=True)
    client = api_client(rita)

    assert client.get(f"/gap-analysis/{gap9001.pk}/").status_code == 404
    listed = client.get(f"/api/v1/organizations/{nordlicht.pk}/gap-assessments").json()
    assert [a["standard"] for a in listed] == ["ISO 50001"]
    readiness = client.get(f"/api/v1/organizations/{nordlicht.pk}/readiness").json()
    assert [r["standard"] for r in readiness] == ["ISO 50001"]


def test_cb_staff_read_but_never_write_shared_readiness(nordlicht, gap50001, alice, rita,
                                                        api_client):
    set_readiness_share(organization=nordlicht, standard="ISO 50001", actor=alice, shared=True)
    item = row(gap50001, "4.2")
    client = api_client(rita)

    patched = client.patch(f"/api/v1/gap-items/{item.pk}", {"version": 1, "status": "conforms"},
                           content_type="application/json")
    frozen = client.post(f"/api/v1/gap-assessments/{gap50001.pk}/freeze")
    page = client.get(f"/gap-analysis/{gap50001.pk}/").content.decode()

    assert patched.status_code == 403 and patched.json()["error"]["code"] == "forbidden"
    assert frozen.status_code == 403
    assert "Edit 4.2" not in page and "Freeze version" not in page
    item.refresh_from_db()
    assert item.status == "not_assessed"
    # Starting or sharing is for members only: 404 for the CB.
    assert client.post(f"/api/v1/organizations/{nordlicht.pk}/gap-assessments",
                       {"standard": "ISO 9001"}, content_type="application/json"
                       ).status_code == 404


def test_the_review_page_shows_shared_readiness_only(submitted, nordlicht, alice, rita,
                                                     api_client):
    from isocert.readiness.services import start_gap_assessment

    start_gap_assessment(organization=nordlicht, standard="ISO 50001", actor=alice)
    client = api_client(rita)

    before = client.get(f"/review/{submitted.pk}/").content.decode()
    set_readiness_share(organization=nordlicht, standard="ISO 50001", actor=alice, shared=True)
    after = client.get(f"/review/{submitted.pk}/").content.decode()

    assert "Readiness shared by the client" not in before and "gap report PDF" not in before
    assert "Readiness shared by the client" in after
    assert "Not ready" in after and "38 of 38 rows not assessed yet" in after
    assert "gap report PDF" in after


def test_the_owner_switches_sharing_on_the_readiness_page(nordlicht, gap50001, alice, bob,
                                                          api_client):
    url = f"/organizations/{nordlicht.pk}/readiness/share/"
    page = api_client(alice).get(f"/organizations/{nordlicht.pk}/readiness/").content.decode()
    assert "Share ISO 50001 readiness with the certification body" in page

    api_client(bob).post(url, {"standard": "ISO 50001", "shared": "on"})
    assert not ReadinessShare.objects.filter(is_shared=True).exists()

    response = api_client(alice).post(url, {"standard": "ISO 50001", "shared": "on"})
    assert response.status_code == 302
    assert ReadinessShare.objects.get().is_shared
