"""Applications for registration through /api/v1/: the whole flow, refusals, documents."""

import datetime
import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from factories import ENERGY_LINE, PASSING_ASSESSMENT
from helpers.api import assert_error

from isocert.accounts.models import Membership, User
from isocert.core.models import AuditEvent, StoredFile
from isocert.registration.models import Application, ApplicationDocument, PreliminaryAssessment

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def in_days(days: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def state(application: Application) -> tuple:
    """What a refused write must leave as it was."""
    application.refresh_from_db()
    return (application.status, application.version, application.scope_statement,
            sorted(application.standard_lines.values_list("standard__code", "complexity")),
            sorted(application.sites.values_list("pk", flat=True)),
            application.documents.count(), AuditEvent.objects.count())


def post_json(client, url, data=None):
    return client.post(url, data if data is not None else {}, content_type="application/json")


# --- the whole registration flow, API only ------------------------------------------------------

def test_registration_flow_through_the_api(alice, rita, api_client):
    client = api_client(alice)
    organization = post_json(client, "/api/v1/organizations", {
        "legal_name": "Nordlicht Aluminium GmbH", "country": "DE",
        "registered_address": "Hafenstraße 12, 28217 Bremen", "sector_codes": [17],
        "scope_statement": "Die casting of aluminium parts.",
    })
    assert organization.status_code == 201, organization.content
    org_id = organization.json()["id"]
    site_ids = []
    for name, personnel in (("Bremen head office", "180"), ("Oldenburg plant", "95")):
        site = post_json(client, f"/api/v1/organizations/{org_id}/sites",
                         {"name": name, "address": f"{name} street 1",
                          "effective_personnel": personnel, "shifts": 2})
        assert site.status_code == 201, site.content
        site_ids.append(site.json()["id"])

    created = post_json(client, "/api/v1/applications", {
        "organization_id": org_id, "standards": [ENERGY_LINE], "site_ids": site_ids,
        "desired_audit_from": in_days(60), "desired_audit_to": in_days(90),
    })
    assert created.status_code == 201, created.content
    application = created.json()
    app_id = application["id"]
    assert application["status"] == "draft"
    assert application["reference"] == f"APP-{app_id:06d}"
    assert application["scope_statement"] == "Die casting of aluminium parts."
    assert application["site_ids"] == sorted(site_ids)
    assert application["standards"] == [{
        "standard": "ISO 50001", "edition": "2018", "effective_personnel": "24.00",
        "complexity": "", "annual_energy_consumption_tj": "310.000", "energy_types": 3,
        "significant_energy_uses": 5}]
    assert application["missing"] == {}
    assert application["registration_number"] is None
    assert set(application["allowed_actions"]) == {"submit", "withdraw"}

    upload = client.post(f"/api/v1/applications/{app_id}/documents", {
        "file": SimpleUploadedFile("energy-review.pdf", PDF, content_type="application/pdf"),
        "kind": "energy_review", "description": "Energy review 2025",
    })
    assert upload.status_code == 201, upload.content
    document = upload.json()
    assert (document["original_name"], document["kind"], document["content_type"],
            document["size"], document["sha256"]) == (
        "energy-review.pdf", "energy_review", "application/pdf", len(PDF),
        hashlib.sha256(PDF).hexdigest())

    submitted = post_json(client, f"/api/v1/applications/{app_id}/submit")
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["submitted_at"] is not None

    reviewer = api_client(rita)
    started = post_json(reviewer, f"/api/v1/applications/{app_id}/start-review")
    assert started.status_code == 200, started.content
    assert started.json()["status"] == "under_review"
    asked = post_json(reviewer, f"/api/v1/applications/{app_id}/request-information",
                      {"message": "Which meters cover the Oldenburg furnaces?"})
    assert asked.status_code == 200, asked.content
    assert asked.json()["status"] == "information_requested"

    current = client.get(f"/api/v1/applications/{app_id}").json()
    assert current["status"] == "information_requested"
    assert set(current["allowed_actions"]) == {"resubmit", "withdraw"}
    patched = client.patch(f"/api/v1/applications/{app_id}",
                           {"version": current["version"],
                            "scope_statement": "Die casting and machining of aluminium parts."},
                           content_type="application/json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["version"] == current["version"] + 1
    resubmitted = post_json(client, f"/api/v1/applications/{app_id}/resubmit",
                            {"response": "Meters M1-M4; see the energy review."})
    assert resubmitted.status_code == 200, resubmitted.content
    assert resubmitted.json()["status"] == "resubmitted"

    assert post_json(reviewer, f"/api/v1/applications/{app_id}/start-review").json()["status"] \
        == "under_review"
    assessment = reviewer.put(f"/api/v1/applications/{app_id}/assessment", PASSING_ASSESSMENT,
                              content_type="application/json")
    assert assessment.status_code == 200, assessment.content
    assert assessment.json()["passed"] is True
    assert assessment.json()["outcome"] == "Ready for registration"
    registered = post_json(reviewer, f"/api/v1/applications/{app_id}/register")
    assert registered.status_code == 200, registered.content
    registration_number = registered.json()["registration_number"]
    assert registration_number.startswith(f"REG-{timezone.now().year}")

    final = client.get(f"/api/v1/applications/{app_id}")
    assert final.status_code == 200
    final = final.json()
    assert final["status"] == "registered"
    assert final["registration_number"] == registration_number
    assert final["registered_at"] is not None
    assert final["scope_statement"] == "Die casting and machining of aluminium parts."
    assert final["allowed_actions"] == []
    assert [(m["kind"], m["text"]) for m in final["messages"]] == [
        ("information_request", "Which meters cover the Oldenburg furnaces?"),
        ("response", "Meters M1-M4; see the energy review."),
    ]

    timeline = client.get(f"/api/v1/applications/{app_id}/timeline")
    assert timeline.status_code == 200
    events = timeline.json()
    assert [e["action"] for e in events] == [
        "registration.application.created",
        "registration.document.added",
        "registration.application.submitted",
        "registration.application.under_review",
        "registration.application.information_requested",
        "registration.application.updated",
        "registration.application.resubmitted",
        "registration.application.under_review",
        "registration.assessment.recorded",
        "registration.application.registered",
    ]
    assert [e["actor"] for e in events].count("rita@cb.example") == 5
    assert events[-1]["payload"]["registration_number"] == registration_number
    # The client doesn't see who reviews nor the impartiality assessment; the CB does.
    assert all("reviewer" not in e["payload"] and "impartiality_risk" not in e["payload"]
               for e in events)
    staff_view = reviewer.get(f"/api/v1/applications/{app_id}/timeline").json()
    assert staff_view[3]["payload"]["reviewer"] == "rita@cb.example"
    assert staff_view[8]["payload"]["impartiality_risk"] == "none"

    # Registered is read-only.
    assert_error(client.patch(f"/api/v1/applications/{app_id}", {"scope_statement": "More"},
                              content_type="application/json"), 409, "conflict")


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "field"), [
    ({"standard": "ISO 14001", "effective_personnel": "20", "complexity": "extreme"},
     "standards.0.complexity"),
    ({"standard": "ISO 9001", "effective_personnel": "20", "complexity": "high"},
     "standards.0.complexity"),
    ({"standard": "ISO 9999", "effective_personnel": "20"}, "standards.0.standard"),
    ({"standard": "ISO 9001", "effective_personnel": "0"}, "standards.0.effective_personnel"),
    ({**ENERGY_LINE, "energy_types": 0}, "standards.0.energy_types"),
    ({**ENERGY_LINE, "annual_energy_consumption_tj": "-1"},
     "standards.0.annual_energy_consumption_tj"),
    ({"standard": "ISO 9001", "effective_personnel": "many"}, "standards.0.effective_personnel"),
    ({"effective_personnel": "20"}, "standards.0.standard"),
])
def test_a_bad_standard_line_is_refused_and_no_application_is_created(
        alice, nordlicht, api_client, line, field):
    events = AuditEvent.objects.count()

    response = post_json(api_client(alice), "/api/v1/applications",
                         {"organization_id": nordlicht.pk, "standards": [line]})

    assert_error(response, 422, "invalid", field)
    assert not Application.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(("change", "field"), [
    ({"standards": [ENERGY_LINE, {"standard": "ISO 45001", "complexity": "limited"}]},
     "standards.1.complexity"),
    ({"standards": [ENERGY_LINE, ENERGY_LINE]}, "standards.1.standard"),
    ({"desired_audit_from": in_days(90), "desired_audit_to": in_days(30)}, "desired_audit_to"),
    ({"desired_audit_from": "31.12.2030"}, "desired_audit_from"),
    ({"site_ids": [999_999]}, "site_ids"),
    ({"scope_statement": "x" * 5001}, "scope_statement"),
    ({"consultancy_used": "perhaps"}, "consultancy_used"),
])
def test_a_bad_change_is_refused_and_the_draft_is_unchanged(alice, draft, api_client, change,
                                                            field):
    before = state(draft)

    response = api_client(alice).patch(f"/api/v1/applications/{draft.pk}", change,
                                       content_type="application/json")

    assert_error(response, 422, "invalid", field)
    assert state(draft) == before


