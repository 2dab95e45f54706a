"""seed_demo: tickets in every state, brought there through the services; a second run adds nothing."""

from io import StringIO

import pytest
from django.core.management import call_command

from aftersales import clock
from demo.journeys import PATHS
from orders.models import Order
from tickets.models import Ticket, TimelineEvent

pytestmark = pytest.mark.django_db


def test_the_demo_has_every_type_in_every_state_with_a_real_timeline_and_loads_once():
    out = StringIO()
    call_command("seed_demo", stdout=out)

    present = set(Ticket.objects.values_list("type", "status"))
    assert {(t, s) for t, states in PATHS.items() for s in states} <= present
    for ticket in Ticket.objects.all():
        transitions = list(ticket.events.values_list("transition", "to_status"))
        assert transitions[0] == ("submit", "pending_review")
        assert ticket.events.order_by("-at", "-pk").first().to_status == ticket.status  # the last event says where it is
    assert not TimelineEvent.objects.filter(at__gt=clock.now()).exists()
    assert "Staff logins" in out.getvalue() and "Authorization: Token" in out.getvalue()

    counts = (Order.objects.count(), Ticket.objects.count(), TimelineEvent.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (Order.objects.count(), Ticket.objects.count(), TimelineEvent.objects.count()) == counts
