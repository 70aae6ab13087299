"""The pages: board, list with filters, action detail, internal audits, management reviews."""

import datetime

import pytest
from django.utils import timezone
from factories import ENERGY_LINE, pdf_upload

from isocert.improvement.models import Action, InternalAudit, ManagementReview
from isocert.improvement.services import (
    create_action,
    create_internal_audit,
    create_management_review,
)


def in_days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def actions(nordlicht, alice, bob):
    return [
        create_action(organization=nordlicht, actor=alice, title="Late calibration",
                      standard="ISO 9001", clause="7.1.5", owner_id=bob.pk, due_date=in_days(-2)),
        create_action(organization=nordlicht, actor=alice, title="Energy policy review",
                      standard="ISO 50001", clause="5.2", owner_id=alice.pk, due_date=in_days(9)),
    ]


def test_the_board_has_a_column_per_status_and_marks_overdue(nordlicht, alice, actions,
                                                             api_client):
    page = api_client(alice).get(f"/organizations/{nordlicht.pk}/actions/board/")
    html = page.content.decode()
    assert page.status_code == 200
    for label in ("Open", "In progress", "Done", "Cancelled"):
        assert f'{label} <span class="badge">' in html
    assert 'class="board-card overdue"' in html
    assert html.count("board-card overdue") == 1


def test_the_list_filters(nordlicht, alice, bob, actions, api_client):
    client = api_client(alice)
    url = f"/organizations/{nordlicht.pk}/actions/"

    everything = client.get(url).content.decode()
    assert "Late calibration" in everything and "Energy policy review" in everything
    assert 'class="overdue"' in everything
    for query, shown, hidden in (
        ("?overdue=on", "Late calibration", "Energy policy review"),
        ("?standard=ISO+50001", "Energy policy review", "Late calibration"),
        ("?clause=7.1", "Late calibration", "Energy policy review"),
        (f"?owner={alice.pk}", "Energy policy review", "Late calibration"),
        ("?status=done", None, "Late calibration"),
    ):
        html = client.get(url + query).content.decode()
        if shown:
            assert shown in html, query
        assert hidden not in html, query


def test_creating_and_moving_an_action_through_the_pages(nordlicht, bob, gap_row, api_client):
    client = api_client(bob)
    form = client.get(f"/organizations/{nordlicht.pk}/actions/new/?gap_item={gap_row.pk}")
    assert form.status_code == 200 and 'name="gap_item_id"' in form.content.decode()

    response = client.post(f"/organizations/{nordlicht.pk}/actions/new/", {
        "title": "Work instructions at cell 4", "owner_id": bob.pk,
        "due_date": in_days(14).isoformat(), "gap_item_id": gap_row.pk})
    action = Action.objects.get(title="Work instructions at cell 4")
    assert response.status_code == 302 and response.url == f"/actions/{action.pk}/"
    assert action.clause.number == "8.5" and action.gap_item == gap_row

    client.post(f"/actions/{action.pk}/transition/start/", {"version": 1})
    client.post(f"/actions/{action.pk}/notes/", {"text": "Drafted."})
    client.post(f"/actions/{action.pk}/evidence/", {"title": "Instruction", "file": pdf_upload()})
    done = client.post(f"/actions/{action.pk}/transition/complete/", {"version": 2}, follow=True)
    html = done.content.decode()
    assert "All actions for 8.5 are closed — re-assess the clause in the gap analysis." in html
    action.refresh_from_db()
    assert action.status == "done" and action.notes.count() == 1
    evidence = action.evidence.get()
    download = client.get(f"/action-evidence/{evidence.pk}/download/")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"

    listing = client.get(f"/organizations/{nordlicht.pk}/actions/").content.decode()
    assert 'data-testid="reassess-hint"' in listing and "Re-assess 8.5" in listing


def test_a_stale_page_does_not_overwrite(nordlicht, alice, bob, actions, api_client):
    action = actions[0]
    api_client(alice).post(f"/actions/{action.pk}/transition/start/", {"version": 1})
    response = api_client(bob).post(f"/actions/{action.pk}/transition/cancel/", {"version": 1},
                                    follow=True)
    assert "Someone else changed this action" in response.content.decode()
    action.refresh_from_db()
    assert action.status == "in_progress"


def test_a_viewer_reads_but_cannot_write(nordlicht, vera, actions, api_client):
    client = api_client(vera)
    action = actions[0]
    detail = client.get(f"/actions/{action.pk}/").content.decode()
    assert "Late calibration" in detail
    assert "transition/start" not in detail and "Add note" not in detail
    response = client.post(f"/actions/{action.pk}/transition/start/", {"version": 1},
                           follow=True)
    assert "Only an owner or editor" in response.content.decode()
    action.refresh_from_db()
    assert action.status == "open"


