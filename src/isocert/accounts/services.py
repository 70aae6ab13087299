"""Every write about people, organizations, sites, memberships and tokens."""

import datetime
import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from isocert.core.audit import record_event
from isocert.core.dates import display_date
from isocert.core.errors import Conflict, DomainError, InvalidInput, NotPermitted
from isocert.core.validation import clean_date
from isocert.core.values import UNSET
from isocert.core.values import given as _given
from isocert.notifications.services import notify

from .field_checks import clean_text, profile_values, site_values
from .models import (
    INVITATION_LIFECYCLE,
    ClientRelationship,
    Invitation,
    Membership,
    Organization,
    PersonalAccessToken,
    Site,
    StaffRole,
    User,
)
from .permissions import can, member_roles_with
from .second_factor import needs_second_factor
from .signals import client_relationship_declared, client_relationship_ended

INVITATION_DAYS = 14
TOKEN_PREFIX = "isc_"


class RateLimited(DomainError):
    """Too many of these in the period the CB allows; try again later."""

    code = "rate_limited"
    status = 429


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _membership(organization: Organization, user: User) -> Membership | None:
    return Membership.objects.filter(organization=organization, user=user).first()


def ensure_can_edit(organization: Organization, actor: User) -> Membership:
    """The actor's membership, if its role carries "edit" (``permissions``)."""
    membership = _membership(organization, actor)
    if membership is None or membership.role not in member_roles_with("edit"):
        raise NotPermitted("Only an owner or editor of this organization can change it.")
    return membership


def ensure_owner(organization: Organization, actor: User) -> Membership:
    """The actor's membership, if its role carries "manage_members" (``permissions``)."""
    membership = _membership(organization, actor)
    if membership is None or membership.role not in member_roles_with("manage_members"):
        raise NotPermitted("Only an owner of this organization can manage its members.")
    return membership


# --- Organization profile ---------------------------------------------------------------

@transaction.atomic
def create_organization(*, legal_name: str, country: str, registered_address: str,
                        trading_name: str = "", legal_identifier: str = "",
                        sector_codes: Iterable[int] = (), scope_statement: str = "",
                        actor: User) -> Organization:
    """Create a client organization; its creator becomes its first owner. ``country`` is
    an ISO 3166 two-letter code, ``sector_codes`` IAF sector codes."""
    values, sector_codes = profile_values({
        "legal_name": legal_name, "trading_name": trading_name, "country": country,
        "registered_address": registered_address, "legal_identifier": legal_identifier,
        "sector_codes": list(sector_codes), "scope_statement": scope_statement,
    })
    organization = Organization.objects.create(**values)
    if sector_codes:
        organization.sectors.set(sector_codes)
    Membership.objects.create(organization=organization, user=actor, role=Membership.Role.OWNER)
    record_event(actor=actor, action="accounts.organization.created", obj=organization,
                 organization_id=organization.pk,
                 payload={"legal_name": organization.legal_name, "sectors": sector_codes or []})
    return organization


@transaction.atomic
def update_organization(*, organization: Organization, legal_name: str = UNSET,
                        trading_name: str = UNSET, country: str = UNSET,
                        registered_address: str = UNSET, legal_identifier: str = UNSET,
                        sector_codes: Iterable[int] = UNSET, scope_statement: str = UNSET,
                        actor: User) -> Organization:
    """Change the fields given (the others stay as they are)."""
    ensure_can_edit(organization, actor)
    values, sector_codes = profile_values(_given(
        legal_name=legal_name, trading_name=trading_name, country=country,
        registered_address=registered_address, legal_identifier=legal_identifier,
        sector_codes=sector_codes, scope_statement=scope_statement))
    for field, value in values.items():
        setattr(organization, field, value)
    organization.save()
    if sector_codes is not None:
        organization.sectors.set(sector_codes)
    changed = sorted(values) + (["sector_codes"] if sector_codes is not None else [])
    record_event(actor=actor, action="accounts.organization.updated", obj=organization,
                 organization_id=organization.pk, payload={"changed": changed})
    return organization


