"""What the API tests of several parts share: the URL prefix, a timestamp read back from a response, a
number too large for any field, a buyer's claim body, a pending ticket and a ticket's status read again.
The API clients are fixtures (tests/conftest.py: `alice`, `bob_buyer`)."""

import datetime as dt

from django.utils.dateparse import parse_datetime

from tests.factories import make_order, reason, submit
from tickets.models import Ticket

API = "/api/v1"
MANY = 10**30  # too large for any number field


def claim_body(order, *, type="return_refund", reason_code="no_reason_7d", quantity=None, photo_ids=(),
               description="Does not fit the shelf"):
    line = order.lines.order_by("pk").first()
    return {"order_no": order.order_no, "type": type, "reason_id": reason(reason_code).pk,
            "description": description, "photo_ids": list(photo_ids),
            "lines": [{"order_line_id": line.line_id, "quantity": line.quantity if quantity is None else quantity}]}


def at(value: str) -> dt.datetime:
    parsed = parse_datetime(value)
    assert parsed is not None and parsed.tzinfo is not None, value
    return parsed


def pending(buyer, *, type="refund_only", lines=(("general", "10.00", 2, None),), **kwargs) -> Ticket:
    return submit(make_order(buyer=buyer, lines=lines, **kwargs), type=type)


def status_of(ticket) -> str:
    ticket.refresh_from_db()
    return ticket.status
