from django.apps import AppConfig


class ReadinessConfig(AppConfig):
    name = "isocert.readiness"
    label = "readiness"
    verbose_name = "Readiness: gap analysis and stage-1 readiness"
