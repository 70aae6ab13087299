"""The Registry pages: exports for administrators and reviewers, imports for administrators,
nothing for clients and visitors."""

import pytest
from django.test import Client
from factories import client_for
from registry_io_helpers import csv_text, csv_upload, make_certificate, row

from isocert.certification.models import Certificate
from isocert.registry import row_checks, services
from isocert.registry.models import CertificateImport, RegistryExport

pytestmark = pytest.mark.django_db


@pytest.fixture
def prepared(ada):
    make_certificate("NL-1")
    return services.create_registry_export(fmt="csv", actor=ada)


@pytest.fixture
def refused(ada, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        started = services.start_import(
            upload=csv_upload(csv_text([row(1, **{"Issue date": "2025-13-01"}), row(2)])),
            actor=ada)
    return CertificateImport.objects.get(pk=started.pk)


def test_administrator_prepares_and_downloads_an_export(ada, api_client,
                                                        django_capture_on_commit_callbacks):
    make_certificate("NL-1")
    client = api_client(ada)

    home = client.get("/cb/registry/")
    assert home.status_code == 200
    page = home.content.decode()
    assert "Prepare export now" in page and "isocert prepare-certsearch-export" in page
    assert "Import certificates from a CSV" in page

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post("/cb/registry/exports/new/", {"format": "csv"})
    assert response.status_code == 302
    export = RegistryExport.objects.get()
    assert export.status == RegistryExport.Status.QUEUED and export.file is None
    assert "Export queued (CSV)" in client.get(response["Location"]).content.decode()
    table = client.get("/cb/registry/exports/").content.decode()
    assert 'hx-trigger="every 2s"' in table and "Queued" in table
    assert "/download/" not in table
    refused = client.get(f"/cb/registry/exports/{export.pk}/download/")
    assert refused.status_code == 302
    assert "This export is queued" in client.get(refused["Location"]).content.decode()

    for callback in queued:  # the task worker
        callback()
    export.refresh_from_db()
    assert (export.status, export.rows) == (RegistryExport.Status.DONE, 1)
    table = client.get("/cb/registry/exports/").content.decode()
    assert "hx-trigger" not in table and "Ready" in table
    assert f"/cb/registry/exports/{export.pk}/download/" in client.get("/cb/registry/").content.decode()
    download = client.get(f"/cb/registry/exports/{export.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert b"NL-1" in b"".join(download.streaming_content)
    assert client.get("/cb/registry/exports/new/").status_code == 405


def test_reviewer_may_export_but_not_import(rita, prepared, refused, api_client):
    client = api_client(rita)

    assert client.get("/cb/registry/").status_code == 200
    assert "Import certificates" not in client.get("/cb/registry/").content.decode()
    assert client.post("/cb/registry/exports/new/", {"format": "xlsx"}).status_code == 302
    assert client.get(f"/cb/registry/exports/{prepared.pk}/download/").status_code == 200
    for url in ("/cb/registry/imports/", f"/cb/registry/imports/{refused.pk}/",
                f"/cb/registry/imports/{refused.pk}/progress/",
                f"/cb/registry/imports/{refused.pk}/errors.csv"):
        assert client.get(url).status_code == 404, url
    upload = client.post("/cb/registry/imports/", {"file": csv_upload(csv_text([row(5)]))})
    assert upload.status_code == 404
    assert CertificateImport.objects.count() == 1


@pytest.mark.parametrize("who", ["alice", "dora", "anonymous"])
def test_clients_other_staff_and_visitors_get_404(request, who, prepared, refused):
    client = Client() if who == "anonymous" else client_for(request.getfixturevalue(who))
    for url in ("/cb/registry/", "/cb/registry/imports/", "/cb/registry/exports/",
                f"/cb/registry/exports/{prepared.pk}/download/",
                f"/cb/registry/imports/{refused.pk}/",
                f"/cb/registry/imports/{refused.pk}/progress/",
                f"/cb/registry/imports/{refused.pk}/errors.csv"):
        assert client.get(url).status_code == 404, url
    assert client.post("/cb/registry/exports/new/", {"format": "csv"}).status_code == 404
    assert client.post("/cb/registry/imports/",
                       {"file": csv_upload(csv_text([row(5)]))}).status_code == 404
    assert RegistryExport.objects.count() == 1 and CertificateImport.objects.count() == 1


def test_upload_shows_progress_then_the_result(ada, api_client, django_capture_on_commit_callbacks):
    client = api_client(ada)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post("/cb/registry/imports/",
                               {"file": csv_upload(csv_text([row(1), row(2)]), "old.csv")})
    certificate_import = CertificateImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cb/registry/imports/{certificate_import.pk}/"

    waiting = client.get(response["Location"]).content.decode()
    assert "Queued" in waiting
    assert f'hx-get="/cb/registry/imports/{certificate_import.pk}/progress/"' in waiting
    assert 'hx-trigger="every 1s"' in waiting

    for callback in queued:
        callback()  # the task runs
    fragment = client.get(f"/cb/registry/imports/{certificate_import.pk}/progress/",
                          headers={"HX-Request": "true"})
    assert fragment["HX-Refresh"] == "true"
    assert "2 of 2 rows checked; 2 certificates imported" in fragment.content.decode()
    done = client.get(response["Location"]).content.decode()
    assert "2 certificates are now in the registry" in done and "hx-trigger" not in done
    assert Certificate.objects.count() == 2


def test_a_refused_import_lists_problems_by_line_and_offers_them_as_csv(ada, refused,
                                                                       api_client):
    client = api_client(ada)

    page = client.get(f"/cb/registry/imports/{refused.pk}/").content.decode()
    assert "nothing was imported" in page
    assert "<td>2</td><td>Issue date</td><td>&#x27;2025-13-01&#x27; is not a date as YYYYMMDD." \
           "</td>" in page
    report = client.get(f"/cb/registry/imports/{refused.pk}/errors.csv")
    assert report["Content-Type"].startswith("text/csv")
    assert b"".join(report.streaming_content).decode().splitlines() == [
        "line,field,message", "2,Issue date,'2025-13-01' is not a date as YYYYMMDD."]


def test_a_wrong_upload_is_refused_on_the_page(ada, api_client):
    response = api_client(ada).post("/cb/registry/imports/",
                                    {"file": csv_upload("a,b\n1,2\n")})
    assert response.status_code == 422
    assert "missing columns" in response.content.decode()
    assert not CertificateImport.objects.exists()


def test_every_cell_of_the_problem_report_csv_is_neutralised(ada, refused, api_client,
                                                             monkeypatch):
    # No message begins with a cell of the file today; the report must stay safe if one does.
    monkeypatch.setattr(row_checks, "all_problems", lambda certificate_import: [
        {"line": 2, "field": "Certified entity name",
         "message": '=HYPERLINK("http://evil.example","x") is not allowed.'}])

    report = api_client(ada).get(f"/cb/registry/imports/{refused.pk}/errors.csv")

    assert b"".join(report.streaming_content).decode().splitlines()[1] == (
        '2,Certified entity name,"\'=HYPERLINK(""http://evil.example"",""x"") is not allowed."')


def test_the_export_form_offers_the_ict_column_and_the_table_says_which_have_it(
        rita, api_client, django_capture_on_commit_callbacks):
    make_certificate("NL-1")
    client = api_client(rita)

    page = client.get("/cb/registry/").content.decode()
    assert ('<input id="f-with-ict" type="checkbox" name="with_ict" value="1">' in page
            and '<label for="f-with-ict">Add a column showing where remote auditing (ICT) '
                'was used' in page)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/cb/registry/exports/new/", {"format": "csv", "with_ict": "1"})
        client.post("/cb/registry/exports/new/", {"format": "xlsx"})
    assert "Export queued (CSV, with the ICT column)" in client.get(
        response["Location"]).content.decode()
    assert sorted(RegistryExport.objects.values_list("format", "with_ict")) == [
        ("csv", True), ("xlsx", False)]
    table = client.get("/cb/registry/exports/").content.decode()
    assert table.count('data-testid="export-with-ict"') == 1
    with_ict = RegistryExport.objects.get(with_ict=True)
    download = client.get(f"/cb/registry/exports/{with_ict.pk}/download/")
    assert b"".join(download.streaming_content).decode().splitlines()[0].endswith(
        ",Remote auditing (ICT)")
