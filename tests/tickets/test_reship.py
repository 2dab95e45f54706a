"""Re-shipping missing or broken parts (SPEC §5, §9; API.md `reship`): ops decides, the warehouse gets an
outbound request in the same transaction, ships it once, and the buyer confirms; beside compensation the
ticket is settled with money through finance while the parts go out on their own."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from aftersales.errors import AmountAboveMaximum, FieldInvalid, FieldRequired, InvalidTransition, NotAllowed
from demo import journeys
from refunds import services as refunds
from refunds.models import Refund
from tests.api_helpers import API, pending, status_of
from tests.factories import assert_error, client_for
from tickets import services
from tickets.models import Ticket
from warehouse import services as warehouse
from warehouse.models import Outbound, OutboundRequest

pytestmark = pytest.mark.django_db
S = Ticket.Status
TWO_LINES = (("general", "218.00", 1, None), ("general", "20.00", 3, None))


def claimed(ticket, index=0, quantity=1) -> dict:
    line = ticket.lines.select_related("order_line").order_by("pk")[index]
    return {"order_line_id": line.order_line.line_id, "quantity": quantity}


def request_lines(ticket) -> list[tuple[str, int]]:
    request = OutboundRequest.objects.get(ticket=ticket, status=OutboundRequest.Status.OPEN)
    return sorted(request.lines.values_list("order_line__line_id", "quantity"))


def test_parts_alone_go_to_the_warehouse_then_the_buyer_confirms(buyer, staff):
    ticket = pending(buyer, lines=TWO_LINES)

    services.reship_ticket(ticket_id=ticket.pk, actor=staff["ops"], lines=[claimed(ticket, 1, 2)],
                           note="Two cups arrived broken: sending two.")

    ticket.refresh_from_db()
    assert (ticket.status, ticket.reviewer, ticket.refund_amount) == (S.AWAITING_EXCHANGE, staff["ops"],
                                                                      Decimal("0.00"))  # parts, not money
    event = ticket.events.get(transition="reship")
    assert (event.from_status, event.to_status, event.reason) == (S.PENDING_REVIEW, S.AWAITING_EXCHANGE,
                                                                  "Two cups arrived broken: sending two.")
    assert request_lines(ticket) == [(claimed(ticket, 1)["order_line_id"], 2)]
    assert ticket.next_deadline_kind == "replacement"

    outbound = warehouse.record_outbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=[claimed(ticket, 1, 2)],
                                         courier="SF Express", tracking_no="SF123")
    journeys.confirm(ticket, staff)

    assert outbound.purpose == Outbound.Purpose.RESHIP
    assert OutboundRequest.objects.get(ticket=ticket).outbound == outbound
    assert status_of(ticket) == S.COMPLETED
    assert not Refund.objects.filter(ticket=ticket).exists()  # nothing paid: the parts were the remedy


def test_beside_compensation_finance_pays_and_the_parts_still_go_out_once(buyer, staff):
    ticket = pending(buyer, lines=TWO_LINES)

    services.reship_ticket(ticket_id=ticket.pk, actor=staff["ops"], lines=[claimed(ticket)],
                           compensation="10.00", note="Lid cracked: new lid sent, 10.00 for the trouble.")

    ticket.refresh_from_db()
    assert (ticket.status, ticket.refund_amount, ticket.is_compensation) == (S.AWAITING_REFUND, Decimal("10.00"),
                                                                             True)
    assert [e.transition for e in ticket.events.order_by("at", "pk")] == ["submit", "compensate", "reship"]
    journeys.finance_approve(ticket, staff)
    assert status_of(ticket) == S.COMPLETED
    assert Refund.objects.get(ticket=ticket).amount == Decimal("10.00")

    warehouse.record_outbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=[claimed(ticket)],
                              courier="SF Express", tracking_no="SF124")

    ticket.refresh_from_db()
    assert ticket.status == S.COMPLETED and ticket.replacement_shipped_at is not None
    assert ticket.events.filter(transition="ship_replacement").count() == 1
    with pytest.raises(InvalidTransition):  # the parts went out; a second parcel is refused
        warehouse.record_outbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=[claimed(ticket)],
                                  courier="SF Express", tracking_no="SF125")


@pytest.mark.parametrize(("kwargs", "error", "field"), [
    ({"lines": []}, FieldRequired, "lines"),
    ({"lines": [{"order_line_id": "NOT-OURS", "quantity": 1}]}, FieldInvalid, "lines.0.order_line_id"),
    ({"lines": "claimed+1"}, FieldInvalid, "lines.0.quantity"),
    ({"compensation": "cap+0.01"}, AmountAboveMaximum, "compensation"),
    ({"compensation": "0.00"}, FieldInvalid, "compensation"),
    ({"compensation": "5.00", "note": " "}, FieldRequired, "note"),
])
def test_bad_input_names_the_field_and_changes_nothing(buyer, staff, kwargs, error, field):
    ticket = pending(buyer, lines=TWO_LINES)
    if kwargs.get("lines") == "claimed+1":
        kwargs = {"lines": [claimed(ticket, 0, 2)]}  # one unit was claimed
    if kwargs.get("compensation") == "cap+0.01":
        kwargs = {"compensation": services.compensation_cap(ticket) + Decimal("0.01")}
    call = {"lines": [claimed(ticket)], "note": "Missing part", **kwargs}

    with pytest.raises(error) as refused:
        services.reship_ticket(ticket_id=ticket.pk, actor=staff["ops"], **call)

    assert refused.value.field == field
    assert status_of(ticket) == S.PENDING_REVIEW
    assert not OutboundRequest.objects.exists()
    assert not ticket.events.exclude(transition="submit").exists()


def test_only_ops_re_ships_and_only_a_ticket_waiting_for_review(buyer, staff):
    ticket = pending(buyer)
    for role in ("finance", "warehouse"):
        with pytest.raises(NotAllowed):
            services.reship_ticket(ticket_id=ticket.pk, actor=staff[role], lines=[claimed(ticket)])
    journeys.reject(ticket, staff)
    with pytest.raises(InvalidTransition):
        services.reship_ticket(ticket_id=ticket.pk, actor=staff["ops"], lines=[claimed(ticket)])
    assert not OutboundRequest.objects.exists()


def test_a_second_decision_after_a_send_back_supersedes_the_open_request(buyer, staff):
    ticket = pending(buyer, lines=TWO_LINES)
    services.reship_ticket(ticket_id=ticket.pk, actor=staff["ops"], lines=[claimed(ticket)], compensation="5.00",
                           note="Lid cracked")
    refunds.finance_reject_ticket(ticket_id=ticket.pk, actor=staff["finance"], reason="Ask for a photo first.")
    services.reship_ticket(ticket_id=ticket.pk, actor=staff["ops"], lines=[claimed(ticket, 1, 3)])

    assert sorted(OutboundRequest.objects.filter(ticket=ticket).values_list("status", flat=True)) == [
        "open", "superseded"]
    assert request_lines(ticket) == [(claimed(ticket, 1)["order_line_id"], 3)]
    assert status_of(ticket) == S.AWAITING_EXCHANGE


# ---------------------------------------------------------------------------------------------- API


def test_api_reship_alone_and_beside_compensation(buyer, staff):
    ops = client_for(staff["ops"])
    alone, settled = pending(buyer, lines=TWO_LINES), pending(buyer, lines=TWO_LINES)

    response = ops.post(f"{API}/staff/tickets/{alone.ticket_no}/reship/",
                        {"lines": [claimed(alone)], "note": "Missing charger"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "awaiting_exchange"
    assert "reship" in [row["transition"] for row in response.json()["timeline"]]

    response = ops.post(f"{API}/staff/tickets/{settled.ticket_no}/reship/",
                        {"lines": [claimed(settled)], "note": "Cracked lid", "compensation": "10.00"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["refund_amount"]) == ("awaiting_refund", "10.00")
    assert OutboundRequest.objects.filter(status="open").count() == 2

    assert_error(ops.post(f"{API}/staff/tickets/{alone.ticket_no}/reship/", {"lines": [claimed(alone)]},
                          format="json"), 409, "invalid_transition")


@pytest.mark.parametrize(("body", "field"), [
    ({}, "lines"),
    ({"lines": [{"order_line_id": "NOT-OURS", "quantity": 1}]}, "lines.0.order_line_id"),
    ({"lines": [{"order_line_id": "X", "quantity": 0}]}, "lines.0.quantity"),
    ({"lines": "all"}, "lines"),
    ({"compensation": "1000.00", "note": "x"}, "compensation"),
    ({"compensation": "abc", "note": "x"}, "compensation"),
])
def test_api_refuses_bad_input_with_the_field(buyer, staff, body, field):
    ticket = pending(buyer, lines=TWO_LINES)
    body = {"lines": [claimed(ticket)], **body} if "lines" not in body and body else body

    response = client_for(staff["ops"]).post(f"{API}/staff/tickets/{ticket.ticket_no}/reship/", body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["fields"], response.json()
    assert status_of(ticket) == S.PENDING_REVIEW and not OutboundRequest.objects.exists()


@pytest.mark.parametrize("role", ["finance", "warehouse", "buyer"])
def test_api_reship_is_ops_work(buyer, staff, role):
    ticket = pending(buyer)
    user = ticket.buyer.user if role == "buyer" else staff[role]

    response = client_for(user).post(f"{API}/staff/tickets/{ticket.ticket_no}/reship/",
                                     {"lines": [claimed(ticket)]}, format="json")

    assert response.status_code == 403
    assert status_of(ticket) == S.PENDING_REVIEW


# --------------------------------------------------------------------------------------------- page


def _act(user, ticket, **data):
    client = Client()
    client.force_login(user)
    return client, client.post(reverse("admin:tickets_ticket_act", args=[ticket.pk]), {"action": "reship", **data})


def test_the_page_re_ships_parts_at_once_and_confirms_first_when_money_moves_too(buyer, staff):
    ticket = pending(buyer, lines=TWO_LINES)
    cups = ticket.lines.order_by("pk")[1]

    client, asked = _act(staff["ops"], ticket, **{f"part_{cups.pk}": "2", "compensation": "5.00", "note": "Cracked"})
    assert asked.status_code == 200 and "Yes, re-ship and compensate (5.00)" in asked.content.decode()
    assert status_of(ticket) == S.PENDING_REVIEW and not OutboundRequest.objects.exists()

    client, done = _act(staff["ops"], ticket, **{f"part_{cups.pk}": "2", "note": "Two cups broken"})
    assert done.status_code == 302
    assert status_of(ticket) == S.AWAITING_EXCHANGE
    assert request_lines(ticket) == [(cups.order_line.line_id, 2)]
    html = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    assert 'id="reship-info"' in html and f"{cups.order_line.product_name} × 2" in html


def test_the_page_refuses_no_parts_and_too_many_keeping_what_was_typed(buyer, staff):
    ticket = pending(buyer, lines=TWO_LINES)
    cups = ticket.lines.order_by("pk")[1]

    client, refused = _act(staff["ops"], ticket, note="Nothing chosen")
    html = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    assert "Say how many units of which line to send." in html and 'value="Nothing chosen"' in html

    client, refused = _act(staff["ops"], ticket, **{f"part_{cups.pk}": "4"})  # three were claimed
    html = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    assert f'id="reship_part_{cups.pk}"' in html and 'value="4"' in html
    assert status_of(ticket) == S.PENDING_REVIEW and not OutboundRequest.objects.exists()
