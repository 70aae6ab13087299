"""Sites gain their own country (printed per site on the certificate, ISO/IEC 17021-1
§8.2.2); existing sites take their organization's."""

import django.db.models.deletion
from django.db import migrations, models


def organization_country(apps, schema_editor):
    Site = apps.get_model("accounts", "Site")
    Organization = apps.get_model("accounts", "Organization")
    for organization_id, country_id in Organization.objects.values_list("pk", "country_id"):
        Site.objects.filter(organization_id=organization_id).update(country_id=country_id)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_site_city_site_postcode"),
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="site",
            name="country",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="catalog.country",
                                    help_text="Default: the organization's country."),
        ),
        migrations.RunPython(organization_country, migrations.RunPython.noop),
    ]
