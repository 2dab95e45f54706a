"""Nothing is lost (SPEC §11): the timeline and notes cannot be edited or deleted, and every row change
to a ticket is copied by PostgreSQL triggers, even from code that bypasses the services."""

from decimal import Decimal

import pytest
from django.db import ProgrammingError, connection, transaction

from tests.factories import make_order, submit
from tickets import services
from tickets.models import Note, Ticket, TimelineEvent

pytestmark = pytest.mark.django_db


def test_timeline_rows_refuse_edits_and_deletes_in_the_app(buyer):
    event = submit(make_order(buyer=buyer)).events.get()

    event.reason = "rewritten"
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()
    assert TimelineEvent.objects.get(pk=event.pk).reason == ""


@pytest.mark.parametrize("statement", ["UPDATE tickets_timelineevent SET reason = 'x'",
                                       "DELETE FROM tickets_timelineevent"])
def test_the_database_refuses_to_rewrite_the_timeline(buyer, statement):
    submit(make_order(buyer=buyer))

    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)

    assert TimelineEvent.objects.filter(reason="").count() == 1


def test_the_database_refuses_to_rewrite_notes(buyer, ops_user):
    ticket = submit(make_order(buyer=buyer))
    services.add_note(ticket_id=ticket.pk, actor=ops_user, text="leaking, waiting for buyer's video")

    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        Note.objects.filter(ticket=ticket).update(text="nothing happened")

    assert Note.objects.get(ticket=ticket).text == "leaking, waiting for buyer's video"


def test_a_change_behind_the_services_back_is_still_recorded(buyer):
    ticket = submit(make_order(buyer=buyer))

    Ticket.objects.filter(pk=ticket.pk).update(refund_amount=Decimal("999.00"))  # code that "forgets"

    amounts = [str(row.refund_amount) for row in ticket.history.order_by("pgh_id")]
    assert amounts[-1] == "999.00"
    assert str(ticket.refund_amount) in amounts  # the value before is kept too
    assert ticket.history.filter(pgh_label="update").exists()
