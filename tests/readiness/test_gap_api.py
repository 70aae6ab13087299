"""The readiness API: gap analyses, rows with optimistic concurrency, versions, facts."""

from factories import pdf_upload
from readiness_helpers import row

from isocert.readiness.models import GapItem


def test_start_list_and_get_an_assessment_with_rows_and_scores(nordlicht, alice, api_client):
    client = api_client(alice)

    created = client.post(f"/api/v1/organizations/{nordlicht.pk}/gap-assessments",
                          {"standard": "ISO 9001"}, content_type="application/json")
    again = client.post(f"/api/v1/organizations/{nordlicht.pk}/gap-assessments",
                        {"standard": "ISO 9001"}, content_type="application/json")
    listed = client.get(f"/api/v1/organizations/{nordlicht.pk}/gap-assessments").json()

    assert created.status_code == 201
    body = created.json()
    assert (body["standard"], body["edition"], body["number"], body["status"]) == (
        "ISO 9001", "2015", 1, "open")
    assert len(body["items"]) == 75 and body["items"][1]["clause"] == "4.1"
    assert body["scores"]["overall"] == {"score": None, "assessed": 0, "rows": 75}
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert [a["id"] for a in listed] == [body["id"]]


def test_patch_a_row_and_a_stale_version_answers_409(gap9001, alice, bob, api_client):
    item = row(gap9001, "4.1")
    url = f"/api/v1/gap-items/{item.pk}"

    saved = api_client(alice).patch(url, {"version": 1, "status": "conforms", "notes": "OK"},
                                    content_type="application/json")
    stale = api_client(bob).patch(url, {"version": 1, "status": "nonconforming"},
                                  content_type="application/json")

    assert saved.status_code == 200
    assert (saved.json()["status"], saved.json()["version"]) == ("conforms", 2)
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["code"] == "conflict" and error["fields"] == {"version": "Stale version."}
    assert "nothing was overwritten" in error["message"]
    item.refresh_from_db()
    assert (item.status, item.notes, item.version) == ("conforms", "OK", 2)
    scores = api_client(bob).get(f"/api/v1/gap-assessments/{gap9001.pk}").json()["scores"]
    assert scores["clauses"][0]["score"] == "100.0"


def test_row_errors_have_the_error_shape(gap9001, gap27001, alice, api_client):
    client = api_client(alice)
    item = row(gap9001, "8.3")

    no_justification = client.patch(f"/api/v1/gap-items/{item.pk}",
                                    {"version": 1, "status": "not_applicable"},
                                    content_type="application/json")
    soa = client.patch(f"/api/v1/gap-items/{item.pk}",
                       {"version": 1, "soa_applicable": True, "soa_justification": "x"},
                       content_type="application/json")
    no_version = client.patch(f"/api/v1/gap-items/{item.pk}", {"status": "conforms"},
                              content_type="application/json")

    assert no_justification.status_code == 422
    assert no_justification.json()["error"]["fields"] == {
        "justification": "Say why this clause does not apply to you."}
    assert soa.status_code == 422 and "soa_applicable" in soa.json()["error"]["fields"]
    assert no_version.status_code == 422 and "version" in no_version.json()["error"]["fields"]


