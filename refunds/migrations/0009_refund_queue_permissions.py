"""Roles by migration: finance works the refund queue (a view of tickets), from the group alone."""

from django.db import migrations

from aftersales.permissions import grant_in_migration

GRANTS = {"finance": ["view_refundqueueticket", "view_refundline", "view_refundattempt"],
          "ops": ["view_refundline", "view_refundattempt"]}


def grant(apps, schema_editor):
    grant_in_migration(apps, GRANTS, app_label="refunds")


class Migration(migrations.Migration):
    dependencies = [("refunds", "0008_refund_queue"), ("refunds", "0004_role_permissions")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
