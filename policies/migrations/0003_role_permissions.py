"""Roles by migration: what ops and finance may see in policies, from the group alone (no per-user grants)."""

from django.db import migrations

from aftersales.permissions import grant_in_migration

GRANTS = {
    "ops": ["view_policy"],
    "finance": ["view_policy"],
}


def grant(apps, schema_editor):
    grant_in_migration(apps, GRANTS, app_label="policies")


class Migration(migrations.Migration):
    dependencies = [("policies", "0002_defaults"), ("aftersales", "0002_roles"), ("auth", "0012_alter_user_first_name_max_length"),
                    ("contenttypes", "0002_remove_content_type_name")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
