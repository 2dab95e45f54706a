"""Roles by migration: ops and the warehouse see the outbound requests (re-shipped parts to send)."""

from django.db import migrations

from aftersales.permissions import grant_in_migration

GRANTS = {
    "ops": ["view_outboundrequest", "view_outboundrequestline"],
    "warehouse": ["view_outboundrequest", "view_outboundrequestline"],
}


def grant(apps, schema_editor):
    grant_in_migration(apps, GRANTS, app_label="warehouse")


class Migration(migrations.Migration):
    dependencies = [("warehouse", "0005_outbound_requests"), ("warehouse", "0002_role_permissions")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
