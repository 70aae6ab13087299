"""The gap report as PDF and XLSX: every clause, status, notes, evidence, linked actions."""

import io

from factories import pdf_upload
from openpyxl import load_workbook
from pypdf import PdfReader
from readiness_helpers import answer, gap_action, row

from isocert.readiness.services import add_gap_evidence


def _prepare(gap, alice):
    answer(gap, "4.1", alice, "partial", notes="Context analysis to be refreshed.")
    answer(gap, "8.3", alice, "not_applicable", justification="No design activity at all.")
    add_gap_evidence(item=row(gap, "4.1"), actor=alice, upload=pdf_upload("swot-2024.pdf"),
                     title="SWOT 2024")
    add_gap_evidence(item=row(gap, "4.1"), actor=alice, link="https://intranet.example/ctx")
    gap_action(row(gap, "4.1"), status="in_progress", title="Refresh the SWOT")


def test_the_pdf_lists_every_clause_with_status_notes_evidence_and_actions(gap9001, alice,
                                                                           api_client):
    _prepare(gap9001, alice)

    response = api_client(alice).get(f"/gap-analysis/{gap9001.pk}/report.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    assert "Gap analysis ISO 9001:2015 — version 1" in text
    assert "Nordlicht Aluminium GmbH" in text
    for number in ("4.1", "7.5.3", "10.3"):
        assert number in text
    assert "Partially conforms" in text and "Context analysis to be refreshed." in text
    assert "No design activity at all." in text
    assert "SWOT 2024" in text and "intranet.example/ctx" in text
    assert "Refresh the SWOT (In progress)" in text
    assert "Overall" in text


def test_the_xlsx_has_one_row_per_clause(gap9001, alice, api_client):
    _prepare(gap9001, alice)

    response = api_client(alice).get(f"/api/v1/gap-assessments/{gap9001.pk}/report.xlsx")

    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook["Gap analysis"]
    rows = list(sheet.iter_rows(min_row=5, values_only=True))
    assert sheet["A4"].value == "Clause" and sheet["I4"].value == "Linked actions"
    assert len(rows) == 75
    by_clause = {r[0]: r for r in rows}
    assert by_clause["4.1"][2:5] == ("Partially conforms", None,
                                     "Context analysis to be refreshed.")
    assert by_clause["4.1"][7] == "SWOT 2024\nhttps://intranet.example/ctx <https://intranet.example/ctx>"
    assert by_clause["4.1"][8] == "Refresh the SWOT (In progress)"
    assert by_clause["8.3"][3] == "No design activity at all."
    assert by_clause["10.3"][2] == "Not assessed"
    scores = {r[0]: r for r in workbook["Scores"].iter_rows(min_row=2, values_only=True)}
    assert scores["4"][2] == 50.0 and scores["Overall"][2] == 50.0


def test_text_starting_with_an_equals_sign_stays_text(gap9001, alice, api_client):
    answer(gap9001, "4.1", alice, "partial", notes='=HYPERLINK("http://evil.example","x")')

    response = api_client(alice).get(f"/gap-analysis/{gap9001.pk}/report.xlsx")

    sheet = load_workbook(io.BytesIO(response.content))["Gap analysis"]
    cell = next(r[4] for r in sheet.iter_rows(min_row=5) if r[0].value == "4.1")
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://evil.example","x")', "s")


def test_a_27001_report_carries_the_statement_of_applicability(gap27001, alice, api_client):
    answer(gap27001, "A.7.5", alice, "not_applicable", soa_applicable=False,
           soa_justification="Fully remote company.")

    response = api_client(alice).get(f"/gap-analysis/{gap27001.pk}/report.xlsx")

    rows = {r[0]: r for r in load_workbook(io.BytesIO(response.content))["Gap analysis"]
            .iter_rows(min_row=5, values_only=True)}
    assert rows["A.7.5"][6] == "Excluded: Fully remote company."
    assert len(rows) == 138
