from django.apps import AppConfig


class ReadinessConfig(AppConfig):
    name = "isocert.readiness"
    label = "readiness"
    verbose_name = "Readiness: gap analysis and sharing readiness"

    def ready(self):
        from . import receivers  # noqa: F401  (connects the receivers)
