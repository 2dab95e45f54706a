"""Prometheus metrics at /metrics (prometheus-client), for the monitoring system and nobody else.

- requests by method, route and status, and their latency (a histogram by method and route): the route is
  the URL pattern (``api/v1/tickets/<str:ticket_no>/``), never the path, so the number of series stays
  bounded whatever URLs clients invent; a path that matches no pattern counts as ``unmatched``;
- what the parts report when scraped (tickets by status and due, refunds by status): collectors the apps
  register here (``register``) from their AppConfig.ready, since the kernel imports no app; their figures
  come from the database at most once per METRICS_CACHE_SECONDS, from the shared cache;
- the Celery queues' length (Redis LLEN), absent while Redis cannot be reached: the scrape still answers.

Only a request with ``Authorization: Bearer <METRICS_TOKEN>`` is answered, the token compared in constant
time; anyone else, and everyone while METRICS_TOKEN is empty, gets the site's 404 (no session, no CSRF:
a GET with a header).

Under gunicorn with several workers each process counts its own requests: with PROMETHEUS_MULTIPROC_DIR
set (an empty directory, wiped when gunicorn starts: gunicorn.conf.py) prometheus-client writes the counts
to files there and the scrape, answered by any worker, adds them up (multiprocess mode)."""

import hmac
import logging
import os
from collections.abc import Callable

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.http import Http404, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

log = logging.getLogger(__name__)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
# This process's own metrics. In multiprocess mode their values live in the directory's files instead, and
# the scrape reads those (a registry must then not be exposed as such: prometheus-client's rule).
REGISTRY = CollectorRegistry()
REQUESTS = Counter("aftersales_http_requests", "HTTP requests answered, by method, route (URL pattern) and status.",
                   ["method", "route", "status"], registry=REGISTRY)
LATENCY = Histogram("aftersales_http_request_duration_seconds", "Time to answer an HTTP request, by method and route.",
                    ["method", "route"], registry=REGISTRY)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"

_collectors: list = []


def register(collector) -> None:
    """Add a collector (an object with ``collect()`` yielding metric families) to every scrape."""
    if all(type(known) is not type(collector) for known in _collectors):
        _collectors.append(collector)


def route_of(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None and match.route else UNMATCHED


def observe_request(*, method: str, route: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else "other"
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def cached_figures(key: str, compute: Callable[[], dict]) -> dict | None:
    """``compute()``'s figures, computed at most once per METRICS_CACHE_SECONDS by all the processes sharing the
    cache; None when the database cannot answer (that part is left out of the scrape, the rest is served)."""
    key = f"metrics:{key}"
    figures = cache.get(key)
    if figures is None:
        try:
            figures = compute()
        except DatabaseError:
            log.warning("metrics: %s left out, the database did not answer", key, exc_info=True)
            return None
        cache.set(key, figures, timeout=settings.METRICS_CACHE_SECONDS)
    return figures


class CeleryQueueLength:
    """Messages waiting in each Celery queue (kombu keeps a queue as Redis lists: the queue's name, and one
    list per priority step beside it)."""

    PRIORITY_SEPARATOR, PRIORITY_STEPS = "\x06\x16", (3, 6, 9)

    def collect(self):
        broker = settings.CELERY_BROKER_URL
        if not broker.startswith(("redis://", "rediss://")):
            return  # no broker: tasks run in-process
        queues = [getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "") or "celery"]
        try:
            client = redis.Redis.from_url(broker, socket_connect_timeout=0.5, socket_timeout=0.5)
            with client.pipeline(transaction=False) as pipe:
                for queue in queues:
                    pipe.llen(queue)
                    for step in self.PRIORITY_STEPS:
                        pipe.llen(f"{queue}{self.PRIORITY_SEPARATOR}{step}")
                lengths = pipe.execute()
        except (redis.RedisError, OSError) as exc:
            log.warning("metrics: queue length left out, Redis did not answer (%s)", exc.__class__.__name__)
            return
        family = GaugeMetricFamily("aftersales_celery_queue_length", "Celery messages waiting, by queue.",
                                   labels=["queue"])
        per_queue = 1 + len(self.PRIORITY_STEPS)
        for i, queue in enumerate(queues):
            family.add_metric([queue], sum(lengths[i * per_queue:(i + 1) * per_queue]))
        yield family


class _ThisProcess:
    def collect(self):
        return REGISTRY.collect()


def scrape() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    if MULTIPROCESS:
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    for collector in (CeleryQueueLength(), *_collectors):
        registry.register(collector)
    return generate_latest(registry)


def authorized(request) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return False
    given = request.headers.get("Authorization", "").encode("utf-8", "surrogatepass")
    return hmac.compare_digest(given, f"Bearer {token}".encode())


def metrics_view(request):
    """/metrics: the Prometheus text format, for the bearer of METRICS_TOKEN; a 404 for anyone else."""
    if not authorized(request):
        raise Http404
    response = HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
