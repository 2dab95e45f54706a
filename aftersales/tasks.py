from datetime import timedelta

from celery import shared_task

from aftersales import clock
from aftersales.models import IdempotencyKey

KEEP = timedelta(hours=48)  # API.md promises at least 24 hours


@shared_task
def purge_idempotency_keys() -> int:
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=clock.now() - KEEP).delete()
    return deleted
