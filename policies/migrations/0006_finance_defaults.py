"""The finance policies (issue #11): who may approve the refund of a claim they reviewed, and when the
money reaches the buyer. Installed like every default: the rows missing from policies.DEFAULTS."""

import importlib

from django.db import migrations

defaults = importlib.import_module("policies.migrations.0002_defaults")


class Migration(migrations.Migration):
    dependencies = [("policies", "0005_verbose_names")]
    operations = [migrations.RunPython(defaults.install_defaults, migrations.RunPython.noop)]
