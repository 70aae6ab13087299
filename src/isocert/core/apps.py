from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "isocert.core"
    label = "core"
    verbose_name = "Core"
