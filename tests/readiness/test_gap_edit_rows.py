"""The gap analysis page filtered by clause and status (GET parameters, htmx swapping the
rows), and the several-rows editor: one Save for the rows changed, refused whole on an
invalid field, stale rows shown as saved now."""

import re

from readiness_helpers import answer, row

from isocert.readiness.models import GapItem

HX_ROWS = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "gap-rows"}


def _row_numbers(html: str) -> list[str]:
    return re.findall(r'<h3 id="row-\d+-title"><span class="clause-no">([^<]+)</span>', html)


def _count(html: str) -> str:
    return re.search(r'data-testid="gap-count">([^<]+)<', html).group(1)


def _grid(items: list[GapItem], **typed: dict) -> dict:
    """What the browser posts from the editor showing ``items``: every row as read (the
    hidden copies too), with ``typed`` (by clause number, e.g. ``{"7.1": {...}}``)."""
    data = {"rows": [item.pk for item in items]}
    for item in items:
        prefix = f"row{item.pk}-"
        data[prefix + "version"] = item.version
        read = {"status": item.status, "justification": item.justification,
                "notes": item.notes, "owner_id": str(item.owner_id or "")}
        for name, value in read.items():
            data["initial-" + prefix + name] = value
            data[prefix + name] = typed.get(item.clause.number.replace(".", "_"), {}).get(
                name, value)
    return data


def _rows(assessment, *numbers) -> list[GapItem]:
    return [row(assessment, n) for n in numbers]


# --- the filter ---------------------------------------------------------------------------------

def test_the_rows_are_filtered_by_clause_and_status(gap9001, alice, api_client):
    answer(gap9001, "7.1", alice, "partial")
    answer(gap9001, "7.2", alice, "partial")
    answer(gap9001, "8.1", alice, "partial")
    client = api_client(alice)

    everything = client.get(f"/gap-analysis/{gap9001.pk}/").content.decode()
    support = client.get(f"/gap-analysis/{gap9001.pk}/?clause=7").content.decode()
    partial = client.get(f"/gap-analysis/{gap9001.pk}/?clause=7&status=partial")

    assert len(_row_numbers(everything)) == 75 and _count(everything) == "All 75 clauses"
    assert _row_numbers(support)[:3] == ["7", "7.1", "7.1.1"]
    assert len(_row_numbers(support)) == 17
    assert _count(support) == "17 of 75 clauses — 7 Support"
    html = partial.content.decode()
    assert _row_numbers(html) == ["7.1", "7.2"]
    assert _count(html) == "2 of 75 clauses — 7 Support, partially conforms"
    assert '<option value="7" selected>7 Support</option>' in html
    assert '<option value="partial" selected>Partially conforms</option>' in html
    # The scores stay those of the whole analysis; the editor opens on the rows shown.
    assert 'data-testid="overall-score"><strong>50.0 %' in html
    assert (f'href="/gap-analysis/{gap9001.pk}/edit/?clause=7&amp;status=partial"'
            in html and "Edit these 2 clauses" in html)


def test_annex_a_is_a_section_of_its_own_and_an_empty_filter_says_so(gap27001, alice,
                                                                        api_client):
    client = api_client(alice)

    annex = client.get(f"/gap-analysis/{gap27001.pk}/?clause=annex_a").content.decode()
    physical = client.get(f"/gap-analysis/{gap27001.pk}/?clause=A.7").content.decode()
    none = client.get(f"/gap-analysis/{gap27001.pk}/?status=conforms").content.decode()

    assert '<option value="annex_a">Annex A — all controls</option>' in physical
    assert len(_row_numbers(annex)) == 97 and _row_numbers(annex)[0] == "A.5"
    assert _row_numbers(physical)[:2] == ["A.7", "A.7.1"] and len(_row_numbers(physical)) == 15
    assert _row_numbers(none) == [] and "No clause matches this filter." in none
    assert "Edit these" not in none


