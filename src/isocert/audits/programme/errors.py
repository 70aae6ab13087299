"""Refusals of the audit programme: each a ``DomainError`` naming the offending field."""

from isocert.core.errors import Conflict, InvalidInput


class TeamRuleViolation(Conflict):
    """The team breaks an assignment rule (lead, qualification, coverage, overlap)."""

    code = "team_rule_violated"


class ImpartialityThreat(TeamRuleViolation):
    """A relationship with the client within the cooling-off period (ISO/IEC 17021-1 §5.2)."""

    code = "impartiality_threat"


class AuditNotReady(Conflict):
    """The audit cannot start yet: team, declarations, plan, stage order or justification."""

    code = "audit_not_ready"


class AuditRequired(Conflict):
    """The certification programme requires this audit: it is rescheduled, never cancelled."""

    code = "audit_required"


class SurveillanceYearMissed(InvalidInput):
    """The dates would leave a calendar year of the cycle without an audit
    (ISO/IEC 17021-1 §9.6.2.2: surveillance at least once each calendar year)."""

    code = "surveillance_year_missed"


class SiteSelectionInvalid(InvalidInput):
    """The sites chosen break IAF MD 1 sampling or the cycle's rotation of sites."""

    code = "invalid_site_selection"
