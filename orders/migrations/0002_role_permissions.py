"""Roles by migration: what ops, finance and the warehouse may see in orders, from the group alone (no per-user grants)."""

from django.db import migrations

from aftersales.permissions import grant_in_migration

GRANTS = {
    "ops": ["view_order", "view_orderline", "view_buyer", "view_shop"],
    "finance": ["view_order", "view_orderline", "view_buyer", "view_shop"],
    "warehouse": ["view_order", "view_orderline", "view_buyer", "view_shop"],
}


def grant(apps, schema_editor):
    grant_in_migration(apps, GRANTS, app_label="orders")


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial"), ("aftersales", "0002_roles"), ("auth", "0012_alter_user_first_name_max_length"),
                    ("contenttypes", "0002_remove_content_type_name")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
