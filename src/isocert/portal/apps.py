from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "isocert.portal"
    label = "portal"
    verbose_name = "Portal"

    def ready(self):
        from . import receivers  # noqa: F401  (connects the receivers)
