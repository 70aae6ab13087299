"""The stage-1 verdict: is an organization ready for its stage 1 audit on a standard?

Ready when the latest gap analysis is complete, the actions raised from it are closed,
a completed internal audit covers every main clause 4–10, and a management review is
on record. The verdict reads gap analyses (readiness) and this app's actions, internal
audits and management reviews, so it lives here, on the floor above readiness.
"""

from dataclasses import dataclass, field

from django.db.models import Q

from isocert.accounts.models import Organization, User
from isocert.accounts.permissions import can
from isocert.catalog.models import Standard
from isocert.core.dates import display_date
from isocert.core.values import Check
from isocert.readiness.models import GapAssessment, GapItem
from isocert.readiness.selectors import (
    is_member,
    latest_assessment,
    main_clause_key,
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


def _covered_main_clauses(audit: InternalAudit) -> set[str]:
    return {main_clause_key(c) for c in audit.clauses.all() if c.group == "clauses"}


def _internal_audit_check(organization: Organization, standard: Standard) -> Check:
    label = "Internal audit of clauses 4–10 completed"
    audits = list(InternalAudit.objects.filter(organization=organization, standard=standard,
                                               status=InternalAudit.Status.COMPLETED)
                  .prefetch_related("clauses").order_by("-end_date"))
    best_missing = None
    for audit in audits:
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
    planned = InternalAudit.objects.filter(organization=organization, standard=standard).exists()
    return Check("internal_audit", label, False,
                 "The internal audit is planned but not completed." if planned
                 else "No internal audit on record.")


def _review_check(organization: Organization, standard: Standard) -> Check:
    label = "Management review on record"
    review = (ManagementReview.objects.filter(organization=organization, standard=standard)
              .order_by("-date").first())
    if review is None:
        return Check("management_review", label, False, "No management review on record.")
    return Check("management_review", label, True,
                 f"Management review of {display_date(review.date)}.")


def stage1_readiness(*, organization: Organization, standard: Standard) -> Readiness:
    """The organization's readiness for stage 1 on one standard, with reasons.

    Unscoped: call it after the caller has checked access (``readiness_for_organization``
    and ``shared_readiness_for_application`` do).
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
    member = is_member(user=user, organization=organization)
    shared = shared_standard_ids(organization.pk)
    return [stage1_readiness(organization=organization, standard=standard)
            for standard in standards_pursued(organization)
            if member or standard.pk in shared]


def shared_readiness_for_application(*, user: User, application: Application
                                     ) -> list[Readiness]:
    """On the CB's review page: readiness the organization shared, for the applied standards."""
    if not can(user, "read_applications"):
        return []
    shared = shared_standard_ids(application.organization_id)
    return [stage1_readiness(organization=application.organization, standard=standard)
            for standard in Standard.objects.filter(pk__in=shared).filter(
                Q(code__in=application.standard_lines.values("standard__code")))
            .order_by("code")]
