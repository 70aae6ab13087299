from django.apps import AppConfig


class CertificationConfig(AppConfig):
    name = "isocert.certification"
    label = "certification"
    verbose_name = "Certification decisions and certificates"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (a missing generated PDF is rendered again)
