"""The couriers a Chinese shop ships with most, seeded (issue #21); administrators keep the list in the admin.
The warehouse reads it (the ship form's picker); changing it is an administrator's, or a warehouse lead's
given the permission."""

from django.db import migrations

from aftersales.permissions import grant_in_migration

COURIERS = [  # (code, name): the Chinese name first, as on the waybill, then the one staff abroad know
    ("SF", "顺丰速运 SF Express"),
    ("JD", "京东物流 JD Logistics"),
    ("ZTO", "中通快递 ZTO Express"),
    ("YTO", "圆通速递 YTO Express"),
    ("YUNDA", "韵达快递 Yunda Express"),
    ("STO", "申通快递 STO Express"),
    ("EMS", "中国邮政 EMS"),
    ("JT", "极兔速递 J&T Express"),
    ("DEPPON", "德邦快递 Deppon Express"),
]


def seed(apps, schema_editor):
    Courier = apps.get_model("warehouse", "Courier")
    for position, (code, name) in enumerate(COURIERS, start=1):
        Courier.objects.get_or_create(code=code, defaults={"name": name, "position": position * 10})
    grant_in_migration(apps, {"warehouse": ["view_courier"], "ops": ["view_courier"]}, app_label="warehouse")


def unseed(apps, schema_editor):
    apps.get_model("warehouse", "Courier").objects.filter(code__in=[code for code, _ in COURIERS]).delete()


class Migration(migrations.Migration):
    dependencies = [("warehouse", "0012_couriers")]
    operations = [migrations.RunPython(seed, unseed)]
