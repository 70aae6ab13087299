"""One role → capability map for the whole portal.

Apps ask ``can(user, capability)`` (CB staff) or ``can_in(user, capability, organization)``
(client members) instead of keeping role lists of their own, and e-mail recipients per
role come from the same map (``staff_emails``, ``member_emails``). Changing who may do
what is a change of this table only.

Separation of duties and impartiality (the decider was not on the audit team, the
investigator was not involved, …) are rules about a person and one object, not about a
role: they stay in the services that enforce them.
"""

from __future__ import annotations

from isocert.accounts.models import Membership, StaffRole, User

ADMINISTRATOR = StaffRole.Role.ADMINISTRATOR
REVIEWER = StaffRole.Role.REVIEWER
AUDITOR = StaffRole.Role.AUDITOR
DECISION_MAKER = StaffRole.Role.DECISION_MAKER

# CB staff: capability → the staff roles that hold it.
STAFF_CAPABILITIES: dict[str, frozenset[str]] = {
    # Applications, readiness reviews, audit time and quotations (registration, readiness).
    "read_applications": frozenset({REVIEWER, ADMINISTRATOR}),
    "review_applications": frozenset({REVIEWER}),
    # The pre-transfer review of a certification held with another CB (IAF MD 2 §2.2).
    "review_transfers": frozenset({REVIEWER}),
    # ISO 50001 energy data of every client: reviewers and the decision maker read it.
    "read_energy": frozenset({REVIEWER, ADMINISTRATOR, DECISION_MAKER}),
    # Audit programmes: every audit, and who plans them.
    "read_all_audits": frozenset({REVIEWER, ADMINISTRATOR, DECISION_MAKER}),
    "manage_programme": frozenset({REVIEWER, ADMINISTRATOR}),
    "audit": frozenset({AUDITOR}),
    # Who hears the client's answer to an audit plan when the cycle has no reviewer on record.
    "receive_plan_answers": frozenset({REVIEWER}),
    # Certification decisions (ISO/IEC 17021-1 §9.5) and the certificates' lifecycle.
    "decide": frozenset({DECISION_MAKER}),
    "read_certificates": frozenset({DECISION_MAKER, ADMINISTRATOR, REVIEWER}),
    "manage_certificate_status": frozenset({DECISION_MAKER, ADMINISTRATOR}),
    # Complaints (ISO/IEC 17021-1 §9.8) and appeals (§9.7): who runs the process. Who may
    # investigate, decide or sit on a panel is a rule about the person and the case
    # (not involved), enforced in ``complaints``' services.
    "handle_complaints": frozenset({ADMINISTRATOR, REVIEWER, DECISION_MAKER}),
    "handle_appeals": frozenset({ADMINISTRATOR, DECISION_MAKER}),
    # Safeguarding impartiality (ISO/IEC 17021-1 §5.2, §6.2): the risk register, its annual
    # review and the committee. Administrators keep them; decision makers read them.
    "manage_impartiality": frozenset({ADMINISTRATOR}),
    "read_impartiality": frozenset({ADMINISTRATOR, DECISION_MAKER}),
    # The public registry's imports and exports, the audit trail, the CB's settings.
    "administer": frozenset({ADMINISTRATOR}),
    # The registry's CertSearch exports, and its bulk imports (which write the public registry).
    "export_registry": frozenset({ADMINISTRATOR, REVIEWER}),
    "import_registry": frozenset({ADMINISTRATOR}),
}

# Client members: capability → the membership roles that hold it.
MEMBER_CAPABILITIES: dict[str, frozenset[str]] = {
    "read": frozenset({Membership.Role.OWNER, Membership.Role.EDITOR, Membership.Role.VIEWER}),
    "edit": frozenset({Membership.Role.OWNER, Membership.Role.EDITOR}),
    # Who hears from the CB about the organization's application, audits and certificates.
    "receive_mail": frozenset({Membership.Role.OWNER, Membership.Role.EDITOR}),
    "manage_members": frozenset({Membership.Role.OWNER}),
}


def staff_roles_with(capability: str) -> frozenset[str]:
    """The staff roles that hold ``capability`` (KeyError for an unknown name: a typo fails)."""
    return STAFF_CAPABILITIES[capability]


def member_roles_with(capability: str) -> frozenset[str]:
    return MEMBER_CAPABILITIES[capability]


def can(user, capability: str) -> bool:
    """True when ``user`` holds a CB staff role that carries ``capability``."""
    roles = staff_roles_with(capability)
    return bool(user.is_authenticated and user.has_staff_role(*roles))


def who_can(user_ids, capability: str) -> set[int]:
    """Of ``user_ids``, those holding a CB staff role that carries ``capability``: ``can``
    for many people in one query."""
    return set(StaffRole.objects.filter(user_id__in=user_ids,
                                        role__in=staff_roles_with(capability))
               .values_list("user_id", flat=True))


def can_in(user, capability: str, organization) -> bool:
    """True when ``user`` is a member of ``organization`` whose role carries ``capability``."""
    if not user.is_authenticated:
        return False
    return Membership.objects.filter(organization=organization, user=user,
                                     role__in=member_roles_with(capability)).exists()


def organizations_where(user, capability: str) -> set[int]:
    """The ids of the organizations in which ``user``'s role carries ``capability`` (one
    query, for lists that would otherwise ask ``can_in`` once per row)."""
    if not user.is_authenticated:
        return set()
    return set(Membership.objects.filter(user=user, role__in=member_roles_with(capability))
               .values_list("organization_id", flat=True))


def staff_with(capability: str):
    """Active CB staff holding ``capability``."""
    return User.objects.filter(is_active=True,
                               staff_roles__role__in=staff_roles_with(capability)).distinct()


def staff_emails(capability: str) -> list[str]:
    return list(staff_with(capability).order_by("email").values_list("email", flat=True))


def member_emails(organization_id: int | None, capability: str = "receive_mail") -> list[str]:
    """Active members of the organization whose role carries ``capability``."""
    if organization_id is None:
        return []
    return list(Membership.objects.filter(
        organization_id=organization_id, user__is_active=True,
        role__in=member_roles_with(capability),
    ).order_by("user__email").values_list("user__email", flat=True))
