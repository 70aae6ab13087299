"""URL patterns of the audit programme (included by ``audits/urls.py``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("applications/<int:pk>/cycle/start/", views.cycle_start, name="cycle_start"),
    path("audits/", views.audit_list, name="audit_list"),
    path("cycles/<int:pk>/", views.cycle_detail, name="cycle_detail"),
    path("cycles/<int:pk>/special-audit/", views.cycle_special_audit,
         name="cycle_special_audit"),
    path("audits/<int:pk>/planning/", views.audit_planning, name="audit_planning"),
    path("audits/<int:pk>/schedule/", views.audit_schedule, name="audit_schedule"),
    path("audits/<int:pk>/sites/", views.audit_sites, name="audit_sites"),
    path("audits/<int:pk>/team/", views.audit_team_add, name="audit_team_add"),
    path("audits/<int:pk>/late-stage2/", views.audit_late_stage2, name="audit_late_stage2"),
    path("audits/<int:pk>/plan/sessions/", views.plan_session_add, name="plan_session_add"),
    path("audits/<int:pk>/remote/", views.audit_remote, name="audit_remote"),
    path("audits/<int:pk>/remote/agree/", views.remote_agree, name="remote_agree"),
    path("audits/<int:pk>/plan/send/", views.plan_send, name="plan_send"),
    path("audits/<int:pk>/plan/revise/", views.plan_revise, name="plan_revise"),
    path("audits/<int:pk>/cancel/", views.audit_cancel, name="audit_cancel"),
    path("audits/<int:pk>/start/", views.audit_start, name="audit_start"),
    path("audits/<int:pk>/plan/", views.audit_plan_client, name="audit_plan_client"),
    path("audits/<int:pk>/plan/confirm/", views.plan_confirm, name="plan_confirm"),
    path("audits/<int:pk>/plan/request-changes/", views.plan_request_changes,
         name="plan_request_changes"),
    path("team-members/<int:pk>/remove/", views.team_member_remove, name="team_member_remove"),
    path("team-members/<int:pk>/declare/", views.team_member_declare,
         name="team_member_declare"),
    path("plan-sessions/<int:pk>/delete/", views.plan_session_delete,
         name="plan_session_delete"),
]
