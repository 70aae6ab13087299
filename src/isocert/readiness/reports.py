"""The gap report: every clause with its status, notes, evidence and linked actions.

Rendered on request (a download), as PDF (WeasyPrint) or XLSX (openpyxl).
"""

import io

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from .models import GapAssessment, GapItem
from .selectors import assessment_scores, items_of


def _rows(assessment: GapAssessment) -> list[dict]:
    rows = []
    for item in items_of(assessment):
        rows.append({
            "item": item, "number": item.clause.number, "title": item.clause.title,
            "status": item.get_status_display(), "justification": item.justification,
            "notes": item.notes, "owner": str(item.owner) if item.owner else "",
            "soa": _soa(item),
            "evidence": [e.title + (f" <{e.link}>" if e.link else "") for e in item.evidence.all()],
            "actions": [f"{a.title} ({a.get_status_display()})" for a in item.actions.all()],
        })
    return rows


def _soa(item: GapItem) -> str:
    if item.clause.group != "annex_a" or item.soa_applicable is None:
        return ""
    if not item.soa_applicable:
        return f"Excluded: {item.soa_justification}"
    return (f"Applicable ({item.get_soa_implementation_display() or 'status not given'}): "
            f"{item.soa_justification}")


def _context(assessment: GapAssessment) -> dict:
    return {"assessment": assessment, "organization": assessment.organization,
            "rows": _rows(assessment), "scores": assessment_scores(assessment),
            "generated_at": timezone.now(), "CB_NAME": settings.CB_NAME,
            "has_soa": assessment.items.filter(clause__group="annex_a").exists()}


def report_filename(assessment: GapAssessment, extension: str) -> str:
    return (f"gap-analysis-{assessment.standard.slug}-v{assessment.number}-"
            f"{assessment.organization_id}.{extension}")


def gap_report_pdf(*, assessment: GapAssessment) -> bytes:
    from weasyprint import HTML

    html = render_to_string("readiness/gap_report_pdf.html", _context(assessment))
    return HTML(string=html, base_url=settings.SITE_URL).write_pdf()


def _text_not_formulas(sheet) -> None:
    """openpyxl makes a formula of any text starting with ``=``: a note such as
    ``=HYPERLINK(...)`` would run in the reader's Excel. Written as text instead."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


def gap_report_xlsx(*, assessment: GapAssessment) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    context = _context(assessment)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Gap analysis"
    sheet.append([f"Gap analysis {assessment.standard} version {assessment.number} — "
                  f"{assessment.organization.legal_name}"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([f"{assessment.get_status_display()}; generated "
                  f"{context['generated_at']:%Y-%m-%d %H:%M} UTC"])
    sheet.append([])
    headers = ["Clause", "Title", "Status", "Justification (N/A)", "Notes", "Owner",
               "Statement of Applicability", "Evidence", "Linked actions"]
    sheet.append(headers)
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    for row in context["rows"]:
        sheet.append([row["number"], row["title"], row["status"], row["justification"],
                      row["notes"], row["owner"], row["soa"], "\n".join(row["evidence"]),
                      "\n".join(row["actions"])])
    for column, width in zip("ABCDEFGHI", (9, 38, 18, 30, 45, 20, 30, 35, 35), strict=True):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=5):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A5"
    scores = workbook.create_sheet("Scores")
    scores.append(["Main clause", "Title", "Readiness %", "Assessed", "Rows"])
    for cell in scores[1]:
        cell.font = Font(bold=True)
    for entry in context["scores"]["clauses"]:
        scores.append([entry["key"], entry["title"],
                       float(entry["score"]) if entry["score"] is not None else None,
                       entry["assessed"], entry["rows"]])
    overall = context["scores"]["overall"]
    scores.append(["Overall", "", float(overall["score"]) if overall["score"] is not None
                   else None, overall["assessed"], overall["rows"]])
    scores.append([])
    scores.append([context["scores"]["rule"]])
    for worksheet in workbook.worksheets:
        _text_not_formulas(worksheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
