"""Roles by migration: what ops, finance and the warehouse may see (and ops and finance may decide) in tickets, from the group alone (no per-user grants)."""

from django.db import migrations

from aftersales.permissions import grant_in_migration

GRANTS = {
    "ops": ["view_ticket", "view_ticketline", "view_upload", "view_note", "view_timelineevent", "view_returnshipment", "review_ticket"],
    "finance": ["view_ticket", "view_ticketline", "view_upload", "view_note", "view_timelineevent", "view_returnshipment", "finance_ticket"],
    "warehouse": ["view_ticket", "view_ticketline", "view_upload", "view_note", "view_timelineevent", "view_returnshipment"],
}


def grant(apps, schema_editor):
    grant_in_migration(apps, GRANTS, app_label="tickets")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0003_refund_requested_at_event_kinds"), ("aftersales", "0002_roles"), ("auth", "0012_alter_user_first_name_max_length"),
                    ("contenttypes", "0002_remove_content_type_name")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
