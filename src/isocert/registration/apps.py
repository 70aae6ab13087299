from django.apps import AppConfig


class RegistrationConfig(AppConfig):
    name = "isocert.registration"
    label = "registration"
    verbose_name = "Registration"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (a missing generated PDF is rendered again)
