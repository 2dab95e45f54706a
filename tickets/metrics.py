"""What /metrics says about tickets (aftersales.metrics): how many in each status, how many overdue and
how many due within the next hour. Registered by TicketsConfig.ready.

At 1,000,000 tickets each figure is one query that reads an index only (the status index; the due-time
index `ticket_queue_due`, from its start up to an hour from now), and the figures are computed at most
once per METRICS_CACHE_SECONDS for every process (docs/benchmarks.md, "Metrics")."""

from datetime import timedelta

from django.db.models import Count, Q
from prometheus_client.core import GaugeMetricFamily

from aftersales import clock, metrics
from tickets.models import Ticket

SOON = timedelta(hours=1)


def ticket_figures() -> dict:
    now = clock.now()
    by_status = dict(Ticket.objects.order_by().values_list("status").annotate(n=Count("*")))
    due = Ticket.objects.filter(next_deadline_at__lt=now + SOON).aggregate(
        overdue=Count("pk", filter=Q(next_deadline_at__lt=now)),
        next_hour=Count("pk", filter=Q(next_deadline_at__gte=now)))
    return {"status": {status: by_status.get(status, 0) for status in Ticket.Status.values}, "due": due}


class TicketFigures:
    def collect(self):
        figures = metrics.cached_figures("tickets", ticket_figures)
        if figures is None:
            return
        tickets = GaugeMetricFamily("aftersales_tickets", "Tickets, by status.", labels=["status"])
        for status, count in figures["status"].items():
            tickets.add_metric([status], count)
        due = GaugeMetricFamily("aftersales_tickets_due", "Tickets whose due time has passed (overdue) or comes "
                                "within the next hour (next_hour).", labels=["when"])
        for when in ("overdue", "next_hour"):
            due.add_metric([when], figures["due"][when])
        yield tickets
        yield due
