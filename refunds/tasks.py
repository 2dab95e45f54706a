from celery import shared_task
from django.db import OperationalError

from refunds.gateway import GatewayError
from refunds.services import execute_refund


@shared_task(acks_late=True, autoretry_for=(OperationalError, GatewayError), retry_backoff=True,
             max_retries=8)
def execute_refund_task(refund_id: int) -> str:
    return execute_refund(refund_id=refund_id).status
