from django.apps import AppConfig


class AuditsConfig(AppConfig):
    name = "isocert.audits"
    label = "audits"
    verbose_name = "Certification audits"
