"""The registry's models, moved from ``certification`` with their tables: state only.

The tables (``certification_certificateimport``, ``certification_registryexport``,
``certification_nameword``) and the SQLite triggers and PostgreSQL index around them were
made by certification's migrations 0001–0009; this migration creates nothing in the
database, and ``certification.0010_registry_models_moved`` forgets them there.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('certification', '0009_sqlite_certificate_triggers'),
        ('core', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[
            migrations.CreateModel(
                name='NameWord',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('word', models.CharField(max_length=200, unique=True)),
                ],
                options={
                    'db_table': 'certification_nameword',
                },
            ),
            migrations.CreateModel(
                name='CertificateImport',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('file_name', models.CharField(max_length=255)),
                    ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Checking and importing'), ('done', 'Imported'), ('failed', 'Failed: nothing was imported')], default='queued', max_length=8)),
                    ('total_rows', models.PositiveIntegerField(default=0)),
                    ('processed_rows', models.PositiveIntegerField(default=0)),
                    ('imported_rows', models.PositiveIntegerField(default=0)),
                    ('errors', models.JSONField(blank=True, default=list, help_text='[{line, field, message}], the first 1,000.')),
                    ('error_count', models.PositiveIntegerField(default=0)),
                    ('attempt', models.PositiveIntegerField(default=1, help_text='1, and one more per retry.')),
                    ('heartbeat_at', models.DateTimeField(blank=True, help_text='When the running attempt last showed progress.', null=True)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('finished_at', models.DateTimeField(blank=True, null=True)),
                    ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('file', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.storedfile')),
                ],
                options={
                    'db_table': 'certification_certificateimport',
                    'ordering': ['-created_at'],
                },
            ),
            migrations.CreateModel(
                name='RegistryExport',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('format', models.CharField(choices=[('xlsx', 'Excel template'), ('csv', 'CSV')], max_length=4)),
                    ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Being prepared'), ('done', 'Ready'), ('failed', 'Failed')], default='queued', max_length=8)),
                    ('total_rows', models.PositiveIntegerField(default=0, help_text='Certificates to write.')),
                    ('rows', models.PositiveIntegerField(default=0, help_text='Certificates written so far.')),
                    ('error', models.TextField(blank=True)),
                    ('attempt', models.PositiveIntegerField(default=1, help_text='1, and one more per retry.')),
                    ('heartbeat_at', models.DateTimeField(blank=True, help_text='When the running attempt last showed progress.', null=True)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('finished_at', models.DateTimeField(blank=True, null=True)),
                    ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('file', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.storedfile')),
                ],
                options={
                    'db_table': 'certification_registryexport',
                    'ordering': ['-created_at'],
                },
            ),
        ]),
    ]
