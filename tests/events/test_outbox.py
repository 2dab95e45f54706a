"""The outbox: an event exists if and only if its change committed; positions in commit order."""


import pytest
from django.db import transaction

from aftersales.errors import InvalidTransition
from events.models import Event
from events.outbox import sequence
from tests.factories import client_for, make_order, submit
from tickets import services


@pytest.mark.django_db
def test_a_claim_writes_one_submitted_event_with_what_the_buyer_sees(buyer):
    ticket = submit(make_order(buyer=buyer))

    [event] = Event.objects.filter(ticket=ticket)
    assert event.type == "ticket.submitted"
    assert event.ticket_no == ticket.ticket_no
    assert event.data["ticket"]["ticket_no"] == ticket.ticket_no
    assert event.data["ticket"]["status"] == "pending_review"
    assert "timeline" not in event.data["ticket"]
    assert event.position is None  # given after commit, by the sequencer


@pytest.mark.django_db
def test_a_rejection_carries_its_reason_and_a_note_writes_nothing(buyer, ops_user):
    ticket = submit(make_order(buyer=buyer))
    services.add_note(ticket_id=ticket.pk, actor=ops_user, text="the buyer called twice (internal)")
    services.reject_ticket(ticket_id=ticket.pk, actor=ops_user, reason="Photos show no defect.")

    events = list(Event.objects.filter(ticket=ticket).order_by("id"))
    assert [e.type for e in events] == ["ticket.submitted", "ticket.rejected"]
    assert events[1].data["rejection_reason"] == "Photos show no defect."
    assert "internal" not in str([e.data for e in events])
    assert "ops1" not in str([e.data for e in events])


@pytest.mark.django_db
def test_a_move_the_machine_refuses_writes_no_event(buyer, ops_user):
    ticket = submit(make_order(buyer=buyer))
    services.reject_ticket(ticket_id=ticket.pk, actor=ops_user, reason="No.")
    with pytest.raises(InvalidTransition):
        services.reject_ticket(ticket_id=ticket.pk, actor=ops_user, reason="Again.")

    assert Event.objects.filter(ticket=ticket).count() == 2


@pytest.mark.django_db
def test_a_transition_that_rolls_back_writes_no_event(buyer, ops_user):
    ticket = submit(make_order(buyer=buyer))
    with pytest.raises(RuntimeError), transaction.atomic():
        services.reject_ticket(ticket_id=ticket.pk, actor=ops_user, reason="No.")
        assert Event.objects.filter(ticket=ticket, type="ticket.rejected").count() == 1
        raise RuntimeError("the rest of the action failed")

    assert not Event.objects.filter(ticket=ticket, type="ticket.rejected").exists()


@pytest.mark.django_db
def test_sequencing_numbers_in_order_and_the_feed_reads_after_a_position(buyer, service_user):
    order = make_order(buyer=buyer, lines=(("general", "10.00", 1, None), ("general", "10.00", 1, None)))
    first = submit(order, lines=[(0, 1)])
    second = submit(order, lines=[(1, 1)])

    sequence()

    positions = list(Event.objects.order_by("id").values_list("position", flat=True))
    assert positions == sorted(positions) and None not in positions
    body = client_for(service_user).get("/api/v1/events/", {"after": positions[0]}).json()
    assert [e["ticket_no"] for e in body["results"]] == [second.ticket_no]
    assert body["results"][0]["type"] == "ticket.submitted"
    assert first.ticket_no != second.ticket_no


@pytest.mark.django_db
def test_the_database_keeps_an_event_as_written_and_its_position_once_given(buyer):
    from django.db import InternalError, ProgrammingError

    ticket = submit(make_order(buyer=buyer))
    event = Event.objects.get(ticket=ticket)

    for change in ({"data": {"ticket": "rewritten"}}, {"type": "ticket.approved"}):
        with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
            Event.objects.filter(pk=event.pk).update(**change)
    sequence()
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(position=999)
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        Event.objects.filter(pk=event.pk).delete()

    event.refresh_from_db()
    assert event.type == "ticket.submitted" and event.position is not None
