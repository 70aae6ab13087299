from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Invitation, Membership, Organization, PersonalAccessToken, Site, StaffRole, User


class ReadOnlyMixin:
    """Domain objects change through the portal's services, which audit-trail them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StaffRoleInline(ReadOnlyMixin, admin.TabularInline):
    model = StaffRole
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_staff")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password", "full_name")}),
        ("Status", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    inlines = [StaffRoleInline]


class SiteInline(ReadOnlyMixin, admin.TabularInline):
    model = Site
    extra = 0


class MembershipInline(ReadOnlyMixin, admin.TabularInline):
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
