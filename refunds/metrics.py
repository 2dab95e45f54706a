"""What /metrics says about refunds (aftersales.metrics): how many in each status. Registered by
RefundsConfig.ready; computed at most once per METRICS_CACHE_SECONDS for every process."""

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from aftersales import metrics
from refunds.models import Refund


def refund_figures() -> dict:
    by_status = dict(Refund.objects.order_by().values_list("status").annotate(n=Count("*")))
    return {status: by_status.get(status, 0) for status in Refund.Status.values}


class RefundFigures:
    def collect(self):
        figures = metrics.cached_figures("refunds", refund_figures)
        if figures is None:
            return
        refunds = GaugeMetricFamily("aftersales_refunds", "Refunds, by status.", labels=["status"])
        for status, count in figures.items():
            refunds.add_metric([status], count)
        yield refunds
