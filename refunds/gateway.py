"""The payment provider, as refunds sees it: refund to the original payment method, and ask what became
of a refund.

Every call carries the refund's idempotency key (its uuid): a provider pays once per key, however often
it is asked, and refuses the same key with another amount. Errors say what the caller may do next:

- ``GatewayDeclined``: final, the provider refused; nothing was paid and asking again changes nothing.
- ``GatewayError``: transient, nothing was paid as far as anyone knows; try again later.
- ``GatewayTimeout`` (a ``GatewayError``): no answer; the money *may* have moved. Ask ``status`` before
  sending again.

The adapter is chosen with ``REFUND_GATEWAY`` (a class path). The sandbox's two adapters live in
``refunds.sandbox``; a real provider plugs in with one more class that has these two methods.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class GatewayError(Exception):
    """Transient: the call may be retried with the same key."""


class GatewayTimeout(GatewayError):
    """Ambiguous: no answer came, the money may have moved. Ask ``status`` before sending again."""


class GatewayDeclined(Exception):
    """Final: the provider refused this refund."""


@dataclass(frozen=True)
class GatewayResult:
    reference: str
    amount: Decimal


class Gateway(Protocol):
    def refund(self, *, idempotency_key: str, amount: Decimal, order_no: str) -> GatewayResult:
        """Pay ``amount`` back for ``order_no``, once per key."""

    def status(self, *, idempotency_key: str) -> GatewayResult | None:
        """The payment made under this key, or None if the provider paid nothing under it."""


def get_gateway() -> Gateway:
    return import_string(settings.REFUND_GATEWAY)()
