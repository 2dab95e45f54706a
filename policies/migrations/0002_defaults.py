from django.db import migrations


def install_defaults(apps, schema_editor):
    from policies.models import DEFAULTS

    Policy = apps.get_model("policies", "Policy")
    for key, (value, unit, description, source) in DEFAULTS.items():
        Policy.objects.get_or_create(key=key, defaults={"value": value, "unit": unit,
                                                        "description": description, "source": source})


class Migration(migrations.Migration):
    dependencies = [("policies", "0001_initial")]
    operations = [migrations.RunPython(install_defaults, migrations.RunPython.noop)]
