from django.apps import AppConfig


class CertificationConfig(AppConfig):
    name = "isocert.certification"
    label = "certification"
    verbose_name = "Certification decisions and certificates"
