"""Helpers for the readiness tests: answer rows through the service, build improvement rows."""

import datetime

from isocert.readiness.models import GapItem
from isocert.readiness.services import update_gap_item


def row(assessment, number: str) -> GapItem:
    return assessment.items.select_related("clause").get(clause__number=number)


def answer(assessment, number: str, actor, status: str, **data) -> GapItem:
    item = row(assessment, number)
    if status == "not_applicable":
        data.setdefault("justification", "We do no design work.")
    return update_gap_item(item=item, actor=actor, **{"status": status, **data},
                           expected_version=item.version)


def answer_all(assessment, actor, status: str = "conforms") -> None:
    """Every row answered (Annex A controls: included in the SoA), version by version."""
    for item in assessment.items.select_related("clause"):
        data = {"status": status}
        if item.clause.group == "annex_a":
            data.update(soa_applicable=True, soa_justification="Risk treatment R-12.",
                        soa_implementation="implemented")
        update_gap_item(item=item, actor=actor, **data, expected_version=item.version)


def completed_internal_audit(organization, standard, numbers=("4", "5", "6", "7", "8", "9",
                                                                "10"), status="completed"):
    from isocert.catalog.models import Clause
    from isocert.improvement.models import InternalAudit

    audit = InternalAudit.objects.create(
        organization=organization, standard=standard, title="Internal audit 2025",
        start_date=datetime.date(2025, 3, 1), end_date=datetime.date(2025, 3, 3), status=status)
    audit.clauses.set(Clause.objects.filter(standard=standard, number__in=numbers))
    return audit


def management_review(organization, standard):
    from isocert.improvement.models import ManagementReview

    return ManagementReview.objects.create(
        organization=organization, standard=standard, date=datetime.date(2025, 3, 20),
        attendees="Alice Owner, CEO\nBob Editor, QM")


def gap_action(item, status="open", title="Write the quality policy"):
    from isocert.improvement.models import Action

    return Action.objects.create(organization=item.assessment.organization,
                                 standard=item.assessment.standard, clause=item.clause,
                                 gap_item=item, title=title, status=status)
