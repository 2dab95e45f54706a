"""Roles by migration: what ops and finance may see in reasons, from the group alone (no per-user grants)."""

from django.db import migrations

from aftersales.permissions import grant_in_migration

GRANTS = {
    "ops": ["view_reason"],
    "finance": ["view_reason"],
}


def grant(apps, schema_editor):
    grant_in_migration(apps, GRANTS, app_label="reasons")


class Migration(migrations.Migration):
    dependencies = [("reasons", "0002_defaults"), ("aftersales", "0002_roles"), ("auth", "0012_alter_user_first_name_max_length"),
                    ("contenttypes", "0002_remove_content_type_name")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
