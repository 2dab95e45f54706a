"""Orders count what succeeded refunds gave back (orders 0006): the refunds paid before it are added up
once, per order, so the counters and their CHECKs hold from here on."""

from django.db import migrations

PARTS = {"refunded_amount": "amount", "refunded_shipping": "shipping", "refunded_coupon": "coupon",
         "refunded_virtual_currency": "virtual_currency"}


def count(apps, schema_editor):
    sums = ", ".join(
        f"{column} = COALESCE((SELECT SUM(r.{part}) FROM refunds_refund r JOIN tickets_ticket t ON t.id = r.ticket_id"
        f" WHERE t.order_id = orders_order.id AND r.status = 'succeeded'), 0)"
        for column, part in PARTS.items())
    schema_editor.execute(
        f"UPDATE orders_order SET {sums} WHERE id IN (SELECT t.order_id FROM refunds_refund r"
        f" JOIN tickets_ticket t ON t.id = r.ticket_id WHERE r.status = 'succeeded')")


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0006_order_refunded_parts"),
        ("refunds", "0012_refund_line_append_only"),
    ]

    operations = [migrations.RunPython(count, migrations.RunPython.noop)]
