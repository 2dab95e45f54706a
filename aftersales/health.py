"""Health for load balancers, compose and monitoring: /health/live (the process serves) and /health/ready
(what a request needs is up: PostgreSQL, Redis, a Celery worker seen recently), as JSON naming each part."""

import datetime as dt

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

from aftersales import clock
from aftersales.tasks import WORKER_SEEN

WORKER_SILENT_AFTER = dt.timedelta(minutes=2)  # the heartbeat runs every 30 s


def live(request):
    return JsonResponse({"status": "live"})


def ready(request):
    parts = {"database": _database(), "redis": _redis(), "worker": _worker()}
    up = all(part["up"] for part in parts.values())
    return JsonResponse({"status": "ready" if up else "not ready", "parts": parts}, status=200 if up else 503)


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"up": True}
    except Exception as exc:  # noqa: BLE001 -- whatever the driver raises, the answer is "down"
        return {"up": False, "error": exc.__class__.__name__}


def _redis() -> dict:
    if not settings.REDIS_URL:
        return {"up": True, "detail": "not used: cache in process memory, tasks in-process"}
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5).ping()
        return {"up": True}
    except (redis.RedisError, OSError) as exc:
        return {"up": False, "error": exc.__class__.__name__}


def _worker() -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"up": True, "detail": "tasks run in-process"}
    seen = cache.get(WORKER_SEEN)
    if seen is None:
        return {"up": False, "error": "no worker heartbeat seen"}
    age = clock.now() - dt.datetime.fromisoformat(seen)
    return {"up": age < WORKER_SILENT_AFTER, "last_seen": seen}
