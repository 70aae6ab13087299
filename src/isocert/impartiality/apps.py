from django.apps import AppConfig


class ImpartialityConfig(AppConfig):
    name = "isocert.impartiality"
    label = "impartiality"
    verbose_name = "Safeguarding impartiality"

    def ready(self):
        from . import receivers  # noqa: F401  (connects the receivers)
