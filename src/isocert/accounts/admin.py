"""The Django admin for people and their privileges: every change is audit-trailed.

Staff roles change through the services (``grant_staff_role``/``revoke_staff_role``), and
added client relationships through ``declare_client_relationship``, which record their own
events; the other privilege fields (active, staff, superuser, groups, permissions),
passwords, groups, e-mail addresses and authenticators are recorded by
``AuditedAdminMixin``. allauth's and Django's own admins for those models are replaced.
"""

from allauth.account.admin import EmailAddressAdmin as BaseEmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.db import transaction

from isocert.core.admin_inlines import TabularInline
from isocert.core.errors import DomainError
from isocert.core.forms import add_domain_error

from .admin_audit import AuditedAdminMixin
from .models import (
    ClientRelationship,
    DecisionMakerProfile,
    Invitation,
    Membership,
    Organization,
    PersonalAccessToken,
    Site,
    StaffRole,
    User,
)
from .permissions import can
from .services import (
    check_client_relationship,
    declare_client_relationship,
    grant_staff_role,
    record_password_change,
    revoke_staff_role,
)
from .signals import client_relationship_ended

# A change of any of these is a change of what the person may do.
PRIVILEGE_FIELDS = {"is_active", "is_staff", "is_superuser", "groups", "user_permissions"}


# Registered by django.contrib.auth and allauth (listed before this app); replaced below.
admin.site.unregister((Authenticator, Group, EmailAddress))


def _is_cb_administrator(user) -> bool:
    return user.is_superuser or can(user, "administer")


class ReadOnlyMixin:
    """Domain objects change through the portal's services, which audit-trail them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StaffRoleInline(TabularInline):
    """Roles are added or removed (not edited in place); ``UserAdmin.save_formset`` hands
    each to the staff-role services, which also keep the administrator's admin flags."""

    model = StaffRole
    extra = 0
    fields = ("role", "granted_at")
    readonly_fields = ("granted_at",)

    def has_add_permission(self, request, obj=None):
        return _is_cb_administrator(request.user)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return _is_cb_administrator(request.user)


@admin.register(User)
class UserAdmin(AuditedAdminMixin, BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_staff")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password", "full_name")}),
        ("Status", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("last_login", "date_joined")
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    inlines = [StaffRoleInline]

    audit_action = "accounts.user"
    # Never the password: its change is recorded as such (``user_change_password``).
    audit_fields = ("email", "full_name", "is_active", "is_staff", "is_superuser", "groups",
                    "user_permissions")

    def audit_subject(self, obj) -> dict:
        return {"user": obj.email}

    def audit_verb(self, changes: dict) -> str:
        return "privileges_changed" if PRIVILEGE_FIELDS & set(changes) else "updated"

    def save_related(self, request, form, formsets, change):
        # The user's own fields are recorded before the staff-role inline runs: the
        # services record the roles, and the admin flags granting "administrator" sets.
        form.save_m2m()
        self.record_admin_save(request, form.instance)
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        if formset.model is not StaffRole:
            return super().save_formset(request, form, formset, change)
        user = form.instance
        added = formset.save(commit=False)  # collects deletions without deleting
        for staff_role in formset.deleted_objects:
            role = StaffRole.objects.get(pk=staff_role.pk).role
            revoke_staff_role(user=user, role=role, actor=request.user)
        for staff_role in added:
            grant_staff_role(user=user, role=staff_role.role, actor=request.user)

    def user_change_password(self, request, id, form_url=""):
        """Django's view, with the change recorded (never the hash) and the user's API
        tokens revoked in the same transaction."""
        with transaction.atomic():
            stored = User.objects.filter(pk=id).values_list("password", flat=True).first()
            response = super().user_change_password(request, id, form_url)
            user = User.objects.filter(pk=id).first()
            if user is not None and user.password != stored:
                record_password_change(user=user, actor=request.user, via="admin")
        return response


class SiteInline(ReadOnlyMixin, TabularInline):
    model = Site
    extra = 0


class MembershipInline(ReadOnlyMixin, TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Organization)
class OrganizationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("legal_name", "trading_name", "country", "created_at")
    search_fields = ("legal_name", "trading_name", "legal_identifier")
    list_filter = ("country",)
    inlines = [SiteInline, MembershipInline]


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("email", "organization", "role", "status", "created_at")
    exclude = ("token_hash",)


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "revoked_at")
    exclude = ("token_hash",)


