from django.apps import AppConfig


class EnergyConfig(AppConfig):
    name = "isocert.energy"
    label = "energy"
    verbose_name = "ISO 50001 energy performance"
