"""URL patterns of the audit conduct (included by ``audits/urls.py``)."""

from django.urls import path

from . import views

urlpatterns = [
    # The auditor's conduct page: checklist, records, findings (CB side only).
    path("audits/<int:pk>/conduct/", views.audit_conduct, name="audit_conduct"),
    path("audit-coverage/<int:pk>/", views.audit_coverage_update, name="audit_coverage_update"),
    path("audits/<int:pk>/conduct/records/", views.audit_record_add, name="audit_record_add"),
    path("audit-records/<int:pk>/download/", views.audit_record_download,
         name="audit_record_download"),
    path("audits/<int:pk>/conduct/findings/", views.audit_finding_add, name="audit_finding_add"),
    path("audits/<int:pk>/conduct/close/", views.audit_close, name="audit_close"),
    path("findings/<int:pk>/edit/", views.finding_edit, name="finding_edit"),
    path("findings/<int:pk>/delete/", views.finding_delete, name="finding_delete"),
    # Findings and corrective actions (client and CB).
    path("audits/<int:pk>/findings/", views.audit_findings, name="audit_findings"),
    path("findings/<int:pk>/", views.finding_detail, name="finding_detail"),
    path("findings/<int:pk>/answer/", views.finding_answer, name="finding_answer"),
    path("findings/<int:pk>/review/", views.finding_review, name="finding_review"),
    path("ca-responses/<int:pk>/evidence/", views.ca_evidence_download,
         name="ca_evidence_download"),
    # The report and its revisions.
    path("audits/<int:pk>/report/", views.audit_report, name="audit_report"),
    path("audits/<int:pk>/report/issue/", views.audit_report_issue, name="audit_report_issue"),
    path("audit-reports/<int:pk>/", views.audit_report_revision, name="audit_report_revision"),
    path("audit-reports/<int:pk>/pdf/", views.audit_report_pdf, name="audit_report_pdf"),
]
