from celery import shared_task
from django.conf import settings

from tickets.deadlines import run_deadlines


@shared_task(acks_late=True)
def run_deadlines_task() -> dict:
    """The periodic deadline sweep (schedule editable in admin: Periodic tasks)."""
    return dict(run_deadlines(workers=settings.DEADLINE_SWEEP_WORKERS))
