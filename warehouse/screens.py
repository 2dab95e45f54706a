"""The warehouse on tickets' screens: the queue's markers for what the warehouse found (goods refused at
inspection, a shipment it could not hold). Added through the doors tickets owns (tickets.queue) by
``register()``, from WarehouseConfig.ready."""

from django.utils.translation import gettext_lazy as _

from tickets import queue
from tickets.models import Ticket


def register() -> None:
    queue.register_list_marker(queue.ListMarker(
        "inspection_rejected", "✗", _("inspection rejected goods"), order=20,
        applies=lambda ticket: ticket.status == Ticket.Status.PENDING_REVIEW and ticket.inspection_passed is False))
    queue.register_list_marker(queue.ListMarker(
        "intercept_failed", "⚠", _("too late to hold the shipment"), order=40,
        applies=lambda ticket: ticket.intercept_failed_at is not None))