# --- Sites ------------------------------------------------------------------------------

def _make_central(organization: Organization, site: Site) -> None:
    organization.sites.exclude(pk=site.pk).filter(is_central_function=True).update(
        is_central_function=False
    )


@transaction.atomic
def add_site(*, organization: Organization, name: str, address: str,
             effective_personnel: Decimal | int, shifts: int = 1, city: str = "",
             postcode: str = "", country: str = "", activities: str = "",
             is_central_function: bool = False, actor: User) -> Site:
    """Add a site. The first site, or one marked so, becomes the central function. Its
    country (ISO 3166 two-letter code) defaults to the organization's."""
    ensure_can_edit(organization, actor)
    values = site_values({
        "name": name, "address": address, "city": city, "postcode": postcode,
        "country": country, "effective_personnel": effective_personnel, "shifts": shifts,
        "activities": activities, "is_central_function": is_central_function,
    }, partial=False)
    values.setdefault("country", organization.country)
    if not organization.sites.exists():
        values["is_central_function"] = True
    central = values.pop("is_central_function", False)
    site = Site.objects.create(organization=organization, **values)
    if central:
        _make_central(organization, site)
        site.is_central_function = True
        site.save(update_fields=["is_central_function"])
    record_event(actor=actor, action="accounts.site.added", obj=site,
                 organization_id=organization.pk,
                 payload={"name": site.name, "country": site.country_id,
                          "central_function": site.is_central_function})
    return site


@transaction.atomic
def update_site(*, site: Site, name: str = UNSET, address: str = UNSET, city: str = UNSET,
                postcode: str = UNSET, country: str = UNSET,
                effective_personnel: Decimal | int = UNSET, shifts: int = UNSET,
                activities: str = UNSET, is_central_function: bool = UNSET,
                actor: User) -> Site:
    """Change the fields given; an empty ``country`` keeps the site's own."""
    ensure_can_edit(site.organization, actor)
    values = site_values(_given(
        name=name, address=address, city=city, postcode=postcode, country=country,
        effective_personnel=effective_personnel, shifts=shifts, activities=activities,
        is_central_function=is_central_function), partial=True)
    if values.get("is_central_function") is False and site.is_central_function:
        raise InvalidInput(
            "Mark another site as the central function instead.",
            fields={"is_central_function": "An organization keeps one central function."},
        )
    if values.get("is_central_function"):
        _make_central(site.organization, site)
    for field, value in values.items():
        setattr(site, field, value)
    site.save()
    record_event(actor=actor, action="accounts.site.updated", obj=site,
                 organization_id=site.organization_id, payload={"changed": sorted(values)})
    return site


@transaction.atomic
def remove_site(*, site: Site, actor: User) -> None:
    organization = site.organization
    ensure_can_edit(organization, actor)
    if site.is_central_function and organization.sites.count() > 1:
        raise InvalidInput(
            "Mark another site as the central function before removing this one.",
            fields={"site": "The central function cannot be removed while other sites exist."},
        )
    if site.applications.exclude(status="draft").exists():
        raise Conflict("This site is part of a submitted application and cannot be removed.")
    record_event(actor=actor, action="accounts.site.removed", obj=site,
                 organization_id=organization.pk, payload={"name": site.name})
    site.delete()


# --- Members and invitations -------------------------------------------------------------

