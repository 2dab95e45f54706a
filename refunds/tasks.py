from datetime import datetime

from celery import shared_task
from django.db import OperationalError

from aftersales import clock
from refunds.execution import execute_refund
from refunds.gateway import GatewayError
from refunds.selectors import list_stuck_refunds


@shared_task(acks_late=True, autoretry_for=(OperationalError, GatewayError), retry_backoff=True,
             max_retries=8)
def execute_refund_task(refund_id: int) -> str:
    return execute_refund(refund_id=refund_id).status


def requeue_stuck_refunds(now: datetime | None = None) -> int:
    """Queue the stuck refunds again (execution is idempotent: a refund paid meanwhile is left as it is).
    Returns how many were queued."""
    requeued = 0
    for pk in list_stuck_refunds(now=now or clock.now()).values_list("pk", flat=True):
        execute_refund_task.delay(pk)
        requeued += 1
    return requeued


@shared_task(acks_late=True)
def requeue_stuck_refunds_task() -> int:
    """The periodic re-queue of refunds whose message was lost (schedule editable in admin: Periodic tasks)."""
    return requeue_stuck_refunds()
