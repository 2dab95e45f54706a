"""The payment side: refund to the original payment method.

A real provider is called with one idempotency key per refund, so a retried call pays once.
SimulatedGateway behaves that way against its own ledger table (GatewayPayout); swap it with
REFUND_GATEWAY in settings.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from refunds.models import GatewayPayout


class GatewayError(Exception):
    """Transient: the call may be retried with the same key."""


class GatewayDeclined(Exception):
    """Final: the provider refused this refund."""


@dataclass(frozen=True)
class GatewayResult:
    reference: str
    amount: Decimal


class SimulatedGateway:
    def refund(self, *, amount: Decimal, idempotency_key: str, order_no: str) -> GatewayResult:
        try:
            with transaction.atomic():
                payout = GatewayPayout.objects.create(
                    idempotency_key=idempotency_key, amount=amount, order_no=order_no,
                    reference=f"RF-{idempotency_key[:8].upper()}-{idempotency_key[-4:].upper()}")
        except IntegrityError:
            payout = GatewayPayout.objects.get(idempotency_key=idempotency_key)
            if payout.amount != amount:
                raise GatewayDeclined(_("The same key was used for another amount.")) from None
        return GatewayResult(reference=payout.reference, amount=payout.amount)


def get_gateway():
    return import_string(getattr(settings, "REFUND_GATEWAY", "refunds.gateway.SimulatedGateway"))()