def test_sites_of_another_organization_are_refused(alice, draft, brightpath, api_client):
    before = state(draft)
    leeds = brightpath.sites.get()

    response = api_client(alice).patch(f"/api/v1/applications/{draft.pk}",
                                       {"site_ids": [leeds.pk]}, content_type="application/json")

    assert_error(response, 422, "invalid", "site_ids")
    assert state(draft) == before


def test_a_stale_version_is_refused_with_409(alice, bob, draft, api_client):
    read_by_alice = api_client(alice).get(f"/api/v1/applications/{draft.pk}").json()
    saved_by_bob = api_client(bob).patch(
        f"/api/v1/applications/{draft.pk}",
        {"version": read_by_alice["version"], "scope_statement": "Bob's scope"},
        content_type="application/json")
    assert saved_by_bob.status_code == 200
    before = state(draft)

    response = api_client(alice).patch(
        f"/api/v1/applications/{draft.pk}",
        {"version": read_by_alice["version"], "scope_statement": "Alice's scope"},
        content_type="application/json")

    assert_error(response, 409, "conflict", "version")
    assert state(draft) == before
    assert draft.scope_statement == "Bob's scope"


def test_an_incomplete_draft_cannot_be_submitted(alice, nordlicht, api_client):
    client = api_client(alice)
    created = post_json(client, "/api/v1/applications", {"organization_id": nordlicht.pk})
    assert created.status_code == 201
    application = Application.objects.get(pk=created.json()["id"])
    assert set(created.json()["missing"]) == {"standards", "desired_audit_from"}
    before = state(application)

    response = post_json(client, f"/api/v1/applications/{application.pk}/submit")

    assert_error(response, 422, "invalid", "standards", "desired_audit_from")
    assert state(application) == before


