from django.db import migrations


def install_defaults(apps, schema_editor):
    from reasons.defaults import DEFAULT_REASONS

    Reason = apps.get_model("reasons", "Reason")
    for order, row in enumerate(DEFAULT_REASONS, start=1):
        code, name, name_zh, group, quality, responsible, types, fresh, general, photos = row
        Reason.objects.get_or_create(code=code, defaults={
            "name": name, "name_zh": name_zh, "group": group, "is_quality_issue": quality,
            "responsible": responsible, "for_refund_only": "refund_only" in types,
            "for_return_refund": "return_refund" in types, "for_exchange": "exchange" in types,
            "for_fresh": fresh, "for_general": general, "requires_photos": photos,
            "display_order": order * 10,
        })


class Migration(migrations.Migration):
    dependencies = [("reasons", "0001_initial")]
    operations = [migrations.RunPython(install_defaults, migrations.RunPython.noop)]
