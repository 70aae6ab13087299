"""Auditor qualification profiles are reference data the CB's administrators keep in the
Django admin; the programme's services read them. Every change is audit-trailed with the
acting administrator (``AuditedAdminMixin``). Declared client relationships belong to the
person, not the profile: they are kept in the accounts app's admin."""

from django.contrib import admin

from isocert.accounts.admin_audit import AuditedAdminMixin

from .models import AuditorProfile


@admin.register(AuditorProfile)
class AuditorProfileAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "is_lead_auditor", "languages")
    list_filter = ("is_lead_auditor", "standards")
    search_fields = ("user__email", "user__full_name")
    filter_horizontal = ("standards", "sectors")
    autocomplete_fields = ("user",)
    audit_action = "audits.auditor_profile"
    audit_fields = ("user", "is_lead_auditor", "languages", "standards", "sectors")
