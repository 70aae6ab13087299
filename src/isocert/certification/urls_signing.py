from django.urls import path

from . import views_signing

urlpatterns = [
    path(".well-known/isocert-signing-key", views_signing.signing_key, name="signing_key"),
]
