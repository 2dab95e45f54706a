"""The deadline policies (issue #13): customer-service hours, whether the review SLA counts only them, and
whether a late refund is paid automatically. Installed like every default (the rows missing from
policies.DEFAULTS). `order_extension_days` goes: the order's transaction time belongs to the shop's order
system, which this back office mirrors and does not run, so nothing here could read it."""

import importlib

from django.db import migrations, models

defaults = importlib.import_module("policies.migrations.0002_defaults")


UNITS = [("minutes", "minutes"), ("hours", "hours"), ("days", "days"), ("percent", "percent"), ("amount", "amount"),
         ("count", "count"), ("switch", "1 = yes, 0 = no")]


def drop_unread(apps, schema_editor):
    apps.get_model("policies", "Policy").objects.filter(key="order_extension_days").delete()


class Migration(migrations.Migration):
    dependencies = [("policies", "0006_finance_defaults")]
    operations = [
        *[migrations.AlterField(model_name=model, name="unit", field=models.CharField(choices=UNITS, max_length=16,
                                                                                     verbose_name="unit"))
          for model in ("policy", "policyhistory")],
        migrations.RunPython(defaults.install_defaults, migrations.RunPython.noop),
        migrations.RunPython(drop_unread, migrations.RunPython.noop),
    ]
