from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from isocert.accounts import views as account_views
from isocert.catalog import views as catalog_views
from isocert.core import favicon, health
from isocert.portal import metrics as portal_metrics
from isocert.portal import views as portal_views
from isocert.portal.api import api
from isocert.registration import views as reg_views

# The admin has no log-in of its own: it sends people to the portal's log-in, which asks
# staff for their second factor (a password-only admin log-in was a bypass).
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", portal_views.landing, name="landing"),
    path("dashboard/", portal_views.dashboard, name="dashboard"),
    path("work/", portal_views.work_queue, name="work_queue"),
    path("cb/audit-trail/", portal_views.audit_trail, name="audit_trail"),
    path("audit-time/", catalog_views.audit_time_estimate, name="audit_time_estimate"),
    # Organizations, sites, members
    path("organizations/new/", account_views.organization_create, name="organization_create"),
    path("organizations/<int:pk>/", portal_views.organization_detail, name="organization_detail"),
    path("organizations/<int:pk>/edit/", account_views.organization_edit, name="organization_edit"),
    path("organizations/<int:pk>/sites/new/", account_views.site_create, name="site_create"),
    path("sites/<int:pk>/edit/", account_views.site_edit, name="site_edit"),
    path("sites/<int:pk>/delete/", account_views.site_delete, name="site_delete"),
    path("organizations/<int:pk>/members/", account_views.members, name="members"),
    path("memberships/<int:pk>/role/", account_views.member_role, name="member_role"),
    path("memberships/<int:pk>/remove/", account_views.member_remove, name="member_remove"),
    path("invitations/<int:pk>/revoke/", account_views.invitation_revoke, name="invitation_revoke"),
    path("invitations/accept/<str:token>/", account_views.invitation_accept,
         name="invitation_accept"),
    path("account/tokens/", account_views.tokens, name="tokens"),
    path("account/tokens/<int:pk>/revoke/", account_views.token_revoke, name="token_revoke"),
    path("account/declarations/", account_views.my_declarations, name="my_declarations"),
    # Applications
    path("organizations/<int:pk>/apply/", reg_views.application_create, name="application_create"),
    path("applications/<int:pk>/", reg_views.application_detail, name="application_detail"),
    path("applications/<int:pk>/edit/<slug:step>/", reg_views.application_edit,
         name="application_edit"),
    path("applications/<int:pk>/documents/", reg_views.document_upload, name="document_upload"),
    path("documents/<int:pk>/download/", reg_views.document_download, name="document_download"),
    path("documents/<int:pk>/delete/", reg_views.document_delete, name="document_delete"),
    path("applications/<int:pk>/<slug:action>/", reg_views.application_transition,
         name="application_transition"),
    path("review/", reg_views.review_queue, name="review_queue"),
    path("review/<int:pk>/", reg_views.review_detail, name="review_detail"),
    path("review/<int:pk>/assessment/", reg_views.review_assessment, name="review_assessment"),
    path("review/<int:pk>/transfer/", reg_views.review_transfer, name="review_transfer"),
    path("review/<int:pk>/transfer/conclude/", reg_views.review_transfer_conclude,
         name="review_transfer_conclude"),
    path("review/<int:pk>/audit-time/", reg_views.review_audit_time, name="review_audit_time"),
    path("review/<int:pk>/quotation/", reg_views.quotation_issue, name="quotation_issue"),
    path("quotations/<int:pk>/accept/", reg_views.quotation_accept, name="quotation_accept"),
    path("quotations/<int:pk>/pdf/", reg_views.quotation_pdf, name="quotation_pdf"),
    path("", include("isocert.readiness.urls")),
    path("", include("isocert.improvement.urls")),
    path("", include("isocert.audits.urls")),
    path("", include("isocert.certification.urls")),
    path("", include("isocert.registry.urls")),
    path("", include("isocert.energy.urls")),
    path("", include("isocert.complaints.urls")),
    path("", include("isocert.impartiality.urls")),
    # Platform: health for load balancers and monitoring (docs/deployment.md)
    path("health/live", health.live, name="health_live"),
    path("favicon.ico", favicon.favicon, name="favicon"),
    path("health/ready", health.ready, name="health_ready"),
    path("metrics", portal_metrics.metrics, name="metrics"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]

admin.site.site_header = "isocert — CB administration"
admin.site.site_title = "isocert admin"

# Error pages in the portal's layout (core/errorpages.py); a stored file missing from the
# storage says so on the 404. Under /api/ they answer in the API's error shape.
handler400 = "isocert.core.errorpages.bad_request"
handler403 = "isocert.core.errorpages.permission_denied"
handler404 = "isocert.core.errorpages.page_not_found"
handler500 = "isocert.core.errorpages.server_error"
