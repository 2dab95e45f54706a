"""The ops queue finds a ticket by part of a replacement's tracking number: a trigram index on
UPPER(tracking_no), the expression Django's icontains compares. PostgreSQL only."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute('CREATE INDEX IF NOT EXISTS warehouse_outbound_tracking_no_trgm ON warehouse_outbound '
                              'USING gin ((UPPER("tracking_no"::text)) gin_trgm_ops)')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS warehouse_outbound_tracking_no_trgm")


class Migration(migrations.Migration):
    dependencies = [("warehouse", "0002_role_permissions")]
    operations = [migrations.RunPython(create, drop)]