def test_a_viewer_reads_but_cannot_write(gap9001, vic, api_client):
    client = api_client(vic)
    item = row(gap9001, "4.1")

    assert client.get(f"/api/v1/gap-assessments/{gap9001.pk}").status_code == 200
    refused = client.patch(f"/api/v1/gap-items/{item.pk}", {"version": 1, "status": "conforms"},
                           content_type="application/json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert client.post(f"/api/v1/gap-assessments/{gap9001.pk}/freeze").status_code == 403


def test_evidence_upload_link_download_and_delete(gap9001, alice, api_client):
    client = api_client(alice)
    item = row(gap9001, "7.5.1")
    url = f"/api/v1/gap-items/{item.pk}/evidence"

    uploaded = client.post(url, {"file": pdf_upload("doc-list.pdf"), "title": "Document list"})
    linked = client.post(url, {"link": "https://wiki.example/qm", "title": "QM wiki"})
    neither = client.post(url, {"title": "Nothing"})
    bad_link = client.post(url, {"link": "javascript:alert(1)"})

    assert uploaded.status_code == 201
    assert uploaded.json()["file_name"] == "doc-list.pdf"
    assert linked.status_code == 201 and linked.json()["link"] == "https://wiki.example/qm"
    assert neither.status_code == 422 and neither.json()["error"]["fields"]["file"]
    assert bad_link.status_code == 422 and "link" in bad_link.json()["error"]["fields"]
    download = client.get(f"/api/v1/gap-evidence/{uploaded.json()['id']}/download")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    items = client.get(f"/api/v1/gap-assessments/{gap9001.pk}").json()["items"]
    assert [e["title"] for e in next(i for i in items if i["id"] == item.pk)["evidence"]] == [
        "Document list", "QM wiki"]
    assert client.delete(f"/api/v1/gap-evidence/{linked.json()['id']}").status_code == 204
    assert item.evidence.count() == 1


def test_freeze_new_version_and_compare(gap9001, alice, api_client):
    client = api_client(alice)
    item = row(gap9001, "4.2")
    client.patch(f"/api/v1/gap-items/{item.pk}", {"version": 1, "status": "partial"},
                 content_type="application/json")

    refused = client.post(f"/api/v1/gap-assessments/{gap9001.pk}/new-version")
    frozen = client.post(f"/api/v1/gap-assessments/{gap9001.pk}/freeze")
    locked = client.patch(f"/api/v1/gap-items/{item.pk}", {"version": 2, "status": "conforms"},
                          content_type="application/json")
    new = client.post(f"/api/v1/gap-assessments/{gap9001.pk}/new-version")

    assert refused.status_code == 409
    assert frozen.status_code == 200 and frozen.json()["status"] == "frozen"
    assert locked.status_code == 409 and "read-only" in locked.json()["error"]["message"]
    assert new.status_code == 201 and new.json()["number"] == 2
    copied = next(i for i in new.json()["items"] if i["clause"] == "4.2")
    client.patch(f"/api/v1/gap-items/{copied['id']}",
                 {"version": copied["version"], "status": "conforms", "notes": "Done."},
                 content_type="application/json")
    compared = client.get(f"/api/v1/gap-assessments/{new.json()['id']}/compare").json()
    assert compared["older_id"] == gap9001.pk
    assert compared["changes"] == [{"clause": "4.2", "fields": ["status", "notes"],
                                    "old_status": "partial", "new_status": "conforms",
                                    "old_notes": "", "new_notes": "Done."}]


def test_mirror_through_the_api(gap9001, gap27001, alice, api_client):
    client = api_client(alice)
    item = row(gap9001, "9.3")
    client.patch(f"/api/v1/gap-items/{item.pk}", {"version": 1, "status": "conforms"},
                 content_type="application/json")

    response = client.post(f"/api/v1/gap-items/{item.pk}/mirror")

    assert response.status_code == 200
    [mirrored] = response.json()["mirrored_to"]
    assert (mirrored["clause"], mirrored["status"], mirrored["mirrored_from"]) == (
        "9.3", "conforms", item.pk)
    assert GapItem.objects.get(pk=mirrored["id"]).assessment_id == gap27001.pk


def test_energy_facts_put_and_get(gap50001, gap9001, alice, api_client):
    client = api_client(alice)
    body = {"annual_consumption": "250000", "unit": "MWh", "energy_types": ["Electricity"],
            "significant_uses": [{"name": "Furnaces", "share_percent": "61.5"}],
            "enpis": "kWh/t", "baseline": "2023"}
    url = f"/api/v1/gap-assessments/{gap50001.pk}/energy-facts"

    assert client.get(url).status_code == 404
    saved = client.put(url, body, content_type="application/json")
    wrong = client.put(f"/api/v1/gap-assessments/{gap9001.pk}/energy-facts", body,
                       content_type="application/json")

    assert saved.status_code == 200
    assert saved.json()["annual_consumption_tj"] == "900"
    assert client.get(url).json()["significant_uses"] == [
        {"name": "Furnaces", "share_percent": "61.50"}]
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "invalid"


def test_readiness_and_share_through_the_api(nordlicht, gap50001, alice, bob, api_client):
    readiness = api_client(bob).get(f"/api/v1/organizations/{nordlicht.pk}/readiness").json()
    not_owner = api_client(bob).post(f"/api/v1/organizations/{nordlicht.pk}/readiness/share",
                                     {"standard": "ISO 50001", "shared": True},
                                     content_type="application/json")
    shared = api_client(alice).post(f"/api/v1/organizations/{nordlicht.pk}/readiness/share",
                                    {"standard": "ISO 50001", "shared": True},
                                    content_type="application/json")

    [entry] = readiness
    assert (entry["standard"], entry["verdict"], entry["ready"]) == (
        "ISO 50001", "Not ready", False)
    assert [c["key"] for c in entry["checks"]] == [
        "gap_analysis", "actions", "internal_audit", "management_review"]
    assert entry["reasons"][0].startswith("Gap analysis v1: 38 of 38 rows")
    assert not_owner.status_code == 403
    assert shared.status_code == 200 and shared.json() == {"standard": "ISO 50001",
                                                           "shared": True}


def test_patch_several_rows_saves_them_and_lists_stale_ones_as_conflicts(gap9001, alice, bob,
                                                                         api_client):
    first, second, third = (row(gap9001, n) for n in ("6.1", "6.2", "6.3"))
    api_client(bob).patch(f"/api/v1/gap-items/{third.pk}", {"version": 1, "status": "partial"},
                          content_type="application/json")
    url = f"/api/v1/gap-assessments/{gap9001.pk}/items"

    response = api_client(alice).patch(url, {"items": [
        {"id": first.pk, "version": 1, "status": "conforms", "notes": "Risk register 2025."},
        {"id": second.pk, "version": 1, "status": "not_assessed"},
        {"id": third.pk, "version": 1, "status": "nonconforming"},
    ]}, content_type="application/json")

    assert response.status_code == 200
    body = response.json()
    assert [(r["clause"], r["status"], r["notes"], r["version"]) for r in body["saved"]] == [
        ("6.1", "conforms", "Risk register 2025.", 2)]
    assert body["unchanged"] == [second.pk]
    [conflict] = body["conflicts"]
    assert (conflict["id"], conflict["clause"]) == (third.pk, "6.3")
    assert conflict["error"]["code"] == "conflict"
    assert conflict["error"]["fields"] == {"version": "Stale version."}
    assert "bob@nordlicht.example saved clause 6.3" in conflict["error"]["message"]
    assert (conflict["current"]["status"], conflict["current"]["version"]) == ("partial", 2)


def test_patch_several_rows_refusals_have_the_error_shape(gap9001, alice, vic, charlie,
                                                          api_client):
    item, other = row(gap9001, "8.3"), row(gap9001, "8.4")
    url = f"/api/v1/gap-assessments/{gap9001.pk}/items"
    good = {"items": [{"id": other.pk, "version": 1, "status": "conforms"}]}

    invalid = api_client(alice).patch(url, {"items": [
        {"id": other.pk, "version": 1, "status": "conforms"},
        {"id": item.pk, "version": 1, "status": "not_applicable"}]},
        content_type="application/json")
    malformed = api_client(alice).patch(url, {"items": [{"id": item.pk, "status": "conforms"}]},
                                        content_type="application/json")
    viewer = api_client(vic).patch(url, good, content_type="application/json")
    stranger = api_client(charlie).patch(url, good, content_type="application/json")

    assert invalid.status_code == 422
    assert invalid.json()["error"] == {
        "code": "invalid", "message": "Nothing was saved: correct clause 8.3.",
        "fields": {"items.1.justification": "Say why this clause does not apply to you."}}
    assert malformed.status_code == 422
    assert "items.0.version" in malformed.json()["error"]["fields"]
    assert viewer.status_code == 403 and viewer.json()["error"]["code"] == "forbidden"
    assert stranger.status_code == 404 and stranger.json()["error"]["code"] == "not_found"
    assert GapItem.objects.get(pk=other.pk).version == 1

    api_client(alice).post(f"/api/v1/gap-assessments/{gap9001.pk}/freeze")
    frozen = api_client(alice).patch(url, good, content_type="application/json")
    assert frozen.status_code == 409 and frozen.json()["error"]["code"] == "conflict"
