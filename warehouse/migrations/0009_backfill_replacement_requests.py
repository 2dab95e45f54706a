"""Exchanges already waiting for their replacement when the dispatch queue arrived get their request, as
new ones do when they reach "awaiting exchange" (requested by whoever reviewed them)."""

from django.db import migrations


def backfill(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    OutboundRequest = apps.get_model("warehouse", "OutboundRequest")
    OutboundRequestLine = apps.get_model("warehouse", "OutboundRequestLine")
    waiting = Ticket.objects.filter(type="exchange", status="awaiting_exchange", replacement_shipped_at__isnull=True,
                                    reviewer__isnull=False).exclude(outbound_requests__status="open")
    for ticket in waiting.iterator():
        request = OutboundRequest.objects.create(
            ticket=ticket, purpose="replacement", requested_by_id=ticket.reviewer_id,
            requested_at=ticket.goods_received_at or ticket.approved_at or ticket.created_at)
        OutboundRequestLine.objects.bulk_create([
            OutboundRequestLine(request=request, order_line_id=line.order_line_id, quantity=line.quantity)
            for line in ticket.lines.all()])


class Migration(migrations.Migration):
    dependencies = [("warehouse", "0008_warehouse_screens_permissions"), ("tickets", "0014_intercept_outcome")]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
