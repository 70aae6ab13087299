"""Reads on gap analyses and stage-1 readiness, scoped to who is asking.

Members of the organization see its gap analyses; CB reviewers and
administrators see those of a standard only while the organization shares its
readiness for that standard. Anything else is a 404, as if it did not exist.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, QuerySet
from django.http import Http404

from isocert.accounts.models import Membership, Organization, User
from isocert.catalog.models import Clause, Standard
from isocert.registration.selectors import applied_standard_codes

from .models import GapAssessment, GapEvidence, GapItem, ReadinessShare

CB_READERS = ("reviewer", "administrator")
MAIN_CLAUSES = [str(n) for n in range(4, 11)]
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
    return user.is_authenticated and user.has_staff_role(*CB_READERS)


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


def grouped_items(assessment: GapAssessment, items: list[GapItem]) -> list[dict]:
    """Rows under their main clause, with that clause's score."""
    scores = {c["key"]: c for c in assessment_scores(assessment, items)["clauses"]}
    groups: list[dict] = []
    for item in items:
        key = main_clause_key(item.clause)
        if not groups or groups[-1]["key"] != key:
            groups.append({"key": key, "score": scores[key], "items": []})
        groups[-1]["items"].append(item)
    return groups


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
    from .models import EnergyReviewFacts

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


# --- stage-1 readiness ------------------------------------------------------------------------

@dataclass
class Check:
    key: str
    label: str
    ok: bool
    detail: str


@dataclass
class Readiness:
    organization: Organization
    standard: Standard
    assessment: GapAssessment | None
    checks: list[Check] = field(default_factory=list)
    shared: bool = False

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def verdict(self) -> str:
        return "Ready for stage 1" if self.ready else "Not ready"

    @property
    def reasons(self) -> list[str]:
        return [check.detail for check in self.checks if not check.ok]

    def check(self, key: str) -> Check:
        return next(c for c in self.checks if c.key == key)


def _gap_check(assessment: GapAssessment | None) -> Check:
    label = "Gap analysis complete"
    if assessment is None:
        return Check("gap_analysis", label, False, "No gap analysis has been started.")
    items = list(assessment.items.select_related("clause"))
    open_rows = [i for i in items if i.status == GapItem.Status.NOT_ASSESSED]
    unjustified = [i for i in items if i.status == GapItem.Status.NOT_APPLICABLE
                   and not i.justification.strip()]
    no_soa = [i for i in items if i.clause.group == "annex_a" and i.soa_applicable is None]
    problems = []
    if open_rows:
        problems.append(f"{len(open_rows)} of {len(items)} rows not assessed yet "
                        f"(first: {open_rows[0].clause.number})")
    if unjustified:
        problems.append(f"{len(unjustified)} not-applicable rows without a justification")
    if no_soa:
        problems.append(f"{len(no_soa)} Annex A controls without a Statement-of-Applicability "
                        "decision")
    if problems:
        return Check("gap_analysis", label, False,
                     f"Gap analysis v{assessment.number}: " + "; ".join(problems) + ".")
    return Check("gap_analysis", label, True,
                 f"Every row of version {assessment.number} is assessed.")


def _actions_check(organization: Organization, standard: Standard, started: bool) -> Check:
    from isocert.improvement.models import Action

    label = "Gap actions closed"
    if not started:
        return Check("actions", label, False, "No gap analysis, so no actions to close yet.")
    actions = Action.objects.filter(gap_item__assessment__organization=organization,
                                    gap_item__assessment__standard=standard)
    still_open = actions.exclude(status__in=[Action.Status.DONE, Action.Status.CANCELLED])
    count = still_open.count()
    if count:
        first = still_open.order_by("due_date", "pk").first()
        return Check("actions", label, False,
                     f"{count} action{'s' if count != 1 else ''} from the gap analysis still "
                     f"open (e.g. “{first.title}”).")
    total = actions.count()
    return Check("actions", label, True,
                 ("The action from the gap analysis is closed." if total == 1 else
                  f"All {total} actions from the gap analysis are closed.") if total
                 else "No actions were raised from the gap analysis.")


def _covered_main_clauses(audit) -> set[str]:
    return {main_clause_key(c) for c in audit.clauses.all() if c.group == "clauses"}


