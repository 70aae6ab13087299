from django.apps import AppConfig


class RegistrationConfig(AppConfig):
    name = "isocert.registration"
    label = "registration"
    verbose_name = "Registration"