def test_the_organization_page_links_to_the_implementation_pages(nordlicht, alice, api_client):
    html = api_client(alice).get(f"/organizations/{nordlicht.pk}/").content.decode()
    for url in (f"/organizations/{nordlicht.pk}/actions/",
                f"/organizations/{nordlicht.pk}/actions/board/",
                f"/organizations/{nordlicht.pk}/internal-audits/",
                f"/organizations/{nordlicht.pk}/management-reviews/"):
        assert f'href="{url}"' in html


def test_internal_audit_pages(nordlicht, alice, bob, api_client):
    client = api_client(alice)
    assert client.get(f"/organizations/{nordlicht.pk}/internal-audits/new/").status_code == 200
    response = client.post(f"/organizations/{nordlicht.pk}/internal-audits/new/", {
        "title": "Audit of production", "standard": "ISO 9001",
        "start_date": in_days(3).isoformat(), "end_date": in_days(2).isoformat(),
        "auditor_ids": [bob.pk]})
    assert response.status_code == 200
    assert "The audit cannot end before it starts." in response.content.decode()

    response = client.post(f"/organizations/{nordlicht.pk}/internal-audits/new/", {
        "title": "Audit of production", "standard": "ISO 9001", "clauses": "8.5",
        "start_date": in_days(3).isoformat(), "end_date": in_days(3).isoformat(),
        "auditor_ids": [bob.pk]})
    audit = InternalAudit.objects.get()
    assert response.url == f"/internal-audits/{audit.pk}/"
    assert audit.checklist.count() == 1

    client.post(f"/internal-audits/{audit.pk}/findings/", {
        "kind": "nonconformity", "clause": "8.5", "statement": "No work instructions.",
        "file": pdf_upload("photo.pdf")})
    finding = audit.findings.get()
    assert finding.corrective_action is not None and finding.file is not None
    refused = client.post(f"/internal-audits/{audit.pk}/complete/", {"conclusion": "OK"},
                          follow=True)
    assert "Check every clause" not in refused.content.decode()  # the finding checked 8.5
    audit.refresh_from_db()
    assert audit.status == "completed"
    page = client.get(f"/internal-audits/{audit.pk}/").content.decode()
    assert "Corrective action:" in page and "No work instructions." in page
    assert client.get(f"/internal-findings/{finding.pk}/file/").status_code == 200
    listing = client.get(f"/organizations/{nordlicht.pk}/internal-audits/").content.decode()
    assert "Audit of production" in listing


def test_completing_with_unchecked_rows_is_refused_on_the_page(nordlicht, alice, bob,
                                                                api_client):
    audit = create_internal_audit(organization=nordlicht, actor=alice, title="A",
                                  standard="ISO 9001", start_date=in_days(1),
                                  end_date=in_days(1), auditor_ids=[bob.pk], clauses="4.1, 4.2")
    client = api_client(bob)
    first = audit.checklist.first()
    client.post(f"/checklist-items/{first.pk}/", {f"row{first.pk}-result": "conforming"})
    response = client.post(f"/internal-audits/{audit.pk}/complete/", {"conclusion": "OK"},
                           follow=True)
    assert "still open: 4.2" in response.content.decode()
    audit.refresh_from_db()
    assert audit.status == "planned"
    assert audit.checklist.get(pk=first.pk).result == "conforming"


def test_management_review_pages(nordlicht, alice, bob, api_client):
    client = api_client(alice)
    response = client.post(f"/organizations/{nordlicht.pk}/management-reviews/new/", {
        "standard": "ISO 9001", "date": "2026-03-02", "attendees": "Alice\nBob"})
    review = ManagementReview.objects.get()
    assert response.url == f"/management-reviews/{review.pk}/"
    page = client.get(response.url).content.decode()
    assert "Customer satisfaction" in page and "Performance of external providers" in page

    client.post(f"/management-reviews/{review.pk}/inputs/", {
        "covered__audit_results": "on", "notes__audit_results": "Two minor NCs."})
    client.post(f"/management-reviews/{review.pk}/decisions/", {"decisions": "New supplier."})
    client.post(f"/management-reviews/{review.pk}/actions/", {
        "title": "Qualify a second supplier", "standard": "ISO 9001", "clause": "8.4",
        "owner_id": bob.pk})
    review.refresh_from_db()
    assert review.decisions == "New supplier."
    assert list(review.inputs.filter(covered=True).values_list("key", flat=True)) == [
        "audit_results"]
    assert review.actions.get().title == "Qualify a second supplier"
    listing = client.get(f"/organizations/{nordlicht.pk}/management-reviews/").content.decode()
    assert "2 Mar 2026" in listing and "New supplier." in listing