@pytest.mark.parametrize(("fixture", "who", "method", "action", "body"), [
    ("submitted", "alice", "post", "submit", None),
    ("submitted", "alice", "post", "resubmit", {"response": "Here you are."}),
    ("submitted", "rita", "post", "register", None),
    ("submitted", "rita", "post", "decline", {"reason": "Not certifiable."}),
    ("submitted", "rita", "post", "request-information", {"message": "More, please."}),
    ("under_review", "rita", "post", "start-review", None),
    ("registered", "alice", "post", "withdraw", {"reason": ""}),
    ("registered", "rita", "post", "start-review", None),
])
def test_a_transition_from_the_wrong_state_is_409_invalid_transition(
        request, api_client, fixture, who, method, action, body):
    application = request.getfixturevalue(fixture)
    client = api_client(request.getfixturevalue(who))
    before = state(application)

    response = getattr(client, method)(f"/api/v1/applications/{application.pk}/{action}",
                                       body or {}, content_type="application/json")

    assert_error(response, 409, "invalid_transition")
    assert state(application) == before


def test_registering_without_a_passed_assessment_is_refused(rita, under_review, api_client):
    client = api_client(rita)
    before = state(under_review)
    assert_error(post_json(client, f"/api/v1/applications/{under_review.pk}/register"),
                 409, "conflict")
    assert state(under_review) == before

    failing = client.put(f"/api/v1/applications/{under_review.pk}/assessment",
                         {**PASSING_ASSESSMENT, "cb_competent": False},
                         content_type="application/json")
    assert failing.json()["passed"] is False
    assert failing.json()["outcome"].startswith("Not ready:")
    before = state(under_review)

    assert_error(post_json(client, f"/api/v1/applications/{under_review.pk}/register"),
                 409, "conflict")
    assert state(under_review) == before
    assert under_review.registration_number is None


@pytest.mark.parametrize(("data", "field"), [
    ({**PASSING_ASSESSMENT, "impartiality_risk": "some"}, "impartiality_risk"),
    ({**PASSING_ASSESSMENT, "impartiality_risk": "managed", "notes": ""}, "notes"),
])
def test_a_bad_assessment_is_refused(rita, under_review, api_client, data, field):
    before = state(under_review)

    response = api_client(rita).put(f"/api/v1/applications/{under_review.pk}/assessment", data,
                                    content_type="application/json")

    assert_error(response, 422, "invalid", field)
    assert state(under_review) == before
    assert not PreliminaryAssessment.objects.filter(application=under_review).exists()


