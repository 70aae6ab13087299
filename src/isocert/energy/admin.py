from django.contrib import admin

from isocert.core.admin_inlines import TabularInline

from .models import CarrierUnit, EnergyCarrier


class CarrierUnitInline(TabularInline):
    model = CarrierUnit
    extra = 1


@admin.register(EnergyCarrier)
class EnergyCarrierAdmin(admin.ModelAdmin):
    """The CB's table of energy carriers and units (loaded from energy/data/carriers.json)."""

    list_display = ("name", "code", "position")
    search_fields = ("name", "code")
    inlines = [CarrierUnitInline]
