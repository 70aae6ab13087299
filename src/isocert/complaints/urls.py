from django.urls import path

from . import views, views_appeals

urlpatterns = [
    # Complaints (ISO/IEC 17021-1 §9.8)
    path("complaints/", views.complaint_public, name="complaint_public"),
    path("complaints/<int:pk>/", views.complaint_client, name="complaint_client"),
    path("cb/complaints/", views.complaint_list, name="complaint_list"),
    path("cb/complaints/<int:pk>/", views.complaint_detail, name="complaint_detail"),
    path("cb/complaints/<int:pk>/<slug:action>/", views.complaint_action,
         name="complaint_action"),
    path("complaint-attachments/<int:pk>/download/", views.complaint_attachment_download,
         name="complaint_attachment_download"),
    # Appeals (§9.7)
    path("appeals/", views_appeals.appeal_list, name="appeal_list"),
    path("decisions/<int:pk>/appeal/", views_appeals.appeal_decision, name="appeal_decision"),
    path("certificates/<int:pk>/appeal/", views_appeals.appeal_certificate,
         name="appeal_certificate"),
    path("findings/<int:pk>/appeal/", views_appeals.appeal_finding, name="appeal_finding"),
    path("appeals/<int:pk>/", views_appeals.appeal_detail, name="appeal_detail"),
    path("appeals/<int:pk>/<slug:action>/", views_appeals.appeal_action, name="appeal_action"),
    path("appeal-attachments/<int:pk>/download/", views_appeals.appeal_attachment_download,
         name="appeal_attachment_download"),
]