def _ensure_invitations_left(organization: Organization, actor: User) -> None:
    """An invitation is an e-mail from the CB's address to any address a client types in:
    without a cap the portal is a mail relay. Counted from the invitations table, so the
    limit holds across server processes; the organization's row is locked so two owners
    inviting at once cannot both pass its last free place."""
    Organization.objects.select_for_update().filter(pk=organization.pk).exists()
    since = timezone.now() - timedelta(days=1)
    per_user = settings.INVITATIONS_PER_USER_PER_DAY
    if Invitation.objects.filter(invited_by=actor, created_at__gte=since).count() >= per_user:
        raise RateLimited(f"You have sent {per_user} invitations in the last 24 hours, the "
                          "most allowed; try again tomorrow.")
    per_organization = settings.INVITATIONS_PER_ORGANIZATION_PER_DAY
    if (Invitation.objects.filter(organization=organization, created_at__gte=since).count()
            >= per_organization):
        raise RateLimited(f"This organization has sent {per_organization} invitations in the "
                          "last 24 hours, the most allowed; try again tomorrow.")


@transaction.atomic
def invite_member(*, organization: Organization, actor: User, email: str, role: str) -> Invitation:
    """E-mail an invitation; the link carries a secret only its hash is stored for.

    The e-mail goes out from the CB's address, so it carries no client-chosen text in its
    subject; its body names the organization only as quoted data and gives the inviter's
    verified e-mail address, so the recipient can judge who is asking.
    """
    ensure_owner(organization, actor)
    if not EmailAddress.objects.filter(user=actor, email__iexact=actor.email,
                                       verified=True).exists():
        raise NotPermitted("Confirm your own e-mail address before inviting others.")
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput("Enter a valid e-mail address.", fields={"email": "Enter a valid e-mail address."})
    if role not in Membership.Role.values:
        raise InvalidInput("Choose a role.", fields={"role": "Choose owner, editor or viewer."})
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise Conflict("This person is already a member.", fields={"email": "Already a member."})
    _ensure_invitations_left(organization, actor)
    # A new invitation replaces any still pending to the same address.
    revoke = INVITATION_LIFECYCLE.transitions["revoke"]
    Invitation.objects.filter(organization=organization, email=email,
                              status__in=revoke.sources).update(status=revoke.target)
    secret = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization, email=email, role=role, token_hash=_hash(secret),
        invited_by=actor, expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    record_event(actor=actor, action="accounts.invitation.sent", obj=invitation,
                 organization_id=organization.pk, payload={"email": email, "role": role})
    notify(template="invitation", to=[email], context={
        # One line, at most 200 characters: a name cannot lay out a message of its own.
        "organization": " ".join(str(organization).split())[:200],
        "inviter_email": actor.email,
        "role": Membership.Role(role).label,
        "days": INVITATION_DAYS, "path": reverse("invitation_accept", args=[secret]),
    })
    return invitation


def invitation_for_token(secret: str) -> Invitation | None:
    return Invitation.objects.select_related("organization").filter(token_hash=_hash(secret)).first()


@transaction.atomic
def accept_invitation(*, secret: str, actor: User) -> Membership:
    invitation = invitation_for_token(secret)
    if invitation is None or not INVITATION_LIFECYCLE.can("accept", invitation.status):
        raise InvalidInput("This invitation is not valid any more.", fields={"token": "Invalid or used invitation."})
    if invitation.expires_at < timezone.now():
        raise InvalidInput("This invitation has expired; ask for a new one.", fields={"token": "Expired."})
    if invitation.email.lower() != actor.email.lower():
        raise NotPermitted(f"This invitation was sent to {invitation.email}; log in with that address.")
    membership, _ = Membership.objects.get_or_create(
        organization=invitation.organization, user=actor, defaults={"role": invitation.role}
    )
    INVITATION_LIFECYCLE.apply(invitation, "accept")
    invitation.accepted_by = actor
    invitation.save(update_fields=["status", "accepted_by"])
    record_event(actor=actor, action="accounts.invitation.accepted", obj=invitation,
                 organization_id=invitation.organization_id, payload={"role": membership.role})
    return membership


