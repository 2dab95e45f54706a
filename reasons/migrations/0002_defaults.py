from django.db import migrations

TYPES = ("refund_only", "return_refund", "exchange")


def install_defaults(apps, schema_editor):
    from reasons.defaults import DEFAULT_REASONS

    Reason = apps.get_model("reasons", "Reason")
    # The model this runs with: the historical one here (a column per type), the current one when the tests
    # install the reference data again after a flush (one ticket_types list, since 0006).
    one_field = "ticket_types" in {field.name for field in Reason._meta.get_fields()}
    for order, row in enumerate(DEFAULT_REASONS, start=1):
        code, name, name_zh, group, quality, responsible, types, fresh, general, photos = row
        applies = ({"ticket_types": [t for t in TYPES if t in types]} if one_field else {
            "for_refund_only": "refund_only" in types, "for_return_refund": "return_refund" in types,
            "for_exchange": "exchange" in types})
        Reason.objects.get_or_create(code=code, defaults={
            "name": name, "name_zh": name_zh, "group": group, "is_quality_issue": quality,
            "responsible": responsible, **applies,
            "for_fresh": fresh, "for_general": general, "requires_photos": photos,
            "display_order": order * 10,
        })


class Migration(migrations.Migration):
    dependencies = [("reasons", "0001_initial")]
    operations = [migrations.RunPython(install_defaults, migrations.RunPython.noop)]
