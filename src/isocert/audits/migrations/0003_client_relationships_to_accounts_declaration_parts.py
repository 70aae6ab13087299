"""Client relationships belong to the person, not the auditor profile: the rows move to
``accounts.ClientRelationship`` (0005 there), keyed by the profile's user, so a decision
maker or reviewer who is no auditor can declare them too (ISO/IEC 17021-1 §5.2).

The impartiality declaration gains its parts: the tick that no threat exists, or the
threat and its safeguard. Declarations signed before carried the standard text, which
says no threat exists: they are marked so."""

from django.db import migrations, models


def move_relationships(apps, schema_editor):
    Old = apps.get_model("audits", "ClientRelationship")
    New = apps.get_model("accounts", "ClientRelationship")
    New.objects.bulk_create([
        New(user_id=row.auditor.user_id, organization_id=row.organization_id, kind=row.kind,
            start_date=row.start_date, end_date=row.end_date, notes=row.notes)
        for row in Old.objects.select_related("auditor").order_by("pk")])


def move_relationships_back(apps, schema_editor):
    # Only people with an auditor profile had somewhere to keep them before.
    Old = apps.get_model("audits", "ClientRelationship")
    New = apps.get_model("accounts", "ClientRelationship")
    AuditorProfile = apps.get_model("audits", "AuditorProfile")
    profiles = dict(AuditorProfile.objects.values_list("user_id", "pk"))
    Old.objects.bulk_create([
        Old(auditor_id=profiles[row.user_id], organization_id=row.organization_id,
            kind=row.kind, start_date=row.start_date, end_date=row.end_date, notes=row.notes)
        for row in New.objects.order_by("pk") if row.user_id in profiles])


def mark_signed_declarations(apps, schema_editor):
    TeamMember = apps.get_model("audits", "TeamMember")
    TeamMember.objects.filter(impartiality_declared_at__isnull=False).update(no_threat=True)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0005_client_relationship_decision_maker_profile"),
        ("audits", "0002_audit_cancellation_plan_revision"),
    ]

    operations = [
        migrations.RunPython(move_relationships, move_relationships_back),
        migrations.DeleteModel(name="ClientRelationship"),
        migrations.AddField(
            model_name="teammember",
            name="no_threat",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="teammember",
            name="threat",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="teammember",
            name="safeguard",
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(mark_signed_declarations, migrations.RunPython.noop),
    ]
