from django.urls import path

from . import views

urlpatterns = [
    # Implementation actions
    path("organizations/<int:pk>/actions/", views.action_list, name="action_list"),
    path("organizations/<int:pk>/actions/board/", views.action_board, name="action_board"),
    path("organizations/<int:pk>/actions/new/", views.action_create, name="action_create"),
    path("actions/<int:pk>/", views.action_detail, name="action_detail"),
    path("actions/<int:pk>/edit/", views.action_edit, name="action_edit"),
    path("actions/<int:pk>/notes/", views.action_note_add, name="action_note_add"),
    path("actions/<int:pk>/evidence/", views.action_evidence_add, name="action_evidence_add"),
    path("actions/<int:pk>/transition/<slug:transition>/", views.action_transition,
         name="action_transition"),
    path("action-evidence/<int:pk>/download/", views.action_evidence_download,
         name="action_evidence_download"),
    # Internal audits
    path("organizations/<int:pk>/internal-audits/", views.internal_audit_list,
         name="internal_audit_list"),
    path("organizations/<int:pk>/internal-audits/new/", views.internal_audit_create,
         name="internal_audit_create"),
    path("internal-audits/<int:pk>/", views.internal_audit_detail, name="internal_audit_detail"),
    path("internal-audits/<int:pk>/findings/", views.internal_finding_add,
         name="internal_finding_add"),
    path("internal-audits/<int:pk>/complete/", views.internal_audit_complete,
         name="internal_audit_complete"),
    path("checklist-items/<int:pk>/", views.checklist_item_update, name="checklist_item_update"),
    path("internal-findings/<int:pk>/file/", views.internal_finding_download,
         name="internal_finding_download"),
    # Management reviews
    path("organizations/<int:pk>/management-reviews/", views.management_review_list,
         name="management_review_list"),
    path("organizations/<int:pk>/management-reviews/new/", views.management_review_create,
         name="management_review_create"),
    path("management-reviews/<int:pk>/", views.management_review_detail,
         name="management_review_detail"),
    path("management-reviews/<int:pk>/inputs/", views.management_review_inputs,
         name="management_review_inputs"),
    path("management-reviews/<int:pk>/decisions/", views.management_review_decisions,
         name="management_review_decisions"),
    path("management-reviews/<int:pk>/actions/", views.management_review_action_add,
         name="management_review_action_add"),
    # The stage-1 verdict
    path("organizations/<int:pk>/readiness/", views.readiness, name="readiness"),
]
