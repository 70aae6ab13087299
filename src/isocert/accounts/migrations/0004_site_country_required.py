"""Every site has a country (filled from its organization by 0003). A migration of its own:
PostgreSQL refuses to alter a table whose rows the same transaction just updated under a
deferred foreign key."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_site_country"),
    ]

    operations = [
        migrations.AlterField(
            model_name="site",
            name="country",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="catalog.country",
                                    help_text="Default: the organization's country."),
        ),
    ]
