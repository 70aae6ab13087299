"""A stored file missing from the storage answers 404 (the API's error shape, the portal's
404 page), never a 500; a generated PDF missing is rendered again (issue #16: a PDF made on
server A and a document uploaded through B answered 500 on the other server)."""

import pytest
from certification_helpers import DECIDED, decision_ready_cycle
from django.core.files.storage import default_storage
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from factories import client_for, pdf_upload

from isocert.certification import services
from isocert.registration.services import add_application_document


@pytest.fixture
def certificate(nordlicht, alice, rita, adam, dora, django_capture_on_commit_callbacks):
    cycle = decision_ready_cycle(nordlicht, alice, rita, adam)
    with django_capture_on_commit_callbacks(execute=True):
        certificate = services.decide(cycle=cycle, actor=dora, kind="initial", outcome="grant",
                                      decision_date=DECIDED).certificate
    return certificate


@pytest.fixture
def lost_pdf(certificate):
    """The revision's PDF, deleted from the storage behind the portal's back."""
    revision = certificate.revisions.get()
    assert revision.pdf is not None
    default_storage.delete(revision.pdf.storage_name)
    return revision


@pytest.fixture
def lost_document(draft, alice):
    document = add_application_document(application=draft, actor=alice,
                                        upload=pdf_upload("EnMS manual.pdf"), kind="manual",
                                        description="")
    default_storage.delete(document.file.storage_name)
    return document


def test_a_missing_certificate_pdf_answers_404_in_the_error_shape_and_is_rendered_again(
        lost_pdf, alice):
    client = client_for(alice)
    url = f"/api/v1/certificates/revisions/{lost_pdf.pk}/pdf"

    response = client.get(url)

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "file_missing"
    assert "being made again" in error["message"]
    # The test run's tasks run at once: the PDF is back for the next download.
    lost_pdf.refresh_from_db()
    assert default_storage.exists(lost_pdf.pdf.storage_name)
    again = client.get(url)
    assert again.status_code == 200 and again["Content-Type"] == "application/pdf"


def test_a_missing_certificate_pdf_shows_the_friendly_404_page_and_queues_one_rendering(
        lost_pdf, alice, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    client = client_for(alice)
    url = reverse("certificate_revision_pdf", args=[lost_pdf.pk])

    response = client.get(url)

    assert response.status_code == 404
    html = response.content.decode()
    assert "is missing from the portal&#x27;s storage and is being made again" in html
    assert "<main" in html  # the portal's layout, not Django's bare page
    queued = DBTaskResult.objects.filter(task_path__endswith="render_certificate_pdf")
    assert queued.count() == 1
    assert client.get(url).status_code == 404
    assert queued.count() == 1   # many downloads, one new rendering


def test_a_missing_uploaded_document_answers_404_not_500(lost_document, alice):
    client = client_for(alice)

    page = client.get(f"/documents/{lost_document.pk}/download/")
    api = client.get(f"/api/v1/documents/{lost_document.pk}/download")

    assert page.status_code == 404
    assert "The certification body has been told" in page.content.decode()
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "file_missing"


def test_an_unknown_page_gets_the_portal_404_without_details(alice):
    response = client_for(alice).get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "There is nothing at this address" in html and "<main" in html
