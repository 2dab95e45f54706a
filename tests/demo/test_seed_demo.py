"""seed_demo: tickets in every state, brought there through the services; a second run adds nothing."""

import json
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from aftersales import clock
from demo.journeys import PATHS
from orders.models import Order
from tickets.eligibility import eligibility_for
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


def test_each_demo_buyer_can_claim_at_once_and_the_printed_claim_goes_through():
    """The README's walk: the command seed_demo prints is a claim the API accepts, and the new ticket is due
    for review at the top of the queue's open work."""
    out = StringIO()
    call_command("seed_demo", stdout=out)
    printed = out.getvalue()
    token = re.search(r"curl -H 'Authorization: Token (\w+)' -H 'Content-Type", printed).group(1)
    body = json.loads(re.search(r"-d '(\{.*\})'", printed).group(1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    for account in ("alice", "bob"):
        for order, claimable in ((f"CLAIM-FRESH-{account}", "refund_only"), (f"CLAIM-HOME-{account}", "return_refund"),
                                 (f"CLAIM-UNSHIPPED-{account}", "refund_only")):
            lines = eligibility_for(Order.objects.get(order_no=order.upper()))["lines"]
            assert claimable in lines[0]["allowed_types"], (order, lines[0])
    eligibility = client.get(f"/api/v1/orders/{body['order_no']}/eligibility/").json()
    assert "return_refund" in eligibility["lines"][0]["allowed_types"]
    fresh = client.get("/api/v1/orders/CLAIM-FRESH-ALICE/eligibility/").json()
    assert "refund_only" in fresh["lines"][0]["allowed_types"]

    created = client.post("/api/v1/tickets/", body, format="json")

    assert created.status_code == 201, created.json()
    ticket = Ticket.objects.get(ticket_no=created.json()["ticket_no"])
    assert (ticket.status, ticket.next_deadline_kind) == ("pending_review", "review")


def test_finding11_service_user_is_not_is_staff():
    """Role users are group-only (docs/design.md, "Roles by migration"): the service account never gets into
    the admin site, ops gets in by its group; a demo database the older command marked staff is put right by
    running the command again."""
    users = get_user_model().objects
    call_command("seed_demo", stdout=StringIO())
    assert list(users.filter(is_staff=True).values_list("username", flat=True)) == ["admin"]
    users.filter(username__in=["ops", "finance", "warehouse", "service"]).update(is_staff=True)  # the old seed

    call_command("seed_demo", stdout=StringIO())

    assert list(users.filter(is_staff=True).values_list("username", flat=True)) == ["admin"]
    service, ops = Client(), Client()
    service.force_login(users.get(username="service"))
    ops.force_login(users.get(username="ops"))
    assert service.get("/admin/").status_code == 302  # back to the login page
    assert ops.get("/admin/").status_code == 200
