from django.apps import AppConfig


class AuditsConfig(AppConfig):
    name = "isocert.audits"
    label = "audits"
    verbose_name = "Certification audits"

    def ready(self) -> None:
        # The conduct prepares a started audit's checklist (programme.signals.audit_started).
        from .conduct import receivers  # noqa: F401
