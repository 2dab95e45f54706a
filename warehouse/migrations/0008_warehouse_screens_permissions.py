"""Roles by migration: the warehouse works its queues (arrivals, dispatch, shipments to hold), reads the
stock ledger and keeps the registers; ops and finance read what concerns them (issue #12)."""

from django.db import migrations

from aftersales.permissions import grant_in_migration

REGISTERS = ["view_wrongshipment", "view_lostparcel"]
GRANTS = {
    "warehouse": ["view_arrivalticket", "view_intercept", "view_stockbalance", "view_stockmovement",
                  "add_wrongshipment", "add_lostparcel", *REGISTERS],
    "ops": ["view_intercept", "view_stockbalance", "view_stockmovement", "add_wrongshipment", "add_lostparcel",
            *REGISTERS],
    "finance": REGISTERS,
}


def grant(apps, schema_editor):
    grant_in_migration(apps, GRANTS, app_label="warehouse")


class Migration(migrations.Migration):
    dependencies = [("warehouse", "0007_inspection_intercepts_ledger_registers"),
                    ("warehouse", "0006_outbound_request_permissions")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
