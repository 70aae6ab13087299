"""Lodging a complaint without an account (ISO/IEC 17021-1 §9.8.1): the public contract
``POST /api/v1/public/complaints``, the page ``/complaints/`` and its attachments, and the
public rate limit they share with the registry."""

import re
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from helpers.api import assert_error

from isocert.complaints.models import Complaint
from isocert.core.models import AuditEvent
from isocert.registry import ratelimit

pytestmark = pytest.mark.django_db
URL = "/api/v1/public/complaints"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
BODY = {"name": "Petra Public", "email": "petra@example.org",
        "organization_name": "Nordlicht Stahl GmbH", "certificate_number": "ISO9001-2026-000001",
        "subject": "Certified scope advertised wrongly",
        "description": "Their website claims ISO 9001 for all plants."}


@pytest.fixture(autouse=True)
def _one_window(monkeypatch):
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))
    ratelimit.PUBLIC_THROTTLE.reset()
    yield
    ratelimit.PUBLIC_THROTTLE.reset()


def test_the_contract_answers_201_with_the_reference_and_status(rita,
                                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(URL, BODY, content_type="application/json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"reference", "status"}
    assert re.fullmatch(rf"CMP-{timezone.localdate().year}-\d{{6}}", body["reference"])
    assert body["status"] == "received"
    complaint = Complaint.objects.get(reference=body["reference"])
    assert (complaint.name, complaint.email, complaint.subject) == (
        "Petra Public", "petra@example.org", "Certified scope advertised wrongly")
    assert AuditEvent.objects.filter(action="complaints.complaint.received",
                                     object_id=str(complaint.pk)).exists()
    # The CB's complaint handlers hear of it; the complainant only once it is acknowledged.
    assert [m.to for m in mail.outbox] == [[rita.email]]


def test_references_follow_each_other():
    first = Client().post(URL, BODY, content_type="application/json").json()["reference"]
    second = Client().post(URL, BODY, content_type="application/json").json()["reference"]
    assert int(second[-6:]) == int(first[-6:]) + 1


def test_optional_fields_may_be_left_out():
    body = {key: BODY[key] for key in ("name", "email", "subject", "description")}
    assert Client().post(URL, body, content_type="application/json").status_code == 201


def test_missing_fields_answer_422_naming_them():
    response = Client().post(URL, {"name": "Petra"}, content_type="application/json")
    assert_error(response, 422, "invalid", "email", "subject", "description")
    assert not Complaint.objects.exists()


@pytest.mark.parametrize(("field", "value"), [
    ("email", "not-an-address"), ("subject", "   "), ("name", ""), ("description", "")])
def test_bad_fields_answer_422_naming_them(field, value):
    response = Client().post(URL, {**BODY, field: value}, content_type="application/json")
    assert_error(response, 422, "invalid", field, exact_fields=True)
    assert not Complaint.objects.exists()


def test_a_known_certificate_number_links_the_complaint(certificate):
    body = {**BODY, "certificate_number": certificate.number}
    reference = Client().post(URL, body, content_type="application/json").json()["reference"]
    complaint = Complaint.objects.get(reference=reference)
    assert complaint.certificate == certificate
    assert complaint.organization == certificate.organization


def test_the_api_shares_the_public_rate_limit(settings):
    settings.PUBLIC_API_RATE = "2/min"
    client = Client()
    codes = [client.post(URL, BODY, content_type="application/json").status_code
             for _ in range(3)]
    assert codes == [201, 201, 429]
    assert_error(client.post(URL, BODY, content_type="application/json"), 429, "rate_limited")
    assert Complaint.objects.count() == 2


def test_the_page_describes_the_process_and_lodges_with_attachments(rita):
    client = Client()
    page = client.get("/complaints/")
    assert page.status_code == 200
    assert "17021-1 §9.8" in page.content.decode()
    response = client.post("/complaints/", {
        **BODY, "attachments": [SimpleUploadedFile("photo.pdf", PDF),
                                SimpleUploadedFile("website.pdf", PDF + b"2")]})
    assert response.status_code == 201
    complaint = Complaint.objects.get()
    assert complaint.reference in response.content.decode()
    assert sorted(complaint.attachments.values_list("filename", flat=True)) == [
        "photo.pdf", "website.pdf"]


def test_the_page_refuses_a_file_of_the_wrong_kind():
    response = Client().post("/complaints/", {
        **BODY, "attachments": [SimpleUploadedFile("run.exe", b"MZ\x90\x00binary")]})
    assert response.status_code == 422
    assert "Upload a PDF" in response.content.decode()
    assert not Complaint.objects.exists()


def test_the_page_counts_against_the_public_rate_limit(settings):
    settings.PUBLIC_API_RATE = "1/min"
    client = Client()
    assert client.get("/complaints/").status_code == 200
    assert client.post("/complaints/", BODY).status_code == 429
    assert not Complaint.objects.exists()
