"""The registry API: imports for CB administrators, exports for administrators and
reviewers, 404 for everyone else."""

import pytest
from registry_io_helpers import csv_text, csv_upload, make_certificate, row

from isocert.certification.models import Certificate
from isocert.registry import services
from isocert.registry.models import CertificateImport, RegistryExport

pytestmark = pytest.mark.django_db
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


def test_administrator_imports_and_follows_the_progress(ada, api_client,
                                                        django_capture_on_commit_callbacks):
    client = api_client(ada)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/registry/imports",
                               {"file": csv_upload(csv_text([row(1), row(2)]))})
    assert response.status_code == 202
    import_id = response.json()["id"]

    detail = client.get(f"/api/v1/registry/imports/{import_id}").json()
    assert {k: detail[k] for k in ("status", "total_rows", "processed_rows", "imported_rows",
                                   "error_count", "errors")} == {
        "status": "done", "total_rows": 2, "processed_rows": 2, "imported_rows": 2,
        "error_count": 0, "errors": []}
    assert Certificate.objects.count() == 2


def test_a_refused_import_reports_problems(ada, api_client, django_capture_on_commit_callbacks):
    client = api_client(ada)
    with django_capture_on_commit_callbacks(execute=True):
        import_id = client.post("/api/v1/registry/imports", {"file": csv_upload(csv_text(
            [row(1, **{"Certified entity country": "XX"})]))}).json()["id"]

    detail = client.get(f"/api/v1/registry/imports/{import_id}").json()
    assert detail["status"] == "failed" and detail["error_count"] == 1
    assert detail["errors"] == [{"line": 2, "field": "Certified entity country",
                                 "message": "Unknown country code 'XX' (ISO 3166-1 alpha-2)."}]


def test_a_wrong_upload_is_a_422(ada, api_client):
    response = api_client(ada).post("/api/v1/registry/imports",
                                    {"file": csv_upload("x,y\n1,2\n")})
    assert response.status_code == 422
    assert "missing columns" in response.json()["error"]["fields"]["file"]


@pytest.mark.parametrize("who", ["ada", "rita"])
def test_administrators_and_reviewers_prepare_list_and_download_exports(
        request, who, api_client, django_capture_on_commit_callbacks):
    make_certificate("NL-1")
    client = api_client(request.getfixturevalue(who))

    with django_capture_on_commit_callbacks(execute=False) as queued:
        created = client.post("/api/v1/registry/exports", {"format": "xlsx"},
                              content_type="application/json")
    assert created.status_code == 202
    body = created.json()
    assert (body["format"], body["status"], body["download_url"]) == ("xlsx", "queued", None)
    assert [e["id"] for e in client.get("/api/v1/registry/exports").json()] == [body["id"]]
    early = client.get(f"/api/v1/registry/exports/{body['id']}/download")
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "conflict"

    for callback in queued:  # the task worker
        callback()
    body = client.get(f"/api/v1/registry/exports/{body['id']}").json()
    assert (body["status"], body["rows"], body["total_rows"]) == ("done", 1, 1)
    assert body["size"] > 0 and len(body["sha256"]) == 64 and body["finished_at"]
    download = client.get(body["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"PK")
    bad = client.post("/api/v1/registry/exports", {"format": "pdf"},
                      content_type="application/json")
    assert bad.status_code == 422


@pytest.mark.parametrize("who", ["alice", "rita", "dora"])
def test_others_cannot_import(request, who, ada, api_client):
    certificate_import = services.start_import(upload=csv_upload(csv_text([row(1)])),
                                                  actor=ada)
    client = api_client(request.getfixturevalue(who))

    response = client.post("/api/v1/registry/imports",
                           {"file": csv_upload(csv_text([row(2)]))})
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    response = client.get(f"/api/v1/registry/imports/{certificate_import.pk}")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert CertificateImport.objects.count() == 1


@pytest.mark.parametrize("who", ["alice", "dora"])
def test_clients_and_other_staff_cannot_export(request, who, ada, api_client):
    export = services.create_registry_export(fmt="csv", actor=ada)
    client = api_client(request.getfixturevalue(who))

    for response in (client.get("/api/v1/registry/exports"),
                     client.get(f"/api/v1/registry/exports/{export.pk}"),
                     client.post("/api/v1/registry/exports", {"format": "csv"},
                                 content_type="application/json"),
                     client.get(f"/api/v1/registry/exports/{export.pk}/download")):
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert RegistryExport.objects.count() == 1


def test_an_export_with_the_ict_column_is_requested_and_shown(
        rita, api_client, django_capture_on_commit_callbacks):
    make_certificate("NL-1")
    client = api_client(rita)

    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/v1/registry/exports", {"format": "csv", "with_ict": True},
                              content_type="application/json")
        plain = client.post("/api/v1/registry/exports", {"format": "csv"},
                            content_type="application/json")
    assert (created.status_code, created.json()["with_ict"]) == (202, True)
    assert (plain.status_code, plain.json()["with_ict"]) == (202, False)
    listed = {e["id"]: e["with_ict"] for e in client.get("/api/v1/registry/exports").json()}
    assert listed == {created.json()["id"]: True, plain.json()["id"]: False}
    done = client.get(f"/api/v1/registry/exports/{created.json()['id']}").json()
    download = client.get(done["download_url"])
    header = b"".join(download.streaming_content).decode().splitlines()[0]
    assert header.endswith(",Remote auditing (ICT)")
    assert download["Content-Disposition"].endswith('-ict.csv"')


@pytest.mark.parametrize("value", ["maybe", [True], {"on": 1}])
def test_a_with_ict_that_is_no_boolean_is_a_422(ada, api_client, value):
    response = api_client(ada).post("/api/v1/registry/exports",
                                    {"format": "csv", "with_ict": value},
                                    content_type="application/json")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid" and list(error["fields"]) == ["with_ict"]
    assert not RegistryExport.objects.exists()
