"""The pages: list and start, rows edited inline (htmx) or with plain forms, freeze."""

from factories import pdf_upload
from readiness_helpers import row

from isocert.readiness.models import GapAssessment

HX = {"HTTP_HX_REQUEST": "true"}


def test_the_organization_page_links_the_gap_analysis(nordlicht, alice, api_client):
    html = api_client(alice).get(f"/organizations/{nordlicht.pk}/").content.decode()
    assert f'href="/organizations/{nordlicht.pk}/gap-analysis/"' in html


def test_an_editor_starts_a_gap_analysis_from_the_list(nordlicht, bob, vic, api_client):
    url = f"/organizations/{nordlicht.pk}/gap-analysis/"
    assert "Start a gap analysis" not in api_client(vic).get(url).content.decode()
    api_client(vic).post(url + "start/", {"standard": "ISO 9001"})
    assert not GapAssessment.objects.exists()

    response = api_client(bob).post(url + "start/", {"standard": "ISO 9001"})

    assessment = GapAssessment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/gap-analysis/{assessment.pk}/"
    assert "ISO 9001:2015" in api_client(vic).get(url).content.decode()


def test_a_row_is_edited_inline_with_htmx(gap9001, bob, api_client):
    client = api_client(bob)
    item = row(gap9001, "4.1")

    form = client.get(f"/gap-items/{item.pk}/", **HX)
    saved = client.post(f"/gap-items/{item.pk}/", {"version": "1", "status": "partial",
                                                   "notes": "SWOT from 2022."}, **HX)

    assert form.status_code == 200 and 'hx-post="/gap-items/' in form.content.decode()
    assert "<html" not in form.content.decode()
    assert saved.status_code == 200
    html = saved.content.decode()
    assert "Partially conforms" in html and "SWOT from 2022." in html and "Saved." in html
    item.refresh_from_db()
    assert (item.status, item.version) == ("partial", 2)


def test_a_stale_inline_save_shows_the_saved_answer_and_a_clear_message(gap9001, alice, bob,
                                                                        api_client):
    item = row(gap9001, "5.3")
    api_client(alice).post(f"/gap-items/{item.pk}/", {"version": "1", "status": "conforms",
                                                      "notes": "RACI chart v3."}, **HX)

    stale = api_client(bob).post(f"/gap-items/{item.pk}/", {
        "version": "1", "status": "nonconforming", "notes": "No roles defined."}, **HX)

    html = stale.content.decode()
    assert stale.status_code == 409
    assert "alice@nordlicht.example saved clause 5.3" in html
    assert "nothing was overwritten" in html
    assert "RACI chart v3." in html and 'name="version" value="2"' in html
    item.refresh_from_db()
    assert (item.status, item.notes) == ("conforms", "RACI chart v3.")


def test_without_javascript_the_row_form_is_a_page(gap9001, alice, api_client):
    client = api_client(alice)
    item = row(gap9001, "8.3")

    page = client.get(f"/gap-items/{item.pk}/")
    refused = client.post(f"/gap-items/{item.pk}/", {"version": "1",
                                                     "status": "not_applicable"})
    saved = client.post(f"/gap-items/{item.pk}/", {"version": "1", "status": "not_applicable",
                                                   "justification": "No design."})

    assert page.status_code == 200 and "<html" in page.content.decode()
    assert refused.status_code == 422
    assert "Say why this clause does not apply to you." in refused.content.decode()
    assert saved.status_code == 302 and saved["Location"].endswith(f"#row-{item.pk}")


def test_evidence_freeze_and_new_version_pages(gap9001, alice, vic, api_client):
    client = api_client(alice)
    item = row(gap9001, "7.2")
    client.post(f"/gap-items/{item.pk}/evidence/", {"file": pdf_upload("training.pdf"),
                                                    "title": "Training matrix"})
    assert item.evidence.get().title == "Training matrix"
    api_client(vic).post(f"/gap-analysis/{gap9001.pk}/freeze/")
    gap9001.refresh_from_db()
    assert gap9001.status == "open"

    client.post(f"/gap-analysis/{gap9001.pk}/freeze/")
    frozen_page = client.get(f"/gap-analysis/{gap9001.pk}/").content.decode()
    new = client.post(f"/gap-analysis/{gap9001.pk}/new-version/")

    assert "read-only snapshot" in frozen_page and "Edit 7.2" not in frozen_page
    assert "Start version 2 from this one" in frozen_page
    second = GapAssessment.objects.get(number=2)
    assert new["Location"] == f"/gap-analysis/{second.pk}/"
    page = client.get(f"/gap-analysis/{second.pk}/").content.decode()
    assert "Compare with v1" in page and "Training matrix" in page


def _selected_standard(html: str) -> list[str]:
    import re

    select = re.search(r'<select name="standard"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"[^>]*\bselected\b', select)


def test_start_pre_selects_the_clients_own_standard(nordlicht, alice, draft, api_client):
    # Nordlicht applied for ISO 50001 only: not the catalog's first standard, ISO 14001.
    url = f"/organizations/{nordlicht.pk}/gap-analysis/"
    assert _selected_standard(api_client(alice).get(url).content.decode()) == ["ISO 50001"]

    api_client(alice).post(url + "start/", {"standard": "ISO 50001"})
    # Its gap analysis exists: nothing left to pre-select, the person chooses.
    assert _selected_standard(api_client(alice).get(url).content.decode()) == [""]


def test_start_pre_selects_nothing_without_an_application(nordlicht, alice, api_client):
    url = f"/organizations/{nordlicht.pk}/gap-analysis/"
    assert _selected_standard(api_client(alice).get(url).content.decode()) == [""]
    api_client(alice).post(url + "start/", {"standard": ""})
    assert not GapAssessment.objects.exists()


def test_a_withdrawn_application_no_longer_says_what_the_client_pursues(nordlicht, alice, draft,
                                                                        api_client):
    from isocert.registration.services import withdraw_application

    withdraw_application(application=draft, actor=alice)
    url = f"/organizations/{nordlicht.pk}/gap-analysis/"
    assert _selected_standard(api_client(alice).get(url).content.decode()) == [""]
