"""Two migrations written at the same time from 0002: the late-entry justification and
the move of client relationships to accounts. Nothing to do but join them."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("audits", "0003_audit_late_entry_justification"),
        ("audits", "0003_client_relationships_to_accounts_declaration_parts"),
    ]

    operations = []