@transaction.atomic
def revoke_invitation(*, invitation: Invitation, actor: User) -> Invitation:
    ensure_owner(invitation.organization, actor)
    if not INVITATION_LIFECYCLE.can("revoke", invitation.status):
        raise Conflict("Only a pending invitation can be revoked.")
    INVITATION_LIFECYCLE.apply(invitation, "revoke")
    invitation.save(update_fields=["status"])
    record_event(actor=actor, action="accounts.invitation.revoked", obj=invitation,
                 organization_id=invitation.organization_id, payload={"email": invitation.email})
    return invitation


def _ensure_an_owner_remains(membership: Membership, new_role: str | None) -> None:
    if membership.role == Membership.Role.OWNER and new_role != Membership.Role.OWNER:
        others = Membership.objects.filter(organization=membership.organization,
                                           role=Membership.Role.OWNER).exclude(pk=membership.pk)
        if not others.exists():
            raise Conflict("An organization needs at least one owner.",
                           fields={"role": "Make someone else owner first."})


@transaction.atomic
def change_member_role(*, membership: Membership, actor: User, role: str) -> Membership:
    ensure_owner(membership.organization, actor)
    if role not in Membership.Role.values:
        raise InvalidInput("Choose a role.", fields={"role": "Choose owner, editor or viewer."})
    _ensure_an_owner_remains(membership, role)
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    record_event(actor=actor, action="accounts.membership.role_changed", obj=membership,
                 organization_id=membership.organization_id,
                 payload={"user": membership.user.email, "from": old, "to": role})
    return membership


@transaction.atomic
def remove_member(*, membership: Membership, actor: User) -> None:
    if membership.user_id != actor.pk:
        ensure_owner(membership.organization, actor)
    _ensure_an_owner_remains(membership, None)
    record_event(actor=actor, action="accounts.membership.removed", obj=membership,
                 organization_id=membership.organization_id,
                 payload={"user": membership.user.email, "role": membership.role})
    membership.delete()


# --- CB staff roles ---------------------------------------------------------------------------

def _ensure_administrator(actor: User) -> None:
    if not (actor.is_superuser or can(actor, "administer")):
        raise NotPermitted("Only a CB administrator can manage staff roles.")


@transaction.atomic
def grant_staff_role(*, user: User, role: str, actor: User | None) -> StaffRole:
    """Give a CB role. ``actor=None`` only from trusted set-up code (seed-demo, shell)."""
    if actor is not None:
        _ensure_administrator(actor)
    if role not in StaffRole.Role.values:
        raise InvalidInput("Unknown staff role.", fields={"role": "Unknown staff role."})
    staff_role, created = StaffRole.objects.get_or_create(user=user, role=role)
    if role == StaffRole.Role.ADMINISTRATOR and not (user.is_staff and user.is_superuser):
        # CB administrators run the Django admin.
        user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    if created:
        record_event(actor=actor, action="accounts.staff_role.granted", obj=staff_role,
                     payload={"user": user.email, "role": role})
    user.__dict__.pop("staff_roles_set", None)
    return staff_role


@transaction.atomic
def revoke_staff_role(*, user: User, role: str, actor: User) -> None:
    _ensure_administrator(actor)
    deleted, _ = StaffRole.objects.filter(user=user, role=role).delete()
    if role == StaffRole.Role.ADMINISTRATOR and deleted:
        user.is_staff = user.is_superuser = False
        user.save(update_fields=["is_staff", "is_superuser"])
    if deleted:
        record_event(actor=actor, action="accounts.staff_role.revoked", object_type="accounts.user",
                     object_id=user.pk, payload={"user": user.email, "role": role})
    user.__dict__.pop("staff_roles_set", None)


# --- Declared client relationships (impartiality) ----------------------------------------------

