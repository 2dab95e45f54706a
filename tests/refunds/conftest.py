"""What the refund tests share: a ticket waiting for its refund, and the in-process sandbox made to
misbehave on cue (the database stays real: the sandbox pays into its GatewayPayout ledger)."""

import pytest

from demo.journeys import advance
from refunds.gateway import GatewayDeclined, GatewayError, GatewayTimeout
from refunds.sandbox import InProcessGateway
from tests.factories import make_order, submit
from tickets.models import Ticket


class ScriptedGateway(InProcessGateway):
    """The in-process sandbox; each refund() call takes the next step of ``script`` (then "ok"):
    "error" fails before paying, "timeout" pays and then gives no answer, "decline" refuses. ``status()``
    fails while ``status_errors`` is above 0. ``calls`` keeps what was asked, in order."""

    script: list[str] = []
    status_errors = 0
    calls: list[str] = []

    def refund(self, *, idempotency_key, amount, order_no):
        step = self.script.pop(0) if self.script else "ok"
        self.calls.append(f"refund:{step}")
        if step == "error":
            raise GatewayError("scripted: service unavailable")
        if step == "decline":
            raise GatewayDeclined("scripted: the account is closed")
        result = super().refund(idempotency_key=idempotency_key, amount=amount, order_no=order_no)
        if step == "timeout":
            raise GatewayTimeout("scripted: paid, then no answer")
        return result

    def status(self, *, idempotency_key):
        self.calls.append("status")
        if ScriptedGateway.status_errors:
            ScriptedGateway.status_errors -= 1
            raise GatewayTimeout("scripted: status call timed out")
        return super().status(idempotency_key=idempotency_key)


@pytest.fixture
def gateway(settings):
    """The scripted sandbox in place of the default one: set ``gateway.script`` before acting."""
    settings.REFUND_GATEWAY = f"{__name__}.ScriptedGateway"
    ScriptedGateway.script, ScriptedGateway.calls, ScriptedGateway.status_errors = [], [], 0
    yield ScriptedGateway
    ScriptedGateway.script, ScriptedGateway.calls, ScriptedGateway.status_errors = [], [], 0


@pytest.fixture
def awaiting_refund(buyer, staff):
    """A refund-only claim on a delivered order, approved by ops: finance may now approve its refund."""

    def make(lines=(("general", "20.00", 1, None),), **order):
        ticket = submit(make_order(buyer=buyer, lines=lines, **order), type="refund_only")
        return advance(ticket, Ticket.Status.AWAITING_REFUND, staff=staff)

    return make
