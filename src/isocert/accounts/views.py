"""Pages for organizations, sites, members, invitations and API tokens.

The organization's own page shows its applications too: it is composed in the portal
(``portal.views.organization_detail``)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from isocert.core.dates import display_date
from isocert.core.errors import DomainError
from isocert.core.forms import add_domain_error

from . import selectors, services
from .forms import (
    ClientRelationshipForm,
    InvitationForm,
    OrganizationForm,
    RoleForm,
    SiteForm,
    TokenForm,
)


@login_required
def organization_create(request):
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.create_organization(actor=request.user,
                                                        **form.service_data())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Organization created. Now add its sites.")
            return redirect("site_create", pk=organization.pk)
    return render(request, "accounts/organization_form.html", {"form": form})


@login_required
def organization_edit(request, pk):
    organization = selectors.organization_get(user=request.user, pk=pk)
    form = OrganizationForm(request.POST or None,
                            initial=OrganizationForm.initial_for(organization))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_organization(organization=organization, actor=request.user,
                                         **form.service_data())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Profile saved.")
            return redirect("organization_detail", pk=pk)
    return render(request, "accounts/organization_form.html",
                  {"form": form, "organization": organization})


@login_required
def site_create(request, pk):
    organization = selectors.organization_get(user=request.user, pk=pk)
    form = SiteForm(request.POST or None,
                    initial={"is_central_function": not organization.sites.exists(),
                             "country": organization.country_id})
    if request.method == "POST" and form.is_valid():
        try:
            services.add_site(organization=organization, actor=request.user,
                              **form.service_data())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Site “{form.cleaned_data['name']}” added.")
            if "add_another" in request.POST:
                return redirect("site_create", pk=pk)
            return redirect("organization_detail", pk=pk)
    return render(request, "accounts/site_form.html",
                  {"form": form, "organization": organization})


@login_required
def site_edit(request, pk):
    site = selectors.site_get(user=request.user, pk=pk)
    form = SiteForm(request.POST or None, initial={
        "country": site.country_id,
        **{f: getattr(site, f) for f in ("name", "address", "city", "postcode", "effective_personnel",
                                         "shifts", "activities", "is_central_function")}})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_site(site=site, actor=request.user, **form.service_data())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Site saved.")
            return redirect("organization_detail", pk=site.organization_id)
    return render(request, "accounts/site_form.html",
                  {"form": form, "organization": site.organization, "site": site})


@login_required
@require_http_methods(["GET", "POST"])
def site_delete(request, pk):
    """GET asks for confirmation (what removing the site means); POST removes it."""
    site = selectors.site_get(user=request.user, pk=pk)
    if request.method == "GET":
        return render(request, "accounts/site_remove.html", {
            "site": site, "organization": site.organization,
            "draft_applications": site.applications.filter(status="draft").count()})
    try:
        services.remove_site(site=site, actor=request.user)
        messages.success(request, f"Site “{site.name}” removed.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("organization_detail", pk=site.organization_id)


@login_required
def members(request, pk):
    organization = selectors.organization_get(user=request.user, pk=pk)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invite_member(organization=organization, actor=request.user,
                                   **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            return redirect("members", pk=pk)
    return render(request, "accounts/members.html", {
        "organization": organization, "form": form,
        "membership": selectors.membership_of(user=request.user, organization=organization),
        "memberships": selectors.memberships_for_organization(user=request.user,
                                                              organization=organization),
        "invitations": selectors.invitations_for_organization(user=request.user,
                                                              organization=organization),
        "role_choices": RoleForm.base_fields["role"].choices,
    })


@login_required
@require_POST
def member_role(request, pk):
    membership = selectors.membership_get(user=request.user, pk=pk)
    form = RoleForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError("Choose owner, editor or viewer.")
        services.change_member_role(membership=membership, actor=request.user,
                                    role=form.cleaned_data["role"])
        messages.success(request, f"{membership.user.email} is now {membership.role}.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("members", pk=membership.organization_id)


@login_required
@require_POST
def member_remove(request, pk):
    membership = selectors.membership_get(user=request.user, pk=pk)
    organization_id = membership.organization_id
    try:
        services.remove_member(membership=membership, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("members", pk=organization_id)
    if membership.user_id == request.user.pk:
        messages.success(request, "You left the organization.")
        return redirect("dashboard")
    messages.success(request, f"{membership.user.email} removed.")
    return redirect("members", pk=organization_id)


@login_required
@require_POST
def invitation_revoke(request, pk):
    invitation = selectors.invitation_get(user=request.user, pk=pk)
    try:
        services.revoke_invitation(invitation=invitation, actor=request.user)
        messages.success(request, f"Invitation to {invitation.email} revoked.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("members", pk=invitation.organization_id)


@login_required
def invitation_accept(request, token):
    invitation = services.invitation_for_token(token)
    if request.method == "POST":
        try:
            membership = services.accept_invitation(secret=token, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"You joined {membership.organization}.")
            return redirect("organization_detail", pk=membership.organization_id)
    return render(request, "accounts/invitation_accept.html", {"invitation": invitation})


@login_required
def tokens(request):
    form = TokenForm(request.POST or None)
    secret = None
    max_days = services.staff_token_max_days(request.user)
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = services.create_access_token(actor=request.user,
                                                         **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            asked = form.cleaned_data["expires_in_days"]
            if max_days is not None and (asked is None or asked > max_days):
                messages.info(request, f"CB staff tokens live at most {max_days} days: this "
                                       f"one expires on {display_date(token.expires_at)}.")
            form = TokenForm()
    return render(request, "accounts/tokens.html", {
        "form": form, "secret": secret, "tokens": selectors.tokens_for_user(user=request.user),
        "staff_token_max_days": max_days,
    })


@login_required
@require_POST
def token_revoke(request, pk):
    token = selectors.token_get(user=request.user, pk=pk)
    services.revoke_access_token(token=token, actor=request.user)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("tokens")


@login_required
def my_declarations(request):
    """A CB staff member's declared client relationships, and a form to declare one
    (ISO/IEC 17021-1 §5.2): what the audit team and the decision check against. Clients
    have no such page (404)."""
    if not request.user.staff_roles_set:
        raise Http404("No such page")
    organizations = selectors.declarable_organizations(user=request.user)
    form = ClientRelationshipForm(request.POST or None, organizations=organizations)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.declare_client_relationship(user=request.user, actor=request.user,
                                                     **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, "Relationship declared.")
                return redirect("my_declarations")
        status = 422
    return render(request, "accounts/declarations.html", {
        "form": form,
        "relationships": selectors.client_relationships_for_user(user=request.user),
        "cooling_off_years": settings.IMPARTIALITY_COOLING_OFF_YEARS,
    }, status=status)