def test_management_review_page_for_a_viewer(nordlicht, alice, vera, api_client):
    review = create_management_review(organization=nordlicht, actor=alice, standard="ISO 14001",
                                      date="2026-03-02", attendees="Alice")
    page = api_client(vera).get(f"/management-reviews/{review.pk}/").content.decode()
    assert "Communications from interested parties" in page
    assert "Save inputs" not in page


def test_the_board_moves_an_action_and_returns_to_the_board(nordlicht, bob, actions,
                                                             api_client):
    client = api_client(bob)
    board = client.get(f"/organizations/{nordlicht.pk}/actions/board/").content.decode()
    action = actions[0]
    assert f'action="/actions/{action.pk}/transition/start/"' in board
    response = client.post(f"/actions/{action.pk}/transition/start/",
                           {"version": 1, "next": "board"})
    assert response.url == f"/organizations/{nordlicht.pk}/actions/board/"
    action.refresh_from_db()
    assert action.status == "in_progress"


def test_a_row_marked_finding_raised_without_a_finding_is_refused_on_the_page(
        nordlicht, alice, bob, api_client):
    audit = create_internal_audit(organization=nordlicht, actor=alice, title="A",
                                  standard="ISO 9001", start_date=in_days(1),
                                  end_date=in_days(1), auditor_ids=[bob.pk], clauses="4.1, 4.2")
    client = api_client(bob)
    for item, result in zip(audit.checklist.all(), ["conforming", "finding"], strict=True):
        client.post(f"/checklist-items/{item.pk}/", {f"row{item.pk}-result": result})

    response = client.post(f"/internal-audits/{audit.pk}/complete/", {"conclusion": "OK"},
                           follow=True)

    assert "&quot;Finding raised&quot; for 4.2" in response.content.decode()
    audit.refresh_from_db()
    assert audit.status == "planned"


def _selected(html: str, name: str) -> list[str]:
    """The values pre-selected in the <select name=…> of a page."""
    import re

    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"[^>]*\bselected\b', select)


@pytest.mark.parametrize("page", ["internal-audits", "management-reviews"])
def test_the_forms_pre_select_the_clients_own_standard(nordlicht, alice, draft, api_client,
                                                       page):
    # Nordlicht applied for ISO 50001 only (the draft): not the catalog's first, ISO 14001.
    html = api_client(alice).get(f"/organizations/{nordlicht.pk}/{page}/new/").content.decode()
    assert _selected(html, "standard") == ["ISO 50001"]


@pytest.mark.parametrize("page", ["internal-audits", "management-reviews"])
def test_without_an_application_the_forms_pre_select_no_standard(nordlicht, alice, api_client,
                                                                 page):
    html = api_client(alice).get(f"/organizations/{nordlicht.pk}/{page}/new/").content.decode()
    assert _selected(html, "standard") == [""]
    response = api_client(alice).post(f"/organizations/{nordlicht.pk}/{page}/new/", {
        "title": "A", "start_date": in_days(1).isoformat(), "end_date": in_days(1).isoformat(),
        "date": in_days(1).isoformat(), "attendees": "Alice", "auditor_ids": [alice.pk]})
    assert response.status_code == 200  # refused: the standard must be chosen
    assert not InternalAudit.objects.exists() and not ManagementReview.objects.exists()


def test_the_next_internal_audit_pre_selects_a_standard_not_yet_audited(nordlicht, alice, bob,
                                                                        draft, api_client):
    from isocert.registration.services import update_application

    nine = {"standard": "ISO 9001", "effective_personnel": "275"}
    update_application(application=draft, actor=alice, standards=[ENERGY_LINE, nine])
    audit = create_internal_audit(organization=nordlicht, actor=alice, title="EnMS",
                                  standard="ISO 50001", start_date=in_days(1),
                                  end_date=in_days(1), auditor_ids=[bob.pk], clauses="4.1")
    url = f"/organizations/{nordlicht.pk}/internal-audits/new/"
    assert _selected(api_client(alice).get(url).content.decode(), "standard") == ["ISO 50001"]

    from isocert.improvement.services import complete_internal_audit, update_checklist_item

    update_checklist_item(item=audit.checklist.get(), actor=bob, result="conforming")
    complete_internal_audit(audit=audit, actor=bob, conclusion="Effective.")
    assert _selected(api_client(alice).get(url).content.decode(), "standard") == ["ISO 9001"]
