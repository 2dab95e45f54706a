"""The warehouse's queues on the back office's home (access.home), first of its tiles: arrivals to receive
and what to dispatch, each with what waits (the dispatch also with what is due today and overdue: the
replacement's clock)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from access.home import HomeQueue, QueueCounts, register_home_queue
from aftersales.roles import WAREHOUSE
from tickets.models import Ticket
from tickets.queue import queue_counts
from warehouse.models import OutboundRequest


def _arrivals(request) -> QueueCounts:
    # The arrivals queue's own rows (warehouse.admin.arrivals): nothing is due of the warehouse there, the
    # due time is the buyer's (to send the goods back).
    waiting = Ticket.objects.filter(status=Ticket.Status.AWAITING_RETURN,
                                    type__in=[t for t in Ticket.Type if t.traits.goods_come_back]).count()
    return QueueCounts(waiting=waiting)


def register() -> None:
    register_home_queue(HomeQueue(
        "arrivals", _("Arrivals to receive"), groups=(WAREHOUSE,), order=30,
        url=lambda: reverse("admin:warehouse_arrivalticket_changelist"), counts=_arrivals))
    register_home_queue(HomeQueue(
        "dispatch", _("Dispatch: to ship"), groups=(WAREHOUSE,), order=31,
        url=lambda: reverse("admin:warehouse_outboundrequest_changelist"),
        counts=lambda request: queue_counts(OutboundRequest.objects.filter(status=OutboundRequest.Status.OPEN),
                                            due="ticket__next_deadline_at")))
