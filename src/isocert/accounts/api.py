"""Organizations, sites, members, invitations and personal access tokens."""

from datetime import date, datetime
from decimal import Decimal

from django.http import Http404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from isocert.core.api import ErrorOut

from . import selectors, services
from .models import Membership, Organization, Site
from .second_factor import needs_second_factor, session_passed_second_factor

router = Router(tags=["organizations"])


class MeOut(Schema):
    id: int
    email: str
    full_name: str
    staff_roles: list[str]


class OrganizationIn(Schema):
    legal_name: str = Field(..., description="Name as in the company register.")
    trading_name: str = ""
    country: str = Field(..., description="ISO 3166-1 alpha-2 code, e.g. DE.")
    registered_address: str
    legal_identifier: str = ""
    sector_codes: list[int] = Field(default_factory=list, description="IAF sector codes 1–39.")
    scope_statement: str = ""


class OrganizationPatch(Schema):
    legal_name: str | None = None
    trading_name: str | None = None
    country: str | None = None
    registered_address: str | None = None
    legal_identifier: str | None = None
    sector_codes: list[int] | None = None
    scope_statement: str | None = None


class SiteIn(Schema):
    name: str
    address: str
    city: str = ""
    postcode: str = ""
    country: str = Field("", description="ISO 3166-1 alpha-2 code; empty for the "
                                         "organization's country.")
    effective_personnel: Decimal = Field(..., description="Full-time equivalents, above 0.")
    shifts: int = 1
    activities: str = ""
    is_central_function: bool = False


class SitePatch(Schema):
    name: str | None = None
    address: str | None = None
    city: str | None = None
    postcode: str | None = None
    country: str | None = Field(None, description="ISO 3166-1 alpha-2 code.")
    effective_personnel: Decimal | None = None
    shifts: int | None = None
    activities: str | None = None
    is_central_function: bool | None = None


class SiteOut(Schema):
    id: int
    name: str
    address: str
    city: str
    postcode: str
    country: str = Field(..., description="ISO 3166-1 alpha-2 code.")
    effective_personnel: Decimal
    shifts: int
    activities: str
    is_central_function: bool

    @staticmethod
    def resolve_country(site: Site) -> str:
        return site.country_id


class OrganizationOut(Schema):
    id: int
    legal_name: str
    trading_name: str
    country: str
    registered_address: str
    legal_identifier: str
    sector_codes: list[int]
    scope_statement: str
    my_role: str | None
    sites: list[SiteOut]


class MembershipOut(Schema):
    id: int
    email: str
    full_name: str
    role: str


class RoleIn(Schema):
    role: str = Field(..., description="owner, editor or viewer")


class InvitationIn(Schema):
    email: str
    role: str = Field(..., description="owner, editor or viewer")


class InvitationOut(Schema):
    id: int
    email: str
    role: str
    status: str
    expires_at: datetime


class TokenIn(Schema):
    name: str
    expires_in_days: int | None = Field(
        None, description="1–730; none = no expiry. A CB staff member's token expires after "
                          "STAFF_TOKEN_MAX_DAYS (default 90) at most: a longer or missing "
                          "expiry is capped (see expires_at in the answer).")


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str = Field(..., description="The secret; shown this once only.")


def _organization_out(organization: Organization, user) -> dict:
    membership = selectors.membership_of(user=user, organization=organization)
    return {
        "id": organization.pk, "legal_name": organization.legal_name,
        "trading_name": organization.trading_name, "country": organization.country_id,
        "registered_address": organization.registered_address,
        "legal_identifier": organization.legal_identifier,
        "sector_codes": sorted(s.code for s in organization.sectors.all()),
        "scope_statement": organization.scope_statement,
        "my_role": membership.role if membership else None,
        "sites": list(organization.sites.all()),
    }


def _membership_out(membership: Membership) -> dict:
    return {"id": membership.pk, "email": membership.user.email,
            "full_name": membership.user.full_name, "role": membership.role}


