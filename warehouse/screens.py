"""The warehouse on tickets' screens: the queue's markers for what the warehouse found (goods refused at
inspection, a shipment it could not hold), and the ticket page's section with the warehouse's records of it
(goods in and out, by number, local time to the minute). Added through the doors tickets owns (tickets.queue,
tickets.panel) by ``register()``, from WarehouseConfig.ready."""

from django.utils.translation import gettext_lazy as _

from tickets import panel, queue
from tickets.models import Ticket
from tickets.presenters import local_time
from warehouse.models import Inbound, Outbound


def _records(request, ticket) -> dict:
    rows = []
    for record in Inbound.objects.filter(ticket=ticket).select_related("operator").prefetch_related("lines__order_line").order_by("pk"):
        rows.append({"record": record, "url": "admin:warehouse_inbound_change", "at": local_time(record.created_at),
                     "what": _("received"), "lines": list(record.lines.all())})
    for record in Outbound.objects.filter(ticket=ticket).select_related("operator").prefetch_related("lines__order_line").order_by("pk"):
        rows.append({"record": record, "url": "admin:warehouse_outbound_change", "at": local_time(record.created_at),
                     "what": _("shipped"), "shipment": f"{record.courier} {record.tracking_no}",
                     "lines": list(record.lines.all())})
    return {"records": rows}


WAREHOUSE_SECTION = panel.PanelSection("warehouse", "admin/warehouse/ticket_records.html", where="side", order=20,
                                       context=_records)


def register() -> None:
    panel.register_panel_section(WAREHOUSE_SECTION)
    queue.register_list_marker(queue.ListMarker(
        "inspection_rejected", "✗", _("inspection rejected goods"), order=20,
        applies=lambda ticket: ticket.status == Ticket.Status.PENDING_REVIEW and ticket.inspection_passed is False))
    queue.register_list_marker(queue.ListMarker(
        "intercept_failed", "⚠", _("too late to hold the shipment"), order=40,
        applies=lambda ticket: ticket.intercept_failed_at is not None))
