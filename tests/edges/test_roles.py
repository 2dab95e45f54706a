"""Roles by migration: a user newly added to a role's group (nothing else: not marked staff, no grant of
their own) can work at once in the admin, and sees what the role needs and nothing more."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from demo import journeys
from tests.factories import UserFactory, make_order, submit
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

# What each role finds on the admin's index page: the models it reads, by their list URL.
SEES = {
    "ops": {"orders/buyer", "orders/order", "orders/shop", "policies/policy", "reasons/reason", "refunds/refund",
            "tickets/replytemplate", "tickets/ticket", "warehouse/inbound", "warehouse/outbound",
            "warehouse/outboundrequest", "warehouse/intercept", "warehouse/stockbalance", "warehouse/stockmovement",
            "warehouse/wrongshipment", "warehouse/lostparcel", "warehouse/courier"},
    "finance": {"orders/buyer", "orders/order", "orders/shop", "policies/policy", "reasons/reason",
                "refunds/refund", "refunds/refundqueueticket", "tickets/ticket", "warehouse/wrongshipment",
                "warehouse/lostparcel"},
    "warehouse": {"orders/buyer", "orders/order", "orders/shop", "tickets/ticket", "warehouse/inbound",
                  "warehouse/outbound", "warehouse/arrivalticket", "warehouse/outboundrequest", "warehouse/intercept",
                  "warehouse/stockbalance", "warehouse/stockmovement", "warehouse/wrongshipment",
                  "warehouse/lostparcel", "warehouse/courier"},
}
# The bulk actions each role is offered on the ticket list.
ACTIONS = {"ops": {"approve_selected"}, "finance": {"finance_approve_selected"}, "warehouse": set()}


def newly_added(role: str) -> Client:
    user = UserFactory(username=f"new-{role}", groups=[role])  # is_staff stays False; no permission of its own
    assert not user.is_staff and not user.user_permissions.exists()
    client = Client()
    client.force_login(user)
    return client


def model_links(html: str) -> set[str]:
    return set(re.findall(r'href="/admin/(\w+/\w+)/"', html))


@pytest.mark.parametrize("role", sorted(SEES))
def test_a_user_newly_added_to_a_role_sees_what_the_role_reads_and_nothing_more(role):
    index = newly_added(role).get("/admin/")

    assert index.status_code == 200
    assert model_links(index.content.decode()) == SEES[role]


@pytest.mark.parametrize("role", sorted(SEES))
def test_each_role_sees_a_tickets_goods_photos_notes_and_timeline(role, staff, buyer):
    ticket = submit(make_order(buyer=buyer), type="exchange", reason_code="quality_issue", photos=1)
    journeys.approve(ticket, staff)

    page = newly_added(role).get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    for part in ("goods", "photos", "notes", "timeline"):
        assert f'id="{part}"' in html, f"{role} does not see the {part}"
    assert "<td>Product 1</td><td>SKU-1</td>" in html  # a goods line
    assert reverse("upload-file", args=[ticket.photos.get().pk]) in html  # the photo


@pytest.mark.parametrize("role", sorted(ACTIONS))
def test_each_role_is_offered_only_its_own_bulk_actions(role):
    page = newly_added(role).get(reverse("admin:tickets_ticket_changelist"))

    offered = set(re.findall(r'<option value="(\w+)">', page.content.decode())) - {""}
    assert offered & {"approve_selected", "finance_approve_selected", "delete_selected"} == ACTIONS[role]


@pytest.mark.parametrize("role", ["service", None])
def test_the_service_account_and_buyers_do_not_get_into_the_admin(role, buyer):
    user = UserFactory(username="outsider", groups=[role] if role else [])
    client = Client()
    client.force_login(user if role else buyer.user)

    assert client.get("/admin/").status_code == 302  # to the login page


def test_a_ticket_action_from_another_role_is_refused_and_changes_nothing(staff, buyer):
    """The finance user's page offers no ops decision; posting one anyway is refused by the service."""
    ticket = submit(make_order(buyer=buyer), type="return_refund", reason_code="quality_issue")
    client = newly_added("finance")

    client.post(reverse("admin:tickets_ticket_act", args=[ticket.pk]), {"action": "approve"})

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING_REVIEW
    assert not ticket.events.filter(transition="approve").exists()


# Each action of the review page, posted (confirmed, past any confirmation step) by a role it is not for.
REFUSED_ACTIONS = [
    (role, action, data)
    for role, actions in {
        "finance": ["approve", "reject", "compensate", "reship", "retention"],
        "warehouse": ["approve", "reject", "compensate", "reship", "retention", "finance_approve", "finance_reject"],
        "ops": ["finance_approve", "finance_reject"],
    }.items()
    for action, data in {
        "approve": {}, "reject": {"reason": "No."}, "compensate": {"amount": "1.00", "note": "Agreed."},
        "retention": {"offer": "An exchange.", "kept": "yes"}, "finance_approve": {}, "reship": {"part_": "1"},
        "finance_reject": {"reason": "Check it."},
    }.items() if action in actions
]


@pytest.mark.parametrize(("role", "action", "data"), REFUSED_ACTIONS)
def test_a_review_page_action_of_another_role_is_refused_and_changes_nothing(role, action, data, staff, buyer):
    pending = submit(make_order(buyer=buyer), type="return_refund", reason_code="no_reason_7d")
    awaiting_refund = journeys.advance(submit(make_order(buyer=buyer)), Ticket.Status.AWAITING_REFUND, staff=staff)
    ticket = awaiting_refund if action.startswith("finance") else pending
    status, events = ticket.status, ticket.events.count()
    if "part_" in data:  # one unit of the claimed line: what ops sends to re-ship it
        data = {f"part_{ticket.lines.get().pk}": "1"}

    newly_added(role).post(reverse("admin:tickets_ticket_act", args=[ticket.pk]),
                           {"action": action, "confirmed": "yes", **data})

    ticket.refresh_from_db()
    assert (ticket.status, ticket.events.count()) == (status, events)
    assert not ticket.refunds.exists()
    assert not ticket.outbound_requests.exists()
