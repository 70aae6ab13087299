"""CertSearch imports, exports and the name vocabulary moved to the ``registry`` app with
their tables (``registry.0001_initial``): forgotten here, state only — no table changes.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('certification', '0009_sqlite_certificate_triggers'),
        ('registry', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[
            migrations.RemoveField(
                model_name='certificateimport',
                name='created_by',
            ),
            migrations.RemoveField(
                model_name='certificateimport',
                name='file',
            ),
            migrations.DeleteModel(
                name='NameWord',
            ),
            migrations.RemoveField(
                model_name='registryexport',
                name='created_by',
            ),
            migrations.RemoveField(
                model_name='registryexport',
                name='file',
            ),
            migrations.DeleteModel(
                name='CertificateImport',
            ),
            migrations.DeleteModel(
                name='RegistryExport',
            ),
        ]),
    ]