@pytest.mark.parametrize(("action", "body", "field"), [
    ("request-information", {"message": "   "}, "message"),
    ("request-information", {}, "message"),
    ("decline", {"reason": ""}, "reason"),
])
def test_reviewer_actions_need_their_text(rita, under_review, api_client, action, body, field):
    before = state(under_review)

    response = post_json(api_client(rita), f"/api/v1/applications/{under_review.pk}/{action}",
                         body)

    assert_error(response, 422, "invalid", field)
    assert state(under_review) == before


def test_resubmitting_needs_an_answer(alice, rita, under_review, api_client):
    post_json(api_client(rita), f"/api/v1/applications/{under_review.pk}/request-information",
              {"message": "Which sites?"})
    before = state(under_review)

    response = post_json(api_client(alice), f"/api/v1/applications/{under_review.pk}/resubmit",
                         {"response": "  "})

    assert_error(response, 422, "invalid", "response")
    assert state(under_review) == before
    assert before[0] == "information_requested"


@pytest.mark.parametrize(("fixture", "who", "method", "path", "body"), [
    ("submitted", "alice", "post", "start-review", None),
    ("under_review", "alice", "post", "register", None),
    ("under_review", "bob", "put", "assessment", PASSING_ASSESSMENT),
    ("under_review", "alice", "post", "decline", {"reason": "We don't like ourselves."}),
    ("submitted", "rita", "post", "withdraw", {"reason": "Reviewer's whim"}),
    ("submitted", "rita", "patch", "", {"scope_statement": "Rewritten by the CB"}),
])
def test_the_wrong_role_is_403_forbidden(request, api_client, fixture, who, method, path, body):
    application = request.getfixturevalue(fixture)
    client = api_client(request.getfixturevalue(who))
    before = state(application)
    url = f"/api/v1/applications/{application.pk}" + (f"/{path}" if path else "")

    response = getattr(client, method)(url, body or {}, content_type="application/json")

    assert_error(response, 403, "forbidden")
    assert state(application) == before


def test_an_auditor_who_is_no_reviewer_does_not_see_applications(adam, submitted, api_client):
    before = state(submitted)

    assert_error(post_json(api_client(adam), f"/api/v1/applications/{submitted.pk}/start-review"),
                 404, "not_found")
    assert api_client(adam).get("/api/v1/applications").json() == []
    assert state(submitted) == before


def test_a_viewer_cannot_submit_or_edit(draft, api_client):
    vera = User.objects.create_user("vera@nordlicht.example", "x")
    Membership.objects.create(organization=draft.organization, user=vera,
                              role=Membership.Role.VIEWER)
    client = api_client(vera)
    before = state(draft)

    assert client.get(f"/api/v1/applications/{draft.pk}").json()["allowed_actions"] == []
    assert_error(post_json(client, f"/api/v1/applications/{draft.pk}/submit"), 403, "forbidden")
    assert_error(client.patch(f"/api/v1/applications/{draft.pk}", {"scope_statement": "V"},
                              content_type="application/json"), 403, "forbidden")
    assert_error(post_json(client, "/api/v1/applications",
                           {"organization_id": draft.organization_id}),
                 403, "forbidden")
    assert state(draft) == before
    assert Application.objects.count() == 1


def test_no_authentication_is_401_and_changes_nothing(draft, client):
    before = state(draft)

    for response in (client.get("/api/v1/applications"),
                     client.get(f"/api/v1/applications/{draft.pk}"),
                     client.post(f"/api/v1/applications/{draft.pk}/submit"),
                     client.patch(f"/api/v1/applications/{draft.pk}", {"scope_statement": "x"},
                                  content_type="application/json")):
        assert_error(response, 401, "unauthenticated")
    assert state(draft) == before


def test_bob_as_editor_can_withdraw_and_withdrawn_is_final(bob, submitted, api_client):
    client = api_client(bob)

    response = post_json(client, f"/api/v1/applications/{submitted.pk}/withdraw",
                         {"reason": "Postponed to next year"})

    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert response.json()["allowed_actions"] == []
    assert_error(post_json(client, f"/api/v1/applications/{submitted.pk}/submit"),
                 409, "invalid_transition")


def test_listing_filters_by_status_and_organization(alice, draft, submitted, nordlicht,
                                                    api_client):
    client = api_client(alice)

    assert [a["id"] for a in client.get("/api/v1/applications").json()] == [submitted.pk]
    assert client.get("/api/v1/applications?status=draft").json() == []
    assert [a["id"] for a in client.get(
        f"/api/v1/applications?status=submitted&organization_id={nordlicht.pk}").json()] == \
        [submitted.pk]


