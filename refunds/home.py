"""Finance's queue on the back office's home (access.home), first of finance's tiles: the refunds ops
approved that wait for finance, with what is due today and overdue (their refund clock)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from access.home import HomeQueue, register_home_queue
from aftersales.roles import FINANCE
from refunds import selectors
from tickets.models import Ticket
from tickets.queue import queue_counts


def register() -> None:
    register_home_queue(HomeQueue(
        "refunds_to_approve", _("Refunds to approve"), groups=(FINANCE,), order=20,
        url=lambda: reverse("admin:refunds_refundqueueticket_changelist"),
        counts=lambda request: queue_counts(selectors.list_tickets_for_finance(base=Ticket.objects.all()))))
