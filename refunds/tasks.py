"""The refund tasks, handing refunds to them, and settling those a worker or the broker lost.

- ``execute_refund_task`` pays one refund (refunds.execution), retrying what got no final answer.
- ``dispatch_refund`` publishes one refund's task after the approval commits. It never raises: the
  approval is recorded, and a broker that is down must not turn it into an error. What could not be
  published keeps ``dispatched_at`` empty.
- ``dispatch_pending_refunds`` (every 30 s) publishes the refunds never handed over, so they are paid
  within a minute of the broker coming back.
- ``reconcile_refunds`` (every 2 min; ``manage.py reconcile_refunds``) settles refunds stuck pending
  (their message was lost) or in progress (their worker died mid-call, or the task ran out of retries):
  it asks the gateway what became of each key, finishes those paid, and sends the others again.
"""

import logging
from collections import Counter
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils.translation import gettext_lazy as _

from aftersales import clock
from refunds.execution import execute_refund, settle_from_status
from refunds.gateway import GatewayError
from refunds.models import Refund
from refunds.selectors import list_refunds_to_dispatch, list_refunds_to_reconcile

logger = logging.getLogger(__name__)

# The on-commit publish normally follows the commit within milliseconds; the dispatcher leaves it that long.
DISPATCH_GRACE = timedelta(seconds=10)
# A run that got no answer gives its lease back and the task retries (backoff at most 120 s): the
# reconciliation leaves it that long first.
LEASE_GRACE = timedelta(minutes=2)
RECONCILE_BATCH = 1000

# What the reconciliation found, per refund (the command prints the counts).
OUTCOMES = {
    "paid": _("in progress, the gateway had paid it: recorded as succeeded"),
    "resent": _("in progress, the gateway had paid nothing: sent again"),
    "redispatched": _("pending, its message lost: queued again"),
    "unanswered": _("the gateway did not answer: left for the next round"),
    "undelivered": _("the queue refused the message: left for the next round"),
    "errors": _("could not be settled (see the log)"),
}


# acks_late + reject_on_worker_lost: a worker killed mid-run leaves the message to be delivered again.
# The hard time limit is far under the broker's visibility timeout (settings), so a run never outlives
# its message; a killed run leaves its refund in progress for reconciliation. Transient errors and
# timeouts (GatewayTimeout is a GatewayError) are retried with backoff; the next run asks the gateway
# what happened before sending again (refunds.execution).
@shared_task(acks_late=True, reject_on_worker_lost=True, time_limit=settings.REFUND_TASK_TIME_LIMIT,
             autoretry_for=(OperationalError, GatewayError), retry_backoff=1, retry_backoff_max=120,
             retry_jitter=True, max_retries=8)
def execute_refund_task(refund_id: int) -> str:
    return execute_refund(refund_id=refund_id).status


@shared_task(acks_late=True)
def dispatch_refunds_task() -> int:
    """Every 30 s: hand to the workers the refunds the broker did not take when they were approved."""
    return dispatch_pending_refunds(now=clock.now())


@shared_task(acks_late=True)
def reconcile_refunds_task() -> dict:
    """Every 2 min: settle refunds stuck pending or in progress (schedules editable in admin: Periodic tasks)."""
    return dict(reconcile_refunds(now=clock.now()))


def dispatch_refund(refund_id: int) -> bool:
    """Hand a refund to a worker; True once the broker took the message. Never raises (see above)."""
    try:
        execute_refund_task.delay(refund_id)
    except Exception:  # a broker down, or (tasks run in-process) anything the run raised
        logger.exception("Refund %s not handed to a worker; the dispatcher sends it again.", refund_id)
        return False
    Refund.objects.filter(pk=refund_id, status=Refund.Status.PENDING).update(dispatched_at=clock.now())
    return True


def dispatch_pending_refunds(*, now: datetime) -> int:
    """Publish the refunds never handed to a worker; stop at the first the broker refuses (it is still
    down: the next round tries again). Returns how many were handed over."""
    sent = 0
    for refund_id in list_refunds_to_dispatch(created_before=now - DISPATCH_GRACE).values_list("pk", flat=True):
        if not dispatch_refund(refund_id):
            break
        sent += 1
    return sent


def reconcile_refunds(*, now: datetime) -> Counter:
    """Settle the refunds a worker or the broker lost (``list_refunds_to_reconcile``), at most
    RECONCILE_BATCH a round. Idempotent: a refund finished meanwhile is left as it is. Returns the count
    per outcome (the keys of OUTCOMES)."""
    found = Counter({outcome: 0 for outcome in OUTCOMES})
    stuck = list_refunds_to_reconcile(now=now, lease_grace=LEASE_GRACE).values_list("pk", "status")
    for refund_id, status in stuck[:RECONCILE_BATCH]:
        if status == Refund.Status.PENDING:
            found["redispatched" if dispatch_refund(refund_id) else "undelivered"] += 1
            continue
        try:
            settled = settle_from_status(refund_id=refund_id)
        except GatewayError:
            found["unanswered"] += 1
            continue
        except Exception:  # one refund the database refuses must not stop the others being settled
            logger.exception("Refund %s could not be settled.", refund_id)
            found["errors"] += 1
            continue
        if settled is not None:
            found["paid"] += 1
        else:
            found["resent" if dispatch_refund(refund_id) else "undelivered"] += 1
    return found
