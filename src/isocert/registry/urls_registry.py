"""CB staff pages of the registry: IAF CertSearch exports and bulk imports."""

from django.urls import path

from . import views_registry as views

urlpatterns = [
    path("cb/registry/", views.registry_home, name="registry_home"),
    path("cb/registry/exports/", views.registry_exports_table, name="registry_exports_table"),
    path("cb/registry/exports/new/", views.registry_export_create, name="registry_export_create"),
    path("cb/registry/exports/<int:export_id>/download/", views.registry_export_download,
         name="registry_export_download"),
    path("cb/registry/exports/<int:export_id>/retry/", views.registry_export_retry,
         name="registry_export_retry"),
    path("cb/registry/imports/", views.registry_imports, name="registry_imports"),
    path("cb/registry/imports/<int:import_id>/", views.registry_import_detail,
         name="registry_import_detail"),
    path("cb/registry/imports/<int:import_id>/progress/", views.registry_import_progress,
         name="registry_import_progress"),
    path("cb/registry/imports/<int:import_id>/errors.csv", views.registry_import_errors,
         name="registry_import_errors"),
    path("cb/registry/imports/<int:import_id>/retry/", views.registry_import_retry,
         name="registry_import_retry"),
]