def test_an_unknown_filter_value_filters_nothing(gap9001, alice, api_client):
    html = api_client(alice).get(
        f"/gap-analysis/{gap9001.pk}/?clause=99&status=conforms").content.decode()
    assert _row_numbers(html) == [] and _count(html).startswith("0 of 75 clauses")
    html = api_client(alice).get(f"/gap-analysis/{gap9001.pk}/?clause=99&status=x").content
    assert _count(html.decode()) == "All 75 clauses"


def test_htmx_swaps_the_rows_and_the_count_and_going_back_gets_the_whole_page(
        gap9001, alice, api_client):
    client = api_client(alice)
    url = f"/gap-analysis/{gap9001.pk}/?clause=5"

    rows = client.get(url, **HX_ROWS)
    restored = client.get(url, **HX_ROWS, HTTP_HX_HISTORY_RESTORE_REQUEST="true")

    html = rows.content.decode()
    assert rows.status_code == 200 and "<html" not in html and "readiness-chart" not in html
    assert ('<span id="gap-count" hx-swap-oob="innerHTML">8 of 75 clauses — 5 Leadership'
            in html)
    assert _row_numbers(html)[:2] == ["5", "5.1"]
    assert {"HX-Request", "HX-Target"} <= {v.strip() for v in rows["Vary"].split(",")}
    assert "<html" in restored.content.decode()
    # A row's own edit form (htmx, another target) is unchanged.
    item = row(gap9001, "5.1")
    assert "<html" not in client.get(f"/gap-items/{item.pk}/",
                                     HTTP_HX_REQUEST="true").content.decode()


# --- the several-rows editor ---------------------------------------------------------------------

def test_the_editor_shows_the_filtered_rows_with_fields_naming_their_clause(
        gap9001, alice, api_client):
    client = api_client(alice)

    page = client.get(f"/gap-analysis/{gap9001.pk}/edit/?clause=5")
    in_place = client.get(f"/gap-analysis/{gap9001.pk}/edit/?clause=5", **HX_ROWS)

    html = page.content.decode()
    assert page.status_code == 200 and "<h1>Edit clauses" in html
    assert "Edit 8 clauses — 5 Leadership" in html
    item = row(gap9001, "5.2")
    for label in ("Status of 5.2", "Notes on 5.2", "Owner of 5.2", "Why 5.2 does not apply"):
        assert label in html
    assert f'<label class="visually-hidden" for="id_row{item.pk}-status">' in html
    assert f'name="row{item.pk}-version" value="1"' in html
    assert f'name="initial-row{item.pk}-status" value="not_assessed"' in html
    snippet = in_place.content.decode()
    assert "<html" not in snippet and "autofocus" in snippet
    assert f'hx-get="/gap-analysis/{gap9001.pk}/?clause=5" hx-target="#gap-rows"' in snippet


def test_one_save_writes_the_changed_rows_only(gap9001, alice, bob, api_client):
    items = _rows(gap9001, "7.1", "7.2", "7.3", "8.3")
    answer(gap9001, "7.3", bob, "conforms")  # after Alice opened the editor: untouched by her

    client = api_client(alice)
    saved = client.post(f"/gap-analysis/{gap9001.pk}/edit/?clause=7", _grid(
        items, **{"7_1": {"status": "partial", "owner_id": str(bob.pk)},
                  "7_2": {"notes": "Training matrix 2024."},
                  "8_3": {"status": "not_applicable", "justification": "No design."}}))

    assert saved.status_code == 302
    assert saved["Location"] == f"/gap-analysis/{gap9001.pk}/?clause=7#gap-rows"
    page = client.get(saved["Location"]).content.decode()
    assert "3 clauses saved: 7.1, 7.2, 8.3." in page
    now = {i.clause.number: i for i in _rows(gap9001, "7.1", "7.2", "7.3", "8.3")}
    assert (now["7.1"].status, now["7.1"].owner, now["7.1"].version) == ("partial", bob, 2)
    assert (now["7.2"].notes, now["7.2"].version) == ("Training matrix 2024.", 2)
    assert (now["7.3"].updated_by, now["7.3"].version) == (bob, 2)  # Bob's save stands
    assert (now["8.3"].status, now["8.3"].justification) == ("not_applicable", "No design.")


