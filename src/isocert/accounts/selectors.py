"""Reads scoped to the user: what isn't yours is 404, as if missing."""

from django.http import Http404

from .models import Invitation, Membership, Organization, PersonalAccessToken, Site, User


def organizations_for_user(*, user: User):
    return (Organization.objects.filter(memberships__user=user)
            .select_related("country").prefetch_related("sectors", "sites").distinct())


def organization_get(*, user: User, pk) -> Organization:
    try:
        return organizations_for_user(user=user).get(pk=pk)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise Http404("No such organization")


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

