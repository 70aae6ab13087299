from django.urls import path

from . import views

urlpatterns = [
    path("organizations/<int:pk>/energy/", views.energy_home, name="energy_home"),
    path("organizations/<int:pk>/energy/setup/", views.energy_setup, name="energy_setup"),
    path("organizations/<int:pk>/energy/import/", views.energy_import, name="energy_import"),
    path("organizations/<int:pk>/energy/import/map/", views.energy_import_map,
         name="energy_import_map"),
    path("organizations/<int:pk>/energy/review/", views.energy_review, name="energy_review"),
    path("organizations/<int:pk>/energy/baselines/", views.baseline_list, name="baseline_list"),
    path("organizations/<int:pk>/energy/enpis/", views.enpi_list, name="enpi_list"),
    path("organizations/<int:pk>/energy/prefill-application/", views.energy_prefill,
         name="energy_prefill"),
    path("energy/meters/<int:pk>/edit/", views.meter_edit, name="meter_edit"),
    path("energy/meters/<int:pk>/delete/", views.meter_delete, name="meter_delete"),
    path("energy/variables/<int:pk>/edit/", views.variable_edit, name="variable_edit"),
    path("energy/variables/<int:pk>/delete/", views.variable_delete, name="variable_delete"),
    path("energy/uses/<int:pk>/edit/", views.energy_use_edit, name="energy_use_edit"),
    path("energy/uses/<int:pk>/delete/", views.energy_use_delete, name="energy_use_delete"),
    path("energy/imports/<int:pk>/undo/", views.import_undo, name="energy_import_undo"),
    path("energy/baselines/<int:pk>/", views.baseline_detail, name="baseline_detail"),
    path("energy/baselines/<int:pk>/delete/", views.baseline_delete, name="baseline_delete"),
    path("energy/reporting-periods/<int:pk>/", views.reporting_period_detail,
         name="reporting_period_detail"),
    path("energy/reporting-periods/<int:pk>/report.pdf", views.reporting_period_pdf,
         name="reporting_period_pdf"),
    path("energy/reporting-periods/<int:pk>/delete/", views.reporting_period_delete,
         name="reporting_period_delete"),
    path("energy/enpis/<int:pk>/delete/", views.enpi_delete, name="enpi_delete"),
]
