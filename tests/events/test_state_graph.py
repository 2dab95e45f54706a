"""GET /api/v1/meta/states/: the ticket's states, which are final, every move read off the machine itself,
and which events each move writes, for any authenticated caller."""

import pytest

from events import catalogue
from tests.factories import client_for
from tickets.models import EventKind, Ticket

pytestmark = pytest.mark.django_db
S = Ticket.Status


@pytest.fixture
def graph(buyer):
    response = client_for(buyer.user).get("/api/v1/meta/states/")
    assert response.status_code == 200
    return response.json()


def moves(graph, transition: str) -> dict[tuple, list[str]]:
    return {(m["from"], m["to"]): m["events"] for m in graph["transitions"] if m["transition"] == transition}


def test_every_status_is_listed_with_final_exactly_for_the_final_ones(graph):
    assert [s["code"] for s in graph["states"]] == [code for code, _label in S.choices]
    assert {s["code"] for s in graph["states"] if s["final"]} == {str(s) for s in Ticket.FINAL}
    assert set(graph["final"]) == {"rejected", "cancelled", "closed", "completed"}
    assert graph["initial"] == "pending_review"


def test_the_moves_are_the_machines_own_with_every_target_of_approve_and_receive_goods(graph):
    machine = {(t.name, str(t.source)) for t in Ticket._meta.get_field("status").get_all_transitions(Ticket)}
    listed = {(m["transition"], m["from"]) for m in graph["transitions"] if m["transition"] not in catalogue.OTHER_MOVES}
    assert listed == machine

    assert moves(graph, "approve") == {
        ("pending_review", "awaiting_refund"): ["ticket.approved"],
        ("pending_review", "awaiting_return"): ["ticket.approved"],
        ("pending_review", "awaiting_exchange"): ["ticket.approved"],
    }
    assert moves(graph, "receive_goods") == {
        ("awaiting_return", "awaiting_refund"): ["shipment.inbound", "ticket.awaiting_refund"],
        ("awaiting_return", "awaiting_exchange"): ["shipment.inbound"],
        ("awaiting_return", "pending_review"): ["shipment.inbound", "ticket.in_review"],
    }
    assert moves(graph, "cancel") == {("pending_review", "cancelled"): ["ticket.cancelled"],
                                      ("awaiting_return", "cancelled"): ["ticket.cancelled"]}


def test_each_move_names_the_events_it_writes(graph):
    assert moves(graph, "refund_succeeded") == {("awaiting_refund", "completed"): ["refund.succeeded", "ticket.completed"]}
    assert moves(graph, "finance_approve") == {("awaiting_refund", "awaiting_refund"): ["refund.approved"]}
    assert moves(graph, "finance_reject") == {("awaiting_refund", "pending_review"): ["ticket.in_review"]}
    assert moves(graph, "record_return_shipment") == {("awaiting_return", "awaiting_return"): ["shipment.return_sent"]}
    assert moves(graph, "ship_replacement") == {("awaiting_exchange", "awaiting_exchange"): ["shipment.outbound"]}
    assert moves(graph, "confirm_receipt") == {("awaiting_exchange", "completed"): ["ticket.completed"]}
    assert moves(graph, "close") == {("awaiting_return", "closed"): ["ticket.closed"]}
    assert moves(graph, "reject") == {("pending_review", "rejected"): ["ticket.rejected"]}
    for decision in ("auto_approve", "compensate", "reship"):
        assert set(sum(moves(graph, decision).values(), [])) == {"ticket.approved"}


def test_the_kinds_that_are_no_transition_are_listed_too(graph):
    """Every timeline kind that writes an event appears: the claim, the system's confirmation, a refused refund."""
    assert moves(graph, "submit") == {(None, "pending_review"): ["ticket.submitted"]}
    assert moves(graph, "auto_confirm_receipt") == {("awaiting_exchange", "completed"): ["ticket.completed"]}
    assert moves(graph, "refund_failed") == {("awaiting_refund", "awaiting_refund"): ["refund.failed"]}
    written = {t for m in graph["transitions"] for t in m["events"]}
    assert written == set(catalogue.TYPES) - {"deadline.warning"}  # a warning is no move: the sweep writes it
    assert {m["transition"] for m in graph["transitions"]} >= set(catalogue.FACTS)


def test_no_move_leaves_a_final_state_and_only_final_events_enter_one(graph):
    final = set(graph["final"])
    assert not [m for m in graph["transitions"] if m["from"] in final]
    for move in graph["transitions"]:
        if move["to"] in final and move["from"] not in final:
            assert catalogue.TYPES[move["events"][-1]].final, move
    final_types = {t["type"] for t in graph["event_types"] if t["final"]}
    assert final_types == {"ticket.rejected", "ticket.cancelled", "ticket.closed", "ticket.completed"}
    assert [t["type"] for t in graph["event_types"]] == list(catalogue.TYPES)


def test_internal_rows_write_no_event():
    for kind in (EventKind.NOTE, EventKind.ASSIGN, EventKind.ESCALATE, EventKind.RETENTION_ATTEMPT,
                 EventKind.INTERCEPT_REQUESTED, EventKind.INTERCEPT_HELD):
        assert catalogue.types_for(kind, S.AWAITING_REFUND, S.AWAITING_REFUND) == [], kind


def test_the_graph_needs_a_login():
    response = client_for(None).get("/api/v1/meta/states/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
