from django.contrib import admin

from .models import CarrierUnit, EnergyCarrier


class CarrierUnitInline(admin.TabularInline):
    model = CarrierUnit
    extra = 1


@admin.register(EnergyCarrier)
class EnergyCarrierAdmin(admin.ModelAdmin):
    """The CB's table of energy carriers and units (loaded from energy/data/carriers.json)."""

    list_display = ("name", "code", "position")
    search_fields = ("name", "code")
    inlines = [CarrierUnitInline]
