from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "isocert.catalog"
    label = "catalog"
    verbose_name = "Catalog"