@router.get("/me", response=MeOut, tags=["account"], summary="Who am I")
def me(request):
    user = request.auth
    return {"id": user.pk, "email": user.email, "full_name": user.full_name,
            "staff_roles": sorted(user.staff_roles_set)}


@router.get("/organizations", response=list[OrganizationOut], summary="My organizations")
def list_organizations(request):
    return [_organization_out(o, request.auth)
            for o in selectors.organizations_for_user(user=request.auth)]


@router.post("/organizations", response={201: OrganizationOut},
             summary="Create an organization (you become its owner)")
def create_organization(request, payload: OrganizationIn):
    organization = services.create_organization(actor=request.auth, **payload.dict())
    return Status(201, _organization_out(organization, request.auth))


@router.get("/organizations/{org_id}", response=OrganizationOut)
def get_organization(request, org_id: int):
    return _organization_out(selectors.organization_get(user=request.auth, pk=org_id), request.auth)


@router.patch("/organizations/{org_id}", response=OrganizationOut,
              summary="Change the organization profile (owner or editor)")
def update_organization(request, org_id: int, payload: OrganizationPatch):
    organization = selectors.organization_get(user=request.auth, pk=org_id)
    services.update_organization(organization=organization, actor=request.auth,
                                 **payload.dict(exclude_unset=True))
    return _organization_out(selectors.organization_get(user=request.auth, pk=org_id), request.auth)


@router.get("/organizations/{org_id}/sites", response=list[SiteOut])
def list_sites(request, org_id: int):
    return list(selectors.organization_get(user=request.auth, pk=org_id).sites.all())


@router.post("/organizations/{org_id}/sites", response={201: SiteOut},
             summary="Add a site (the first becomes the central function)")
def add_site(request, org_id: int, payload: SiteIn):
    organization = selectors.organization_get(user=request.auth, pk=org_id)
    site = services.add_site(organization=organization, actor=request.auth, **payload.dict())
    return Status(201, site)


@router.patch("/sites/{site_id}", response=SiteOut)
def update_site(request, site_id: int, payload: SitePatch):
    site: Site = selectors.site_get(user=request.auth, pk=site_id)
    return services.update_site(site=site, actor=request.auth,
                                **payload.dict(exclude_unset=True))


@router.delete("/sites/{site_id}", response={204: None})
def remove_site(request, site_id: int):
    services.remove_site(site=selectors.site_get(user=request.auth, pk=site_id),
                         actor=request.auth)
    return Status(204, None)


@router.get("/organizations/{org_id}/memberships", response=list[MembershipOut])
def list_memberships(request, org_id: int):
    organization = selectors.organization_get(user=request.auth, pk=org_id)
    return [_membership_out(m) for m in
            selectors.memberships_for_organization(user=request.auth, organization=organization)]


@router.post("/memberships/{membership_id}/role", response=MembershipOut,
             summary="Change a member's role (owners only)")
def change_member_role(request, membership_id: int, payload: RoleIn):
    membership = selectors.membership_get(user=request.auth, pk=membership_id)
    return _membership_out(services.change_member_role(membership=membership, actor=request.auth,
                                                       role=payload.role))


@router.delete("/memberships/{membership_id}", response={204: None},
               summary="Remove a member (owners), or leave (yourself)")
def remove_member(request, membership_id: int):
    membership = selectors.membership_get(user=request.auth, pk=membership_id)
    services.remove_member(membership=membership, actor=request.auth)
    return Status(204, None)


@router.get("/organizations/{org_id}/invitations", response=list[InvitationOut])
def list_invitations(request, org_id: int):
    organization = selectors.organization_get(user=request.auth, pk=org_id)
    return list(selectors.invitations_for_organization(user=request.auth, organization=organization))


@router.post("/organizations/{org_id}/invitations", response={201: InvitationOut, 429: ErrorOut},
             summary="Invite someone by e-mail (owners only)",
             description="At most INVITATIONS_PER_USER_PER_DAY per inviting user and "
                         "INVITATIONS_PER_ORGANIZATION_PER_DAY per organization in any 24 "
                         "hours (defaults 20 and 50); more are answered 429.")
