"""The stage-1 verdict: is an organization ready for its stage 1 audit on a standard?

Ready when the latest gap analysis is complete, the actions raised from it are closed,
a completed internal audit covers every main clause 4–10, and a management review is
on record. The verdict reads gap analyses (readiness) and this app's actions, internal
audits and management reviews, so it lives here, on the floor above readiness.
"""

from dataclasses import dataclass, field

from django.db.models import F, Q

from isocert.accounts.models import Organization, User
from isocert.accounts.permissions import can
from isocert.catalog.models import Standard
from isocert.core.dates import display_date
from isocert.core.values import Check
from isocert.readiness.models import GapAssessment, GapItem, ReadinessShare
from isocert.readiness.selectors import (
    main_clause_key,
    member_organization_ids,
    organization_for_readiness,
    shared_standard_ids,
)
from isocert.registration.models import Application

from .models import Action, InternalAudit, ManagementReview

MAIN_CLAUSES = [str(n) for n in range(4, 11)]


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


def _gap_check(assessment: GapAssessment | None, items: list[GapItem]) -> Check:
    label = "Gap analysis complete"
    if assessment is None:
        return Check("gap_analysis", label, False, "No gap analysis has been started.")
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


def _actions_check(actions: list[Action], started: bool) -> Check:
    """``actions``: those raised from any version of the standard's gap analysis."""
    label = "Gap actions closed"
    if not started:
        return Check("actions", label, False, "No gap analysis, so no actions to close yet.")
    still_open = [a for a in actions
                  if a.status not in (Action.Status.DONE, Action.Status.CANCELLED)]
    if still_open:
        # The example: the one due first (undated ones last), then the oldest.
        first = min(still_open, key=lambda a: (a.due_date is None, a.due_date or 0, a.pk))
        count = len(still_open)
        return Check("actions", label, False,
                     f"{count} action{'s' if count != 1 else ''} from the gap analysis still "
                     f"open (e.g. “{first.title}”).")
    total = len(actions)
    return Check("actions", label, True,
                 ("The action from the gap analysis is closed." if total == 1 else
                  f"All {total} actions from the gap analysis are closed.") if total
                 else "No actions were raised from the gap analysis.")


def _covered_main_clauses(audit: InternalAudit) -> set[str]:
    return {main_clause_key(c) for c in audit.clauses.all() if c.group == "clauses"}


def _internal_audit_check(audits: list[InternalAudit]) -> Check:
    """``audits``: the organization's internal audits of the standard, latest end first."""
    label = "Internal audit of clauses 4–10 completed"
    best_missing = None
    for audit in audits:
        if audit.status != InternalAudit.Status.COMPLETED:
            continue
        missing = [n for n in MAIN_CLAUSES if n not in _covered_main_clauses(audit)]
        if not missing:
            return Check("internal_audit", label, True,
                         f"“{audit.title}” completed on {display_date(audit.end_date)}.")
        if best_missing is None or len(missing) < len(best_missing[1]):
            best_missing = (audit, missing)
    if best_missing:
        audit, missing = best_missing
        return Check("internal_audit", label, False,
                     f"No completed internal audit covers every main clause 4–10 "
                     f"(“{audit.title}” leaves out {', '.join(missing)}).")
    return Check("internal_audit", label, False,
                 "The internal audit is planned but not completed." if audits
                 else "No internal audit on record.")


def _review_check(review: ManagementReview | None) -> Check:
    label = "Management review on record"
    if review is None:
        return Check("management_review", label, False, "No management review on record.")
    return Check("management_review", label, True,
                 f"Management review of {display_date(review.date)}.")


class _Evidence:
    """What the stage-1 checks read, for several organizations at once: a handful of
    queries whatever the number of organizations and standards (a client's dashboard
    shows every organization of the client)."""

    def __init__(self, organization_ids: list[int]):
        ids = list(organization_ids)
        latest: dict[tuple[int, int], GapAssessment] = {}
        for assessment in (GapAssessment.objects.filter(organization_id__in=ids)
                           .order_by("organization_id", "standard_id", "-number")):
            latest.setdefault((assessment.organization_id, assessment.standard_id), assessment)
        self.assessments = latest
        self.items: dict[int, list[GapItem]] = {a.pk: [] for a in latest.values()}
        for item in (GapItem.objects.filter(assessment_id__in=list(self.items))
                     .select_related("clause")):  # in clause order (the model's ordering)
            self.items[item.assessment_id].append(item)
        self.actions: dict[tuple[int, int], list[Action]] = {}
        for action in (Action.objects.filter(gap_item__assessment__organization_id__in=ids)
                       .annotate(_organization=F("gap_item__assessment__organization_id"),
                                 _standard=F("gap_item__assessment__standard_id"))
                       .only("pk", "title", "status", "due_date")):
            self.actions.setdefault((action._organization, action._standard), []).append(action)
        self.audits: dict[tuple[int, int], list[InternalAudit]] = {}
        for audit in (InternalAudit.objects.filter(organization_id__in=ids)
                      .prefetch_related("clauses").order_by("-end_date", "-pk")):
            self.audits.setdefault((audit.organization_id, audit.standard_id), []).append(audit)
        self.reviews: dict[tuple[int, int], ManagementReview] = {}
        for review in (ManagementReview.objects.filter(organization_id__in=ids)
                       .order_by("-date", "-pk")):
            self.reviews.setdefault((review.organization_id, review.standard_id), review)
        self.shared: dict[int, set[int]] = {}
        for organization_id, standard_id in (ReadinessShare.objects
                                             .filter(organization_id__in=ids, is_shared=True)
                                             .values_list("organization_id", "standard_id")):
            self.shared.setdefault(organization_id, set()).add(standard_id)
        self.pursued = _standards_pursued(ids)

    def readiness(self, organization: Organization, standard: Standard) -> Readiness:
        key = (organization.pk, standard.pk)
        assessment = self.assessments.get(key)
        return Readiness(
            organization=organization, standard=standard, assessment=assessment,
            checks=[_gap_check(assessment, self.items.get(getattr(assessment, "pk", None), [])),
                    _actions_check(self.actions.get(key, []), assessment is not None),
                    _internal_audit_check(self.audits.get(key, [])),
                    _review_check(self.reviews.get(key))],
            shared=standard.pk in self.shared.get(organization.pk, set()),
        )


