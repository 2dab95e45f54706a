"""Ops' queue on the back office's home (access.home), first of ops' tiles: the role's own view of the
tickets ("my open work") with what waits, what is due today and what is overdue."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from access.home import HomeQueue, register_home_queue
from aftersales.roles import OPS
from tickets.models import Ticket
from tickets.queue import QUEUE_VIEWS, queue_counts


def open_work_url() -> str:
    """Ops' queue as the role's view shows it (the tile leads there, whatever the user's own default)."""
    return f"{reverse('admin:tickets_ticket_changelist')}?{QUEUE_VIEWS[0].url_query()}"


def register() -> None:
    register_home_queue(HomeQueue(
        "tickets_open", _("Tickets: my open work"), url=open_work_url, groups=(OPS,), order=10,
        description=_("pending review, sent back by finance, refused at inspection"),
        counts=lambda request: queue_counts(Ticket.objects.filter(status=Ticket.Status.PENDING_REVIEW))))
