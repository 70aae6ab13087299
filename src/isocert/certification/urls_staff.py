"""URL patterns of the decision and certificate pages (CB staff and the client's members)."""

from django.urls import path

from . import views_editions
from . import views_staff as views

urlpatterns = [
    path("cb/decisions/", views.decision_queue, name="decision_queue"),
    path("cb/transfers/<int:pk>/", views.transfer_issue, name="transfer_issue"),
    path("cb/cycles/<int:pk>/decision/", views.cycle_decision, name="cycle_decision"),
    path("cb/transitions/", views_editions.edition_transitions, name="edition_transitions"),
    path("cb/transitions/<int:pk>/", views_editions.edition_transition_edit,
         name="edition_transition_edit"),
    path("certificates/", views.certificate_list, name="certificate_list"),
    path("certificates/<int:pk>/", views.certificate_detail, name="certificate_detail"),
    path("certificates/<int:pk>/suspend/", views.certificate_suspend, name="certificate_suspend"),
    path("certificates/<int:pk>/restore/", views.certificate_restore, name="certificate_restore"),
    path("certificates/<int:pk>/extend-suspension/", views.certificate_extend_suspension,
         name="certificate_extend_suspension"),
    path("certificates/<int:pk>/withdraw/", views.certificate_withdraw,
         name="certificate_withdraw"),
    path("certificates/revisions/<int:pk>/pdf/", views.certificate_revision_pdf,
         name="certificate_revision_pdf"),
]