def test_reviewer_lists_submitted_applications_but_no_drafts(alice, rita, nordlicht, submitted,
                                                             api_client):
    other_draft = post_json(api_client(alice), "/api/v1/applications",
                            {"organization_id": nordlicht.pk}).json()
    listed = api_client(rita).get("/api/v1/applications").json()

    assert [a["id"] for a in listed] == [submitted.pk]
    assert_error(api_client(rita).get(f"/api/v1/applications/{other_draft['id']}"),
                 404, "not_found")


# --- documents ----------------------------------------------------------------------------------

def test_a_text_file_renamed_pdf_is_refused_naming_the_file_field(alice, draft, api_client):
    before = state(draft)
    fake = SimpleUploadedFile("manual.pdf", b"Just some text pretending to be a PDF.\n",
                              content_type="application/pdf")

    response = api_client(alice).post(f"/api/v1/applications/{draft.pk}/documents",
                                      {"file": fake, "kind": "manual"})

    assert_error(response, 422, "invalid", "file")
    assert state(draft) == before
    assert not StoredFile.objects.exists()


@pytest.mark.parametrize(("data", "field"), [
    ({"kind": "manual"}, "file"),
    ({"kind": "selfie", "pdf": True}, "kind"),
    ({"kind": "manual", "empty": True}, "file"),
])
def test_uploads_without_a_file_or_kind_are_refused(alice, draft, api_client, data, field):
    before = state(draft)
    payload = {"kind": data["kind"]}
    if data.get("pdf"):
        payload["file"] = SimpleUploadedFile("manual.pdf", PDF, content_type="application/pdf")
    if data.get("empty"):
        payload["file"] = SimpleUploadedFile("manual.pdf", b"", content_type="application/pdf")

    response = api_client(alice).post(f"/api/v1/applications/{draft.pk}/documents", payload)

    assert_error(response, 422, "invalid", field)
    assert state(draft) == before


def test_office_documents_are_recognised_by_content(alice, draft, api_client):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    docx = SimpleUploadedFile("process-map.docx", buffer.getvalue(),
                              content_type="application/octet-stream")

    response = api_client(alice).post(f"/api/v1/applications/{draft.pk}/documents",
                                      {"file": docx, "kind": "process_map"})

    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


def test_download_is_an_attachment_that_is_not_sniffed(alice, rita, draft, api_client):
    client = api_client(alice)
    uploaded = client.post(f"/api/v1/applications/{draft.pk}/documents", {
        "file": SimpleUploadedFile("<script>.pdf", PDF, content_type="text/html"),
        "kind": "manual"}).json()
    assert uploaded["content_type"] == "application/pdf"

    response = client.get(f"/api/v1/documents/{uploaded['id']}/download")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    page = client.get(f"/documents/{uploaded['id']}/download/")
    assert page.status_code == 200
    assert page["Content-Disposition"].startswith("attachment;")
    assert page["X-Content-Type-Options"] == "nosniff"
    listed = client.get(f"/api/v1/applications/{draft.pk}/documents").json()
    assert [d["id"] for d in listed] == [uploaded["id"]]
    # The reviewer sees it only once submitted.
    assert_error(api_client(rita).get(f"/api/v1/documents/{uploaded['id']}/download"),
                 404, "not_found")
    post_json(client, f"/api/v1/applications/{draft.pk}/submit")
    staff = api_client(rita).get(f"/api/v1/documents/{uploaded['id']}/download")
    assert staff.status_code == 200
    assert staff["Content-Disposition"].startswith("attachment;")


def test_documents_can_be_removed_only_while_editable(alice, draft, api_client):
    client = api_client(alice)
    kept = client.post(f"/api/v1/applications/{draft.pk}/documents", {
        "file": SimpleUploadedFile("manual.pdf", PDF), "kind": "manual"}).json()
    dropped = client.post(f"/api/v1/applications/{draft.pk}/documents", {
        "file": SimpleUploadedFile("old.pdf", PDF), "kind": "other"}).json()

    assert client.delete(f"/api/v1/documents/{dropped['id']}").status_code == 204
    assert list(ApplicationDocument.objects.values_list("pk", flat=True)) == [kept["id"]]

    post_json(client, f"/api/v1/applications/{draft.pk}/submit")
    before = state(draft)
    assert_error(client.delete(f"/api/v1/documents/{kept['id']}"), 409, "conflict")
    assert_error(client.post(f"/api/v1/applications/{draft.pk}/documents", {
        "file": SimpleUploadedFile("late.pdf", PDF), "kind": "other"}), 409, "conflict")
    assert state(draft) == before
