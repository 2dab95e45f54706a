from datetime import timedelta

from celery import shared_task
from django.core.cache import cache

from aftersales import clock
from aftersales.models import IdempotencyKey

WORKER_SEEN = "health:worker-seen"

KEEP = timedelta(hours=48)  # API.md promises at least 24 hours


@shared_task
def purge_idempotency_keys() -> int:
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=clock.now() - KEEP).delete()
    return deleted


@shared_task
def heartbeat() -> str:
    """A worker was here (beat sends this every 30 s): /health/ready reads when it last ran."""
    seen = clock.now().isoformat()
    cache.set(WORKER_SEEN, seen, timeout=3600)
    return seen
