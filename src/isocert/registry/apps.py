from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "isocert.registry"
    label = "registry"
    verbose_name = "Public registry of certificates"

    def ready(self):
        from . import handlers  # noqa: F401 — connects the signals certification sends