def check_client_relationship(*, user: User, organization_id: int, kind: str,
                              start_date: datetime.date, end_date: datetime.date | None,
                              actor: User) -> tuple[Organization, datetime.date,
                                                    datetime.date | None]:
    """The refusals of ``declare_client_relationship``, before anything is written: the
    client, the start and the end it would record. Also run by the Django admin's add form
    (``ClientRelationshipAdmin``), so a refusal shows on the form."""
    if actor.pk != user.pk:
        _ensure_administrator(actor)
    if not user.staff_roles_set:
        raise NotPermitted("Only the certification body's staff declare client relationships.")
    organization = Organization.objects.filter(pk=_int_or_none(organization_id)).first()
    if organization is None:
        raise InvalidInput("Choose the client.", fields={"organization_id": "Unknown client."})
    if kind not in ClientRelationship.Kind.values:
        labels = " or ".join(str(label) for label in ClientRelationship.Kind.labels)
        raise InvalidInput(f"Choose the kind of relationship: {labels}.",
                           fields={"kind": f"Choose {labels}."})
    start = clean_date(start_date, "start_date")
    end = clean_date(end_date, "end_date") if end_date else None
    today = timezone.localdate()
    if start > today:
        raise InvalidInput("A relationship is declared once it has begun.",
                           fields={"start_date": f"On or before {display_date(today)}."})
    if end is not None and end < start:
        raise InvalidInput("The relationship cannot end before it began.",
                           fields={"end_date": f"On or after {display_date(start)}."})
    return organization, start, end


@transaction.atomic
def declare_client_relationship(*, user: User, organization_id: int, kind: str,
                                start_date: datetime.date,
                                end_date: datetime.date | None = None, notes: str = "",
                                actor: User) -> ClientRelationship:
    """Record that ``user`` — any CB staff member, auditor or not — gave a client
    management-system consultancy or worked for it (ISO/IEC 17021-1 §5.2; IAF MD/ISO
    17021-1 §7.2). The audit team and the certification decision read these records
    (``selectors.impartiality_relationships``). ``end_date`` is empty while it is
    ongoing. Declared by the person themself, or by a CB administrator for them (on their
    page, or in the Django admin); refused for anyone without a CB role
    (``check_client_relationship``)."""
    organization, start, end = check_client_relationship(
        user=user, organization_id=organization_id, kind=kind, start_date=start_date,
        end_date=end_date, actor=actor)
    relationship = ClientRelationship.objects.create(
        user=user, organization=organization, kind=kind, start_date=start, end_date=end,
        notes=(notes or "").strip()[:2000])
    record_event(actor=actor, action="accounts.client_relationship.declared", obj=relationship,
                 payload={"user": user.email, "organization": organization.pk, "kind": kind,
                          "start_date": start.isoformat(),
                          "end_date": end.isoformat() if end else None})
    # The impartiality register records the threat in this transaction (accounts.signals).
    client_relationship_declared.send(sender=ClientRelationship, relationship=relationship,
                                      actor=actor)
    return relationship


@transaction.atomic
def end_client_relationship(*, relationship: ClientRelationship, end_date: datetime.date,
                            actor: User) -> ClientRelationship:
    """Record the end of an ongoing declared relationship (ISO/IEC 17021-1 §5.2): the
    cooling-off period runs from ``end_date``, and the impartiality register marks the
    threat for review (``client_relationship_ended``). By the person themself or a CB
    administrator. Refused: a relationship already ended, an end in the future or before
    the start."""
    if actor.pk != relationship.user_id:
        _ensure_administrator(actor)
    relationship = ClientRelationship.objects.select_for_update().get(pk=relationship.pk)
    if relationship.end_date is not None:
        raise Conflict(f"This relationship already ended on {display_date(relationship.end_date)}.")
    end = clean_date(end_date, "end_date")
    today = timezone.localdate()
    if end > today:
        raise InvalidInput("A relationship is ended once it has ended.",
                           fields={"end_date": f"On or before {display_date(today)}."})
    if end < relationship.start_date:
        raise InvalidInput("The relationship cannot end before it began.",
                           fields={"end_date":
                                   f"On or after {display_date(relationship.start_date)}."})
    relationship.end_date = end
    relationship.save(update_fields=["end_date"])
    record_event(actor=actor, action="accounts.client_relationship.ended", obj=relationship,
                 payload={"user": relationship.user.email,
                          "organization": relationship.organization_id,
                          "end_date": end.isoformat()})
    client_relationship_ended.send(sender=ClientRelationship, relationship=relationship,
                                   actor=actor)
    return relationship