def test_nothing_changed_saves_nothing(gap9001, alice, api_client):
    items = _rows(gap9001, "4.1", "4.2")
    client = api_client(alice)
    saved = client.post(f"/gap-analysis/{gap9001.pk}/edit/", _grid(items))
    assert saved.status_code == 302
    page = client.get(saved["Location"]).content.decode()
    assert "Nothing to save: no clause was changed." in page
    assert [i.version for i in _rows(gap9001, "4.1", "4.2")] == [1, 1]


def test_an_invalid_row_saves_nothing_and_keeps_everything_typed(gap9001, alice, api_client):
    items = _rows(gap9001, "8.2", "8.3", "8.4")

    refused = api_client(alice).post(f"/gap-analysis/{gap9001.pk}/edit/?clause=8", _grid(
        items, **{"8_2": {"status": "conforms", "notes": "Customer portal reviewed."},
                  "8_3": {"status": "not_applicable", "notes": "We build to drawings."}}))

    html = refused.content.decode()
    assert refused.status_code == 422
    assert "There is a problem" in html and "Nothing was saved: correct clause 8.3." in html
    third = items[1]
    assert (f'<a href="#id_row{third.pk}-justification">Why 8.3 does not apply: Say why this '
            "clause does not apply to you.</a>") in html
    assert "Customer portal reviewed." in html and "We build to drawings." in html
    typed_status = html.split(f'name="row{items[0].pk}-status"')[1].split("</select>")[0]
    assert '<option value="conforms" selected>' in typed_status
    # The justification field is shown (no script needed) and marked invalid.
    assert f'<div id="justification-{third.pk}">' in html
    assert f'aria-describedby="id_row{third.pk}-justification_error"' in html
    assert [i.version for i in _rows(gap9001, "8.2", "8.3", "8.4")] == [1, 1, 1]


def test_a_stale_row_comes_back_as_saved_now_and_the_others_are_saved(gap9001, alice, bob,
                                                                     api_client):
    items = _rows(gap9001, "5.1", "5.2")
    answer(gap9001, "5.2", bob, "conforms", notes="Policy signed 2024-01.")

    response = api_client(alice).post(f"/gap-analysis/{gap9001.pk}/edit/?clause=5", _grid(
        items, **{"5_1": {"status": "partial"},
                  "5_2": {"status": "nonconforming", "notes": "No policy."}}))

    html = response.content.decode()
    assert response.status_code == 409
    assert "1 clause saved: 5.1." in html
    assert "bob@nordlicht.example saved clause 5.2 after you opened it" in html
    assert "You had typed: Status: “Does not conform”; Notes: “No policy.”." in html
    stale = items[1]
    # The row as saved now, with its new version: saving again applies on top of it.
    assert f'name="row{stale.pk}-version" value="2"' in html
    assert "Policy signed 2024-01." in html
    assert row(gap9001, "5.1").status == "partial"
    assert (row(gap9001, "5.2").status, row(gap9001, "5.2").notes) == (
        "conforms", "Policy signed 2024-01.")


def test_viewers_frozen_versions_and_other_organizations_are_refused(gap9001, alice, vic,
                                                                     charlie, api_client):
    items = _rows(gap9001, "4.1")
    data = _grid(items, **{"4_1": {"status": "conforms"}})
    url = f"/gap-analysis/{gap9001.pk}/edit/"

    assert api_client(vic).get(url).status_code == 403
    viewer = api_client(vic).post(url, data)
    assert viewer.status_code == 403 and "Only an owner or editor" in viewer.content.decode()
    assert api_client(charlie).get(url).status_code == 404
    assert api_client(charlie).post(url, data).status_code == 404
    assert "Edit these" not in api_client(vic).get(f"/gap-analysis/{gap9001.pk}/").content.decode()

    api_client(alice).post(f"/gap-analysis/{gap9001.pk}/freeze/")
    frozen = api_client(alice).get(url)
    assert frozen.status_code == 302 and frozen["Location"] == f"/gap-analysis/{gap9001.pk}/"
    refused = api_client(alice).post(url, data)
    assert refused.status_code == 409 and "frozen and read-only" in refused.content.decode()
    assert row(gap9001, "4.1").status == "not_assessed"
