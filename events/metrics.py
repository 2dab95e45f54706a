"""What /metrics says about webhooks (aftersales.metrics): the outbox not yet sequenced, deliveries waiting and
how old the oldest is, endpoints the system disabled. Each count reads a partial index (pending deliveries,
unsequenced events), not the whole table. Registered by EventsConfig.ready; computed at most once per
METRICS_CACHE_SECONDS for every process."""

from django.db.models import Min
from prometheus_client.core import GaugeMetricFamily

from aftersales import clock, metrics
from events.models import Delivery, Endpoint, Event


def webhook_figures() -> dict:
    pending = Delivery.objects.filter(status=Delivery.Status.PENDING)
    oldest = pending.aggregate(oldest=Min("created_at"))["oldest"]
    return {
        "unsequenced": Event.objects.filter(position__isnull=True).count(),
        "pending": pending.count(),
        "oldest_pending_seconds": (clock.now() - oldest).total_seconds() if oldest else 0.0,
        "disabled": Endpoint.objects.filter(disabled_at__isnull=False).count(),
    }


class WebhookFigures:
    def collect(self):
        figures = metrics.cached_figures("webhooks", webhook_figures)
        if figures is None:
            return
        for name, help_text in [
            ("unsequenced", "Events committed and not yet given a position (the sequencer runs on commit and every 10 s)."),
            ("pending", "Webhook deliveries waiting for a 2xx (first try or retry)."),
            ("oldest_pending_seconds", "Age of the oldest webhook delivery still waiting, in seconds."),
            ("disabled", "Webhook endpoints the system disabled after failing for 24 hours."),
        ]:
            gauge = GaugeMetricFamily(f"aftersales_webhooks_{name}", help_text)
            gauge.add_metric([], figures[name])
            yield gauge