def _int_or_none(value) -> int | None:
    """A database id from input, or None (out of range is no id: the database would fail)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


# --- Personal access tokens ---------------------------------------------------------------------

def staff_token_max_days(user: User) -> int | None:
    """The longest life a token of ``user`` may have, or None for no limit (clients)."""
    # The same people whose sessions need the second factor: they reach every client's data.
    return settings.STAFF_TOKEN_MAX_DAYS if needs_second_factor(user) else None


@transaction.atomic
def create_access_token(*, actor: User, name: str, expires_in_days: int | None = None
                        ) -> tuple[PersonalAccessToken, str]:
    """Create an API token; returns it with its secret, which is never shown again.

    A CB staff member's token expires after ``STAFF_TOKEN_MAX_DAYS`` at most: a longer or
    missing expiry is capped to it (the caller sees the capped ``expires_at``).
    """
    name = clean_text(name, "name", "Token name", required=True, max_length=100)
    if expires_in_days is not None and not 1 <= expires_in_days <= 730:
        raise InvalidInput("Tokens expire after 1 to 730 days.",
                           fields={"expires_in_days": "Choose between 1 and 730 days."})
    max_days = staff_token_max_days(actor)
    if max_days is not None and (expires_in_days is None or expires_in_days > max_days):
        expires_in_days = max_days
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = PersonalAccessToken.objects.create(
        user=actor, name=name, prefix=secret[:10], token_hash=_hash(secret),
        expires_at=timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    record_event(actor=actor, action="accounts.access_token.created", obj=token,
                 payload={"name": name, "prefix": token.prefix,
                          "expires_in_days": expires_in_days})
    return token, secret


@transaction.atomic
def revoke_access_token(*, token: PersonalAccessToken, actor: User) -> PersonalAccessToken:
    if token.user_id != actor.pk:
        raise NotPermitted("You can only revoke your own tokens.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_event(actor=actor, action="accounts.access_token.revoked", obj=token,
                     payload={"prefix": token.prefix})
    return token


@transaction.atomic
def record_password_change(*, user: User, actor: User | None, via: str) -> list[str]:
    """A password was changed, reset, set or disabled: revoke every token of the user.

    Whoever learnt the old password may have minted tokens with it; a new password must
    shut them out too. ``via`` names the path (``password_change``, ``password_reset``,
    ``password_set``, ``admin``). Returns the prefixes of the revoked tokens.
    """
    now = timezone.now()
    tokens = list(PersonalAccessToken.objects.select_for_update()
                  .filter(user=user, revoked_at__isnull=True).order_by("pk"))
    record_event(actor=actor, action="accounts.user.password_changed", obj=user,
                 payload={"user": user.email, "via": via,
                          "tokens_revoked": [t.prefix for t in tokens]})
    for token in tokens:
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        record_event(actor=actor, action="accounts.access_token.revoked", obj=token,
                     payload={"prefix": token.prefix, "reason": "password changed"})
    return [t.prefix for t in tokens]


def user_for_token(secret: str) -> User | None:
    """The active user a bearer token belongs to, or None.

    Refused as well: a CB staff member's token older than ``STAFF_TOKEN_MAX_DAYS``,
    whatever its own expiry (it may predate the staff role or a shorter setting).
    """
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    token = (PersonalAccessToken.objects.select_related("user")
             .filter(token_hash=_hash(secret), revoked_at__isnull=True).first())
    now = timezone.now()
    if token is None or not token.user.is_active or (token.expires_at and token.expires_at < now):
        return None
    max_days = staff_token_max_days(token.user)
    if max_days is not None and token.created_at < now - timedelta(days=max_days):
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        PersonalAccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
