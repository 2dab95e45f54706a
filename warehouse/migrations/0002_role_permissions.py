"""Roles by migration: what ops and the warehouse may see in warehouse, from the group alone (no per-user grants)."""

from django.db import migrations

from aftersales.permissions import grant_in_migration

GRANTS = {
    "ops": ["view_inbound", "view_inboundline", "view_outbound", "view_outboundline"],
    "warehouse": ["view_inbound", "view_inboundline", "view_outbound", "view_outboundline"],
}


def grant(apps, schema_editor):
    grant_in_migration(apps, GRANTS, app_label="warehouse")


class Migration(migrations.Migration):
    dependencies = [("warehouse", "0001_initial"), ("aftersales", "0002_roles"), ("auth", "0012_alter_user_first_name_max_length"),
                    ("contenttypes", "0002_remove_content_type_name")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
