"""Every ticket type reaches every status it can reach, through the services, with a timeline."""

import pytest

from demo.journeys import PATHS, advance
from tests.factories import make_order, submit
from tickets.models import Ticket

CASES = [(t, s) for t, paths in PATHS.items() for s in paths]


@pytest.mark.django_db
@pytest.mark.parametrize(("ticket_type", "status"), CASES)
def test_each_type_reaches_each_status_through_the_services(ticket_type, status, staff, buyer):
    order = make_order(buyer=buyer)
    ticket = submit(order, type=ticket_type)

    ticket = advance(ticket, status, staff=staff)

    assert ticket.status == status
    transitions = list(ticket.events.values_list("transition", flat=True))
    assert transitions[0] == "submit"
    assert len(transitions) >= 1 + len(PATHS[ticket_type][status])
    if status == Ticket.Status.COMPLETED and ticket_type != "exchange":
        assert ticket.refunds.get().status == "succeeded"
        assert transitions[-1] == "refund_succeeded"
