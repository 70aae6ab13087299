from django.contrib import admin

from . import selectors
from .models import Clause, Country, EnmsDayTableRow, Sector, Standard

ENMS_TABLE_DESCRIPTION = (
    "The ISO 50001 audit-day table of ISO 50003:2021 (Annex A): effective personnel bands "
    "and the audit days for high, medium and low energy complexity. Enter the figures from "
    "the certification body's licensed copy of ISO 50003:2021 — isocert ships none, because "
    "the standard's tables are copyrighted and must not be guessed. Until the table is "
    "entered, ISO 50001 estimates give no days and say the table is not configured. Bands "
    "must not overlap; leave \"effective personnel to\" empty on the last, open-ended band."
)


@admin.register(Standard)
class StandardAdmin(admin.ModelAdmin):
    list_display = ("code", "edition", "title", "data_version", "is_current")


@admin.register(Clause)
class ClauseAdmin(admin.ModelAdmin):
    list_display = ("standard", "number", "title", "group")
    list_filter = ("standard", "group")
    search_fields = ("number", "title")


@admin.register(EnmsDayTableRow)
class EnmsDayTableRowAdmin(admin.ModelAdmin):
    list_display = ("band_label", "high", "medium", "low")
    list_display_links = ("band_label",)
    change_list_template = "catalog/enms_day_table_change_list.html"
    fieldsets = [
        (None, {"fields": (("personnel_min", "personnel_max"), ("high", "medium", "low")),
                "description": ENMS_TABLE_DESCRIPTION}),
    ]

    @admin.display(description="effective personnel", ordering="personnel_min")
    def band_label(self, row):
        return row.band_label

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "description": ENMS_TABLE_DESCRIPTION,
                         "gaps": selectors.enms_days_table_gaps(),
                         "configured": selectors.enms_days_table() is not None}
        return super().changelist_view(request, extra_context=extra_context)


admin.site.register(Sector)
admin.site.register(Country)
