from django.apps import AppConfig


class ImprovementConfig(AppConfig):
    name = "isocert.improvement"
    label = "improvement"
    verbose_name = "Implementation, internal audits and management reviews"

    def ready(self):
        from . import receivers  # noqa: F401  (connects the receivers)
