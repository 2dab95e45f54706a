"""gunicorn's settings for the web process (read from the working directory: docker-compose, bench/api.py).

Sync workers, as many as gunicorn's own starting point (2 × cores + 1) unless WEB_CONCURRENCY says
otherwise: a claim spends part of its time waiting for PostgreSQL (its commit is flushed to disk),
and another worker uses the core meanwhile.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
graceful_timeout = 20
# The application writes the access log itself (aftersales.middleware.AccessMiddleware: JSON, with the route,
# the user and the request id); gunicorn's own, in its text format, only when asked for ("-": stdout).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "") or None

# Prometheus metrics from every worker (aftersales.metrics): with PROMETHEUS_MULTIPROC_DIR set, each worker
# writes its counts to files in that directory and a scrape, answered by any worker, adds them up. The
# directory is emptied when gunicorn starts (counts of an earlier run would be added in), and a worker's
# live gauges are dropped when it exits.
PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def on_starting(server):
    if PROMETHEUS_MULTIPROC_DIR:
        os.makedirs(PROMETHEUS_MULTIPROC_DIR, exist_ok=True)
        for name in os.listdir(PROMETHEUS_MULTIPROC_DIR):
            if name.endswith(".db"):
                os.remove(os.path.join(PROMETHEUS_MULTIPROC_DIR, name))


def child_exit(server, worker):
    if PROMETHEUS_MULTIPROC_DIR:
        from prometheus_client import multiprocess  # only with the directory set: the mode is read at import

        multiprocess.mark_process_dead(worker.pid)
