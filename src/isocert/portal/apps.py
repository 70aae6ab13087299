from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "isocert.portal"
    label = "portal"
    verbose_name = "Portal"
