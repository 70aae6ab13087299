"""Reads scoped to the user: what isn't yours is 404, as if missing."""

import datetime

from django.conf import settings
from django.http import Http404
from django.utils import timezone

from .models import (
    ClientRelationship,
    DecisionMakerProfile,
    Invitation,
    Membership,
    Organization,
    PersonalAccessToken,
    Site,
    User,
)
from .permissions import can


def _with_profile(organizations):
    return organizations.select_related("country").prefetch_related("sectors", "sites")


def organizations_for_user(*, user: User):
    return _with_profile(Organization.objects.filter(memberships__user=user)).distinct()


def _get(organizations, pk) -> Organization:
    try:
        return organizations.get(pk=pk)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise Http404("No such organization")


def organization_get(*, user: User, pk) -> Organization:
    return _get(organizations_for_user(user=user), pk)


def client_record_get(*, user: User, pk, capability: str) -> Organization:
    """An organization's page: for its members (``organization_get``), and for CB staff
    holding ``capability`` — the CB's record of its client. Anyone else: 404."""
    if not can(user, capability):
        return organization_get(user=user, pk=pk)
    return _get(_with_profile(Organization.objects.all()), pk)


def membership_of(*, user: User, organization: Organization) -> Membership | None:
    return Membership.objects.filter(user=user, organization=organization).first()


def site_get(*, user: User, pk) -> Site:
    try:
        return Site.objects.select_related("organization").get(
            pk=pk, organization__memberships__user=user
        )
    except (Site.DoesNotExist, ValueError, TypeError):
        raise Http404("No such site")


def memberships_for_organization(*, user: User, organization: Organization):
    organization_get(user=user, pk=organization.pk)
    return organization.memberships.select_related("user").order_by("role", "user__email")


def membership_get(*, user: User, pk) -> Membership:
    try:
        return Membership.objects.select_related("organization", "user").get(
            pk=pk, organization__memberships__user=user
        )
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise Http404("No such membership")


def invitations_for_organization(*, user: User, organization: Organization):
    organization_get(user=user, pk=organization.pk)
    return organization.invitations.filter(status=Invitation.Status.PENDING)


def invitation_get(*, user: User, pk) -> Invitation:
    try:
        return Invitation.objects.select_related("organization").get(
            pk=pk, organization__memberships__user=user
        )
    except (Invitation.DoesNotExist, ValueError, TypeError):
        raise Http404("No such invitation")


def tokens_for_user(*, user: User):
    return PersonalAccessToken.objects.filter(user=user)


def token_get(*, user: User, pk) -> PersonalAccessToken:
    try:
        return PersonalAccessToken.objects.get(pk=pk, user=user)
    except (PersonalAccessToken.DoesNotExist, ValueError, TypeError):
        raise Http404("No such token")



# --- impartiality and competence of the CB's people ---------------------------------------------

def cooling_off_start(on: datetime.date) -> datetime.date:
    """The first day of the cooling-off period that ends on ``on``: a relationship that
    ended on or after it still bars the person (IMPARTIALITY_COOLING_OFF_YEARS)."""
    years = settings.IMPARTIALITY_COOLING_OFF_YEARS
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February in a year that has none
        return on.replace(year=on.year - years, day=28)


def impartiality_relationships(*, user: User, organization_id: int,
                               on: datetime.date | None = None) -> list[ClientRelationship]:
    """``user``'s consultancy or employment for the client, ongoing or ended within the
    cooling-off period before ``on`` (default today). The one reading of the declarations
    for the audit team and the certification decision (ISO/IEC 17021-1 §5.2, §9.5.1.2;
    IAF MD/ISO 17021-1 §7.2: two years)."""
    limit = cooling_off_start(on or timezone.localdate())
    return list(ClientRelationship.objects.filter(user=user, organization_id=organization_id)
                .exclude(end_date__lt=limit).select_related("organization"))


def client_relationships_for_user(*, user: User):
    """The relationships ``user`` declared (or an administrator recorded for them)."""
    return ClientRelationship.objects.filter(user=user).select_related("organization")


def declarable_organizations(*, user: User):
    """The clients a CB staff member can declare a relationship with: every client (their
    role gives them sight of the client list); nobody else declares any."""
    if not user.staff_roles_set:
        return Organization.objects.none()
    return Organization.objects.order_by("legal_name")


def decision_standards(*, user: User) -> set[int]:
    """The standards (ids) ``user`` is qualified to take certification decisions on."""
    profile = DecisionMakerProfile.objects.filter(user=user).first()
    return set(profile.standards.values_list("pk", flat=True)) if profile else set()
