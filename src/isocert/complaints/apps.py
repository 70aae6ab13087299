from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "isocert.complaints"
    label = "complaints"
    verbose_name = "Complaints and appeals"

    def ready(self):
        from . import receivers  # noqa: F401  (connects the receivers)
