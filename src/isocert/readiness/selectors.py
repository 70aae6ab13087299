"""Reads on gap analyses, scoped to who is asking.

Members of the organization see its gap analyses; CB reviewers and
administrators see those of a standard only while the organization shares its
readiness for that standard. Anything else is a 404, as if it did not exist.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import QuerySet
from django.http import Http404

from isocert.accounts.models import Membership, Organization, User
from isocert.accounts.permissions import can
from isocert.catalog import selectors as catalog_selectors
from isocert.catalog.models import Clause
from isocert.registration.selectors import applied_standard_codes

from .models import EnergyReviewFacts, GapAssessment, GapEvidence, GapItem, ReadinessShare

ASSESSED_APPLICABLE = (GapItem.Status.CONFORMS, GapItem.Status.PARTIAL,
                       GapItem.Status.NONCONFORMING)
SCORE_RULE = ("Readiness % = (rows that conform × 1 + rows that partially conform × 0.5) ÷ "
              "rows assessed as applicable (conforms, partially, does not conform). Rows not "
              "applicable or not yet assessed are left out; the overall score applies the same "
              "rule to every row.")


# --- access ---------------------------------------------------------------------------------

def _is_member(user: User, organization_id: int) -> bool:
    return Membership.objects.filter(user=user, organization_id=organization_id).exists()


def _is_cb_reader(user: User) -> bool:
    return can(user, "read_applications")


def shared_standard_ids(organization_id: int) -> set[int]:
    return set(ReadinessShare.objects.filter(organization_id=organization_id, is_shared=True)
               .values_list("standard_id", flat=True))


def can_read(user: User, organization_id: int, standard_id: int) -> bool:
    if _is_member(user, organization_id):
        return True
    return _is_cb_reader(user) and standard_id in shared_standard_ids(organization_id)


def organization_for_readiness(*, user: User, pk) -> Organization:
    """The organization, for a member or for CB staff it shares some readiness with."""
    try:
        organization = Organization.objects.get(pk=pk)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise Http404("No such organization")
    if _is_member(user, organization.pk):
        return organization
    if _is_cb_reader(user) and shared_standard_ids(organization.pk):
        return organization
    raise Http404("No such organization")


def is_member(*, user: User, organization: Organization) -> bool:
    return _is_member(user, organization.pk)


def member_organization_ids(*, user: User, organization_ids) -> set[int]:
    """Which of these organizations the user is a member of (one query)."""
    return set(Membership.objects.filter(user=user, organization_id__in=list(organization_ids))
               .values_list("organization_id", flat=True))


def membership_role(*, user: User, organization: Organization) -> str | None:
    membership = Membership.objects.filter(user=user, organization=organization).first()
    return membership.role if membership else None


def assessments_for_organization(*, user: User, organization: Organization
                                 ) -> QuerySet[GapAssessment]:
    organization = organization_for_readiness(user=user, pk=organization.pk)
    queryset = (GapAssessment.objects.filter(organization=organization)
                .select_related("standard", "created_by", "frozen_by")
                .order_by("standard__code", "-number"))
    if not _is_member(user, organization.pk):
        queryset = queryset.filter(standard_id__in=shared_standard_ids(organization.pk))
    return queryset


def standard_to_start(*, organization: Organization) -> str:
    """The standard "Start a gap analysis" pre-selects: the first of the organization's own
    standards (its applications') with no gap analysis yet; "" when there is none."""
    started = set(GapAssessment.objects.filter(organization=organization)
                  .values_list("standard__code", flat=True))
    own = applied_standard_codes(organization=organization)
    return next((code for code in own if code not in started), "")


def assessment_get(*, user: User, pk) -> GapAssessment:
    try:
        assessment = GapAssessment.objects.select_related(
            "organization", "standard", "previous", "frozen_by", "created_by").get(pk=pk)
    except (GapAssessment.DoesNotExist, ValueError, TypeError):
        raise Http404("No such gap assessment")
    if not can_read(user, assessment.organization_id, assessment.standard_id):
        raise Http404("No such gap assessment")
    return assessment


def gap_item_get(*, user: User, pk) -> GapItem:
    try:
        item = GapItem.objects.select_related(
            "assessment", "assessment__organization", "assessment__standard", "clause",
            "owner", "updated_by", "mirrored_from__assessment__standard").get(pk=pk)
    except (GapItem.DoesNotExist, ValueError, TypeError):
        raise Http404("No such gap-analysis row")
    if not can_read(user, item.assessment.organization_id, item.assessment.standard_id):
        raise Http404("No such gap-analysis row")
    return item


def evidence_get(*, user: User, pk) -> GapEvidence:
    try:
        evidence = GapEvidence.objects.select_related("file", "item__assessment").get(pk=pk)
    except (GapEvidence.DoesNotExist, ValueError, TypeError):
        raise Http404("No such evidence")
    assessment = evidence.item.assessment
    if not can_read(user, assessment.organization_id, assessment.standard_id):
        raise Http404("No such evidence")
    return evidence


def items_of(assessment: GapAssessment) -> list[GapItem]:
    return list(assessment.items.select_related(
        "clause", "owner", "updated_by", "mirrored_from__assessment__standard",
        "mirrored_from__clause").prefetch_related("evidence__file", "actions").order_by("clause__position"))


def members_of(organization: Organization) -> list[User]:
    return [m.user for m in organization.memberships.select_related("user")
            .order_by("user__full_name", "user__email")]


# --- scores -----------------------------------------------------------------------------------

def main_clause_key(clause: Clause) -> str:
    """"7" for 7.5.1, "A.5" for Annex A control A.5.12."""
    parts = clause.number.split(".")
    return ".".join(parts[:2]) if parts[0] == "A" else parts[0]


def _percent(items: list[GapItem]) -> Decimal | None:
    applicable = [i for i in items if i.status in ASSESSED_APPLICABLE]
    if not applicable:
        return None
    points = sum((Decimal(1) if i.status == GapItem.Status.CONFORMS
                  else Decimal("0.5") if i.status == GapItem.Status.PARTIAL else Decimal(0))
                 for i in applicable)
    return (points * 100 / len(applicable)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _summary(items: list[GapItem]) -> dict:
    counts = dict.fromkeys(GapItem.Status.values, 0)
    for item in items:
        counts[item.status] += 1
    return {"score": _percent(items), "rows": len(items), "counts": counts,
            "assessed": len(items) - counts[GapItem.Status.NOT_ASSESSED]}


def assessment_scores(assessment: GapAssessment, items: list[GapItem] | None = None) -> dict:
    """Readiness per main clause (4–10, then ISO/IEC 27001 Annex A themes) and overall."""
    items = items if items is not None else items_of(assessment)
    heads = {c.number: c for c in Clause.objects.filter(standard_id=assessment.standard_id,
                                                        depth=0)}
    groups: dict[str, list[GapItem]] = {}
    for item in items:
        groups.setdefault(main_clause_key(item.clause), []).append(item)
    clauses = []
    for key, members in groups.items():
        head = heads.get(key)
        clauses.append({"key": key, "title": head.title if head else key,
                        "annex": key.startswith("A."), **_summary(members)})
    return {"clauses": clauses, "overall": _summary(items), "rule": SCORE_RULE}


def grouped_items(items: list[GapItem], scores: dict) -> list[dict]:
    """Rows under their main clause, with that clause's score (``assessment_scores``, of
    every row: a filtered list still shows its clauses' whole scores)."""
    scores = {c["key"]: c for c in scores["clauses"]}
    groups: list[dict] = []
    for item in items:
        key = main_clause_key(item.clause)
        if not groups or groups[-1]["key"] != key:
            groups.append({"key": key, "score": scores[key], "items": []})
        groups[-1]["items"].append(item)
    return groups


# --- the rows shown: a section of the standard, a status ---------------------------------------

ANNEX_A_SECTION = "annex_a"


def section_choices(scores: dict) -> list[tuple[str, str]]:
    """The clause filter's choices: each main clause (4–10), and for ISO/IEC 27001 Annex A
    as a whole before each of its themes (A.5–A.8)."""
    choices: list[tuple[str, str]] = []
    for clause in scores["clauses"]:
        if clause["annex"] and ANNEX_A_SECTION not in dict(choices):
            choices.append((ANNEX_A_SECTION, "Annex A — all controls"))
        choices.append((clause["key"], f"{clause['key']} {clause['title']}"))
    return choices


def filter_items(items: list[GapItem], *, section: str = "", status: str = "") -> list[GapItem]:
    """The rows of one main clause ("7", "A.5") or of Annex A (``ANNEX_A_SECTION``), of one
    status; an empty filter keeps every row. Filters the rows the page read already, so
    the page makes the same queries whatever it shows."""
    def in_section(item: GapItem) -> bool:
        if section == ANNEX_A_SECTION:
            return item.clause.group == "annex_a"
        return not section or main_clause_key(item.clause) == section

    return [item for item in items
            if in_section(item) and (not status or item.status == status)]


def trend(*, assessment: GapAssessment) -> list[dict]:
    """Overall and per-clause scores of every version of this standard's gap analysis."""
    versions = (GapAssessment.objects.filter(organization_id=assessment.organization_id,
                                             standard_id=assessment.standard_id)
                .order_by("number"))
    return [{"number": v.number, "status": v.status, "frozen_at": v.frozen_at,
             **assessment_scores(v)} for v in versions]


# --- compare ---------------------------------------------------------------------------------

COMPARED = ("status", "justification", "notes", "soa_applicable", "soa_justification",
            "soa_implementation")


def compare(*, older: GapAssessment, newer: GapAssessment) -> list[dict]:
    """Rows whose answer differs between two versions (matched by clause number)."""
    before = {i.clause.number: i for i in older.items.select_related("clause")}
    changes = []
    for item in newer.items.select_related("clause").order_by("clause__position"):
        old = before.get(item.clause.number)
        differing = [f for f in COMPARED if old is None or getattr(old, f) != getattr(item, f)]
        if differing:
            changes.append({"clause": item.clause, "fields": differing, "old": old, "new": item,
                            "status_changed": "status" in differing,
                            "notes_changed": "notes" in differing})
    return changes


def versions_of(*, user: User, assessment: GapAssessment) -> QuerySet[GapAssessment]:
    return (GapAssessment.objects.filter(organization_id=assessment.organization_id,
                                         standard_id=assessment.standard_id)
            .order_by("-number"))


# --- ISO 50001 energy-review facts ------------------------------------------------------------

def latest_energy_facts(organization: Organization):
    return (EnergyReviewFacts.objects
            .filter(assessment__organization=organization, assessment__standard__code="ISO 50001")
            .select_related("assessment").prefetch_related("significant_uses")
            .order_by("-assessment__number", "-pk").first())


def energy_inputs_for(organization: Organization) -> dict | None:
    """The ISO 50003 inputs from the latest gap analysis's energy review, if recorded.

    Used to pre-fill an application's ISO 50001 line; ``None`` when no facts exist.
    """
    facts = latest_energy_facts(organization)
    if facts is None:
        return None
    return {"annual_energy_consumption_tj": facts.annual_consumption_tj,
            "energy_types": len(facts.energy_types) or None,
            "significant_energy_uses": facts.significant_uses.count() or None}


# --- edition transitions --------------------------------------------------------------------

def edition_transition_of(assessment: GapAssessment) -> dict:
    """``{"transition", "carried"}``: the transition superseding the assessment's edition
    (or None) and the organization's gap analysis on the new edition, if it has one."""
    transition = catalog_selectors.transition_from(assessment.standard)
    carried = None
    if transition is not None:
        carried = (GapAssessment.objects.filter(organization_id=assessment.organization_id,
                                                standard=transition.to_standard)
                   .select_related("standard").order_by("-number").first())
    return {"transition": transition, "carried": carried}

