"""Auditor qualification profiles and declared client relationships are reference data the
CB's administrators keep in the Django admin; the programme's services read them. Every
change is audit-trailed with the acting administrator (``AuditedAdminMixin``)."""

from django.contrib import admin

from isocert.accounts.admin_audit import AuditedAdminMixin

from .models import AuditorProfile, ClientRelationship


class ClientRelationshipInline(admin.TabularInline):
    model = ClientRelationship
    extra = 0
    autocomplete_fields = ("organization",)


@admin.register(AuditorProfile)
class AuditorProfileAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "is_lead_auditor", "languages")
    list_filter = ("is_lead_auditor", "standards")
    search_fields = ("user__email", "user__full_name")
    filter_horizontal = ("standards", "sectors")
    autocomplete_fields = ("user",)
    inlines = [ClientRelationshipInline]
    audit_action = "audits.auditor_profile"
    audit_fields = ("user", "is_lead_auditor", "languages", "standards", "sectors")

    def audit_snapshot(self, obj) -> dict:
        # The inline's declared relationships belong to the profile's record.
        return {**super().audit_snapshot(obj), "relationships": [
            {"organization": str(r.organization), "kind": r.kind,
             "start_date": r.start_date, "end_date": r.end_date}
            for r in obj.relationships.select_related("organization").order_by("pk")]}


@admin.register(ClientRelationship)
class ClientRelationshipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_action = "audits.client_relationship"
    audit_fields = ("auditor", "organization", "kind", "start_date", "end_date", "notes")
    list_display = ("auditor", "organization", "kind", "start_date", "end_date")
    list_filter = ("kind",)
    search_fields = ("auditor__user__email", "organization__legal_name")
    autocomplete_fields = ("auditor", "organization")
