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
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None  # empty: no access log
