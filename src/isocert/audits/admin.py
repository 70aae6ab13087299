"""Auditor qualification profiles and declared client relationships are reference data the
CB's administrators keep in the Django admin; the programme's services read them."""

from django.contrib import admin

from .models import AuditorProfile, ClientRelationship


class ClientRelationshipInline(admin.TabularInline):
    model = ClientRelationship
    extra = 0
    autocomplete_fields = ("organization",)


@admin.register(AuditorProfile)
class AuditorProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "is_lead_auditor", "languages")
    list_filter = ("is_lead_auditor", "standards")
    search_fields = ("user__email", "user__full_name")
    filter_horizontal = ("standards", "sectors")
    autocomplete_fields = ("user",)
    inlines = [ClientRelationshipInline]


@admin.register(ClientRelationship)
class ClientRelationshipAdmin(admin.ModelAdmin):
    list_display = ("auditor", "organization", "kind", "start_date", "end_date")
    list_filter = ("kind",)
    search_fields = ("auditor__user__email", "organization__legal_name")
    autocomplete_fields = ("auditor", "organization")
