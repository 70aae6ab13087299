from django.urls import path

from . import views

urlpatterns = [
    path("organizations/<int:pk>/gap-analysis/", views.assessment_list,
         name="gap_assessment_list"),
    path("organizations/<int:pk>/gap-analysis/start/", views.assessment_start,
         name="gap_assessment_start"),
    path("gap-analysis/<int:pk>/", views.assessment_detail, name="gap_assessment_detail"),
    path("gap-analysis/<int:pk>/edit/", views.assessment_edit_rows,
         name="gap_assessment_edit_rows"),
    path("gap-analysis/<int:pk>/freeze/", views.assessment_freeze, name="gap_assessment_freeze"),
    path("gap-analysis/<int:pk>/new-version/", views.assessment_new_version,
         name="gap_assessment_new_version"),
    path("gap-analysis/<int:pk>/carry/", views.assessment_carry, name="gap_assessment_carry"),
    path("gap-analysis/<int:pk>/compare/", views.assessment_compare,
         name="gap_assessment_compare"),
    path("gap-analysis/<int:pk>/energy/", views.energy_facts, name="gap_energy_facts"),
    path("gap-analysis/<int:pk>/report.pdf", views.report_pdf, name="gap_report_pdf"),
    path("gap-analysis/<int:pk>/report.xlsx", views.report_xlsx, name="gap_report_xlsx"),
    path("gap-items/<int:pk>/", views.item_edit, name="gap_item_edit"),
    path("gap-items/<int:pk>/evidence/", views.evidence_add, name="gap_evidence_add"),
    path("gap-items/<int:pk>/mirror/", views.item_mirror, name="gap_item_mirror"),
    path("gap-evidence/<int:pk>/download/", views.evidence_download,
         name="gap_evidence_download"),
    path("gap-evidence/<int:pk>/delete/", views.evidence_delete, name="gap_evidence_delete"),
    path("organizations/<int:pk>/readiness/share/", views.readiness_share,
         name="readiness_share"),
]
