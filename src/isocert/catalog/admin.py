from django.contrib import admin

from .models import Clause, Country, Sector, Standard


@admin.register(Standard)
class StandardAdmin(admin.ModelAdmin):
    list_display = ("code", "edition", "title", "data_version", "is_current")


@admin.register(Clause)
class ClauseAdmin(admin.ModelAdmin):
    list_display = ("standard", "number", "title", "group")
    list_filter = ("standard", "group")
    search_fields = ("number", "title")


admin.site.register(Sector)
admin.site.register(Country)
