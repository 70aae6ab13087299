from django.db import migrations


def load(apps, schema_editor):
    from isocert.catalog.loader import load_catalog

    load_catalog(apps.get_model)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
