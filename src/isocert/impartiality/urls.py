from django.urls import path

from . import views

# Safeguarding impartiality (ISO/IEC 17021-1 §5.2, §6.2): CB administrators and decision
# makers only.
urlpatterns = [
    path("impartiality/", views.register, name="impartiality_register"),
    path("impartiality/risks/new/", views.risk_create, name="impartiality_risk_create"),
    path("impartiality/risks/<int:pk>/", views.risk_detail, name="impartiality_risk_detail"),
    path("impartiality/risks/<int:pk>/edit/", views.risk_edit, name="impartiality_risk_edit"),
    path("impartiality/risks/<int:pk>/review/", views.risk_review,
         name="impartiality_risk_review"),
    path("impartiality/register-review/", views.register_review,
         name="impartiality_register_review"),
    path("impartiality/committee/", views.committee_members, name="impartiality_committee"),
    path("impartiality/committee/members/<int:pk>/edit/", views.member_edit,
         name="impartiality_member_edit"),
    path("impartiality/meetings/", views.meetings, name="impartiality_meetings"),
    path("impartiality/meetings/<int:pk>/", views.meeting_detail,
         name="impartiality_meeting_detail"),
    path("impartiality/meetings/<int:pk>/minutes/", views.minutes_download,
         name="impartiality_minutes_download"),
    path("impartiality/meetings/<int:pk>/<slug:action>/", views.meeting_action,
         name="impartiality_meeting_action"),
]
