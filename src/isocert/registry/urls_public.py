"""Public pages of the registry: verification and the directory (no log-in)."""

from django.urls import path

from . import views_public

urlpatterns = [
    path("verify/", views_public.verify_lookup, name="verify_lookup"),
    # A number or the QR code's public code; imported numbers may contain slashes.
    path("verify/<path:number>", views_public.verify_certificate, name="verify_certificate"),
    path("directory/", views_public.certificate_directory, name="certificate_directory"),
]
