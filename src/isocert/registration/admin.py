from django.contrib import admin

from isocert.accounts.admin import ReadOnlyMixin
from isocert.core.admin_inlines import TabularInline

from .models import Application, ApplicationDocument, ApplicationStandard, PreliminaryAssessment


class StandardLineInline(ReadOnlyMixin, TabularInline):
    model = ApplicationStandard


class DocumentInline(ReadOnlyMixin, TabularInline):
    model = ApplicationDocument
    fields = ("original_name", "kind", "uploaded_at")
    readonly_fields = fields


@admin.register(Application)
class ApplicationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("reference", "organization", "status", "registration_number", "submitted_at")
    list_filter = ("status",)
    search_fields = ("organization__legal_name", "registration_number")
    inlines = [StandardLineInline, DocumentInline]


@admin.register(PreliminaryAssessment)
class PreliminaryAssessmentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("application", "impartiality_risk", "assessed_by", "assessed_at")
