from django.db import migrations


def load(apps, schema_editor):
    from isocert.energy.loader import load_carriers

    load_carriers(apps.get_model)


class Migration(migrations.Migration):
    dependencies = [("energy", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
