"""The register and the committee in the Django admin, to look up only: every write goes
through the pages or the API, whose services keep the status tables and the audit trail."""

from django.contrib import admin

from isocert.accounts.admin import ReadOnlyMixin

from .models import (
    CommitteeMeeting,
    CommitteeMember,
    ImpartialityRisk,
    RegisterReview,
    RiskReview,
)


@admin.register(ImpartialityRisk)
class ImpartialityRiskAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("reference", "threat", "source", "status", "owner", "next_review_on")
    list_filter = ("status", "threat")
    search_fields = ("reference", "source", "description")


@admin.register(RiskReview)
class RiskReviewAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("risk", "reviewed_on", "reviewer", "outcome")


@admin.register(RegisterReview)
class RegisterReviewAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("reviewed_on", "reviewed_by", "meeting", "open_risks")


@admin.register(CommitteeMember)
class CommitteeMemberAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "organization", "interest", "appointed_on", "active")
    list_filter = ("interest", "active")


@admin.register(CommitteeMeeting)
class CommitteeMeetingAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("date", "status", "predominant_interest")
    list_filter = ("status",)