def invite_member(request, org_id: int, payload: InvitationIn):
    organization = selectors.organization_get(user=request.auth, pk=org_id)
    invitation = services.invite_member(organization=organization, actor=request.auth,
                                        email=payload.email, role=payload.role)
    return Status(201, invitation)


@router.post("/invitations/{invitation_id}/revoke", response=InvitationOut)
def revoke_invitation(request, invitation_id: int):
    invitation = selectors.invitation_get(user=request.auth, pk=invitation_id)
    return services.revoke_invitation(invitation=invitation, actor=request.auth)


@router.get("/tokens", response=list[TokenOut], tags=["account"],
            summary="My personal access tokens")
def list_tokens(request):
    return list(selectors.tokens_for_user(user=request.auth))


@router.post("/tokens", response={201: TokenCreatedOut}, tags=["account"],
             summary="Create a personal access token")
def create_token(request, payload: TokenIn):
    # A staff token is minted only from a session that passed the second factor, never
    # from another token (which would let a leaked token renew itself).
    if needs_second_factor(request.auth) and not session_passed_second_factor(request,
                                                                               request.auth):
        raise HttpError(403, "CB staff create tokens from a browser session confirmed with "
                             "their authenticator code.")
    token, secret = services.create_access_token(actor=request.auth, name=payload.name,
                                                 expires_in_days=payload.expires_in_days)
    return Status(201, {**TokenOut.from_orm(token).dict(), "token": secret})


@router.post("/tokens/{token_id}/revoke", response=TokenOut, tags=["account"])
def revoke_token(request, token_id: int):
    token = selectors.token_get(user=request.auth, pk=token_id)
    return services.revoke_access_token(token=token, actor=request.auth)


# --- my declared client relationships (CB staff; ISO/IEC 17021-1 §5.2) -----------------------

class ClientRelationshipIn(Schema):
    organization_id: int = Field(..., description="The client")
    kind: str = Field(..., description="consultancy (management-system consultancy) or "
                                       "employment")
    start_date: date
    end_date: date | None = Field(None, description="Empty while ongoing")
    notes: str = ""


class ClientRelationshipOut(Schema):
    id: int
    organization_id: int
    organization: str
    kind: str
    start_date: date
    end_date: date | None
    notes: str
    declared_at: datetime


def _relationship_out(relationship) -> dict:
    return {"id": relationship.pk, "organization_id": relationship.organization_id,
            "organization": str(relationship.organization), "kind": relationship.kind,
            "start_date": relationship.start_date, "end_date": relationship.end_date,
            "notes": relationship.notes, "declared_at": relationship.declared_at}


def _cb_staff(user) -> None:
    # Clients have no declarations: 404, as the page.
    if not user.staff_roles_set:
        raise Http404("No such resource")


@router.get("/me/client-relationships",
            response={200: list[ClientRelationshipOut], 404: ErrorOut},
            tags=["account"], summary="My declared client relationships (CB staff)")
def list_client_relationships(request):
    _cb_staff(request.auth)
    return [_relationship_out(r)
            for r in selectors.client_relationships_for_user(user=request.auth)]


@router.post("/me/client-relationships", response={201: ClientRelationshipOut, 404: ErrorOut},
             tags=["account"], summary="Declare a client relationship (CB staff)",
             description="Consultancy for or employment by a client: the audit team and the "
                         "certification decision are refused while it is ongoing or ended "
                         "within IMPARTIALITY_COOLING_OFF_YEARS (2) years. 422 names the "
                         "field: an unknown client, a start in the future, an end before "
                         "the start.")
def declare_client_relationship(request, payload: ClientRelationshipIn):
    _cb_staff(request.auth)
    relationship = services.declare_client_relationship(
        user=request.auth, actor=request.auth, **payload.dict())
    return Status(201, _relationship_out(relationship))