def stage1_readiness(*, organization: Organization, standard: Standard) -> Readiness:
    """The organization's readiness for stage 1 on one standard, with reasons.

    Unscoped: call it after the caller has checked access (``readiness_for_organization``
    and ``shared_readiness_for_application`` do).
    """
    return _Evidence([organization.pk]).readiness(organization, standard)


def _standards_pursued(organization_ids: list[int]) -> dict[int, list[Standard]]:
    """Per organization, the standards it works on: its gap analyses' and its live
    applications' (one per code: a gap analysis's edition first)."""
    pairs = {(organization_id, standard_id) for organization_id, standard_id in
             GapAssessment.objects.filter(organization_id__in=organization_ids)
             .values_list("organization_id", "standard_id")}
    live = (Application.objects.filter(organization_id__in=organization_ids)
            .exclude(status__in=[Application.Status.DECLINED, Application.Status.WITHDRAWN])
            .exclude(standard_lines__standard_id=None)
            .values_list("organization_id", "standard_lines__standard_id"))
    applied = sorted(set(live))
    standards = Standard.objects.in_bulk({s for _, s in pairs} | {s for _, s in applied})
    chosen: dict[int, dict[str, Standard]] = {}
    for organization_id, standard_id in sorted(pairs):
        standard = standards[standard_id]
        chosen.setdefault(organization_id, {})[f"{standard.code}#{standard.pk}"] = standard
    for organization_id, standard_id in applied:
        standard = standards[standard_id]
        codes = {s.code for s in chosen.get(organization_id, {}).values()}
        if standard.code not in codes:
            chosen.setdefault(organization_id, {})[f"{standard.code}#{standard.pk}"] = standard
    return {organization_id: sorted(by_key.values(), key=lambda s: (s.code, s.pk))
            for organization_id, by_key in chosen.items()}


def pursued_readiness(organization: Organization) -> list[Readiness]:
    """Every pursued standard's readiness, unscoped (the caller checked access)."""
    evidence = _Evidence([organization.pk])
    return [evidence.readiness(organization, standard)
            for standard in evidence.pursued.get(organization.pk, [])]


def readiness_for_organizations(*, user: User, organizations: list[Organization]
                                ) -> dict[int, list[Readiness]]:
    """Every pursued standard's readiness the user may see, per organization id: all of
    them for the organization's members, the shared ones for CB reviewers, none for
    anyone else. Reads the same few queries for one organization as for many."""
    ids = [o.pk for o in organizations]
    if not ids:  # CB staff on their dashboard: nothing to build nine empty queries for
        return {}
    members = member_organization_ids(user=user, organization_ids=ids)
    reader = can(user, "read_applications")
    evidence = _Evidence(ids)
    result = {}
    for organization in organizations:
        if organization.pk not in members and not reader:
            result[organization.pk] = []
            continue
        shared = evidence.shared.get(organization.pk, set())
        result[organization.pk] = [
            evidence.readiness(organization, standard)
            for standard in evidence.pursued.get(organization.pk, [])
            if organization.pk in members or standard.pk in shared]
    return result


def readiness_for_organization(*, user: User, organization: Organization) -> list[Readiness]:
    """Every pursued standard's readiness the user may see (CB staff: shared ones only)."""
    organization = organization_for_readiness(user=user, pk=organization.pk)
    return readiness_for_organizations(user=user, organizations=[organization])[organization.pk]


def shared_readiness_for_application(*, user: User, application: Application
                                     ) -> list[Readiness]:
    """On the CB's review page: readiness the organization shared, for the applied standards."""
    if not can(user, "read_applications"):
        return []
    shared = shared_standard_ids(application.organization_id)
    evidence = _Evidence([application.organization_id])
    return [evidence.readiness(application.organization, standard)
            for standard in Standard.objects.filter(pk__in=shared).filter(
                Q(code__in=application.standard_lines.values("standard__code")))
            .order_by("code")]