def _internal_audit_check(organization: Organization, standard: Standard) -> Check:
    from isocert.improvement.models import InternalAudit

    label = "Internal audit of clauses 4–10 completed"
    audits = list(InternalAudit.objects.filter(organization=organization, standard=standard,
                                               status=InternalAudit.Status.COMPLETED)
                  .prefetch_related("clauses").order_by("-end_date"))
    best_missing = None
    for audit in audits:
        missing = [n for n in MAIN_CLAUSES if n not in _covered_main_clauses(audit)]
        if not missing:
            return Check("internal_audit", label, True,
                         f"“{audit.title}” completed on {audit.end_date:%Y-%m-%d}.")
        if best_missing is None or len(missing) < len(best_missing[1]):
            best_missing = (audit, missing)
    if best_missing:
        audit, missing = best_missing
        return Check("internal_audit", label, False,
                     f"No completed internal audit covers every main clause 4–10 "
                     f"(“{audit.title}” leaves out {', '.join(missing)}).")
    planned = InternalAudit.objects.filter(organization=organization, standard=standard).exists()
    return Check("internal_audit", label, False,
                 "The internal audit is planned but not completed." if planned
                 else "No internal audit on record.")


def _review_check(organization: Organization, standard: Standard) -> Check:
    from isocert.improvement.models import ManagementReview

    label = "Management review on record"
    review = (ManagementReview.objects.filter(organization=organization, standard=standard)
              .order_by("-date").first())
    if review is None:
        return Check("management_review", label, False, "No management review on record.")
    return Check("management_review", label, True, f"Management review of {review.date:%Y-%m-%d}.")


def latest_assessment(organization: Organization, standard: Standard) -> GapAssessment | None:
    return (GapAssessment.objects.filter(organization=organization, standard=standard)
            .order_by("-number").first())


def stage1_readiness(*, organization: Organization, standard: Standard) -> Readiness:
    """The organization's readiness for stage 1 on one standard, with reasons.

    Unscoped: call it after the caller has checked access (``readiness_for_user``).
    """
    assessment = latest_assessment(organization, standard)
    return Readiness(
        organization=organization, standard=standard, assessment=assessment,
        checks=[_gap_check(assessment),
                _actions_check(organization, standard, assessment is not None),
                _internal_audit_check(organization, standard),
                _review_check(organization, standard)],
        shared=standard.pk in shared_standard_ids(organization.pk),
    )


def standards_pursued(organization: Organization) -> list[Standard]:
    """Standards the organization works on: its gap analyses' and its live applications'."""
    from isocert.registration.models import Application

    live = (Application.objects.filter(organization=organization)
            .exclude(status__in=[Application.Status.DECLINED, Application.Status.WITHDRAWN]))
    ids = set(GapAssessment.objects.filter(organization=organization)
              .values_list("standard_id", flat=True))
    covered = set(Standard.objects.filter(pk__in=ids).values_list("code", flat=True))
    for standard_id, code in live.values_list("standard_lines__standard_id",
                                              "standard_lines__standard__code"):
        if standard_id is not None and code not in covered:
            ids.add(standard_id)
            covered.add(code)
    return list(Standard.objects.filter(pk__in=ids).order_by("code"))


def readiness_for_organization(*, user: User, organization: Organization) -> list[Readiness]:
    """Every pursued standard's readiness the user may see (CB staff: shared ones only)."""
    organization = organization_for_readiness(user=user, pk=organization.pk)
    member = _is_member(user, organization.pk)
    shared = shared_standard_ids(organization.pk)
    return [stage1_readiness(organization=organization, standard=standard)
            for standard in standards_pursued(organization)
            if member or standard.pk in shared]


def shared_readiness_for_application(*, user: User, application) -> list[Readiness]:
    """On the CB's review page: readiness the organization shared, for the applied standards."""
    if not _is_cb_reader(user):
        return []
    shared = shared_standard_ids(application.organization_id)
    return [stage1_readiness(organization=application.organization, standard=standard)
            for standard in Standard.objects.filter(pk__in=shared).filter(
                Q(code__in=application.standard_lines.values("standard__code")))
            .order_by("code")]
