"""The register and the committee in the Django admin, to look up only: every write goes
through the pages or the API, whose services keep the status tables and the audit trail."""

from django.contrib import admin

from .models import (
    CommitteeMeeting,
    CommitteeMember,
    ImpartialityRisk,
    RegisterReview,
    RiskReview,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImpartialityRisk)
class ImpartialityRiskAdmin(ReadOnlyAdmin):
    list_display = ("reference", "threat", "source", "status", "owner", "next_review_on")
    list_filter = ("status", "threat")
    search_fields = ("reference", "source", "description")


@admin.register(RiskReview)
class RiskReviewAdmin(ReadOnlyAdmin):
    list_display = ("risk", "reviewed_on", "reviewer", "outcome")


@admin.register(RegisterReview)
class RegisterReviewAdmin(ReadOnlyAdmin):
    list_display = ("reviewed_on", "reviewed_by", "meeting", "open_risks")


@admin.register(CommitteeMember)
class CommitteeMemberAdmin(ReadOnlyAdmin):
    list_display = ("name", "organization", "interest", "appointed_on", "active")
    list_filter = ("interest", "active")


@admin.register(CommitteeMeeting)
class CommitteeMeetingAdmin(ReadOnlyAdmin):
    list_display = ("date", "status", "predominant_interest")
    list_filter = ("status",)