@admin.register(Authenticator)
class AuthenticatorAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Seen and removed only (a lost phone): its data holds the TOTP secret and recovery
    codes, which no administrator may read or plant."""

    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type",)
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields
    audit_action = "mfa.authenticator"
    audit_fields = ("user", "type", "created_at")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Group)
class GroupAdmin(AuditedAdminMixin, BaseGroupAdmin):
    audit_action = "auth.group"
    audit_fields = ("name", "permissions")


@admin.register(EmailAddress)
class EmailAddressAdmin(AuditedAdminMixin, BaseEmailAddressAdmin):
    audit_action = "account.email_address"
    audit_fields = ("user", "email", "verified", "primary")

    @admin.action(description="Mark selected email addresses as verified")
    def make_verified(self, request, queryset):
        with transaction.atomic():
            unverified = list(queryset.filter(verified=False))
            super().make_verified(request, queryset)
            for address in unverified:
                address.refresh_from_db()
                if address.verified:
                    self._record(request, address, "updated",
                                 {"changes": {"verified": {"from": False, "to": True}}})


# --- impartiality and competence of the CB's people (ISO/IEC 17021-1 §5.2, §7.1.2, §7.2) ---

class ClientRelationshipAddForm(forms.ModelForm):
    """The admin's add form: ``declare_client_relationship``'s refusals (no CB role, a start
    in the future, an end before the start) show on the form (``check_client_relationship``)
    instead of failing the save."""

    actor: User | None = None   # set per request by ``ClientRelationshipAdmin.get_form``

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            check_client_relationship(
                user=cleaned["user"], organization_id=cleaned["organization"].pk,
                kind=cleaned["kind"], start_date=cleaned["start_date"],
                end_date=cleaned.get("end_date"), actor=self.actor)
        except DomainError as refused:
            add_domain_error(self, refused, {"organization_id": "organization"})
        return cleaned


@admin.register(ClientRelationship)
class ClientRelationshipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Relationships declared by, or recorded for, any CB staff member: added, corrected or
    ended here by an administrator; the audit team and the decision read them.

    An added relationship is declared through ``declare_client_relationship``, as on the
    person's page: its audit event, and the signal through which the impartiality register
    records the threat (ISO/IEC 17021-1 §5.2.3). An end date set here sends the "ended"
    signal, as ``end_client_relationship`` does."""

    audit_action = "accounts.client_relationship"
    audit_fields = ("user", "organization", "kind", "start_date", "end_date", "notes")
    list_display = ("user", "organization", "kind", "start_date", "end_date")
    list_filter = ("kind",)
    search_fields = ("user__email", "user__full_name", "organization__legal_name")
    autocomplete_fields = ("user", "organization")
    readonly_fields = ("declared_at",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = type("ClientRelationshipAddForm", (ClientRelationshipAddForm,),
                                  {"actor": request.user})
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        declared = declare_client_relationship(
            user=obj.user, organization_id=obj.organization_id, kind=obj.kind,
            start_date=obj.start_date, end_date=obj.end_date, notes=obj.notes,
            actor=request.user)
        # The admin goes on with the form's instance (its log entry, the redirect).
        obj.pk = declared.pk
        obj.refresh_from_db()
        obj._state.adding = False
        obj._declared = True

    def record_admin_save(self, request, obj) -> None:
        if getattr(obj, "_declared", False):
            return   # the service recorded ``accounts.client_relationship.declared``
        super().record_admin_save(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # An end date set here ends the relationship as ``end_client_relationship`` does:
        # the impartiality register marks the threat for review (accounts.signals).
        before = getattr(form.instance, "_audit_before", None) or {}
        if change and before.get("end_date") is None and form.instance.end_date is not None:
            client_relationship_ended.send(sender=ClientRelationship,
                                           relationship=form.instance, actor=request.user)


@admin.register(DecisionMakerProfile)
class DecisionMakerProfileAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """The standards each decision maker may decide on, kept like auditor qualifications."""

    list_display = ("user",)
    list_filter = ("standards",)
    search_fields = ("user__email", "user__full_name")
    filter_horizontal = ("standards",)
    autocomplete_fields = ("user",)
    audit_action = "accounts.decision_maker_profile"
    audit_fields = ("user", "standards", "notes")
