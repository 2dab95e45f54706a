"""seed_bulk: many realistic tickets fast, that the screens and the queue read like real ones."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from tests.factories import UserFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_bulk_tickets_have_their_lines_events_and_due_times_and_the_queue_reads_them():
    call_command("seed_bulk", "300", stdout=StringIO())
    call_command("seed_bulk", "100", stdout=StringIO())  # a second run adds, with ids past the first

    assert Ticket.objects.count() == 400
    assert set(Ticket.objects.values_list("status", flat=True)) >= {"pending_review", "awaiting_refund", "completed"}
    ticket = Ticket.objects.filter(status="pending_review").first()
    assert ticket.lines.count() == 1 and ticket.events.get().transition == "submit"
    assert ticket.next_deadline_kind == "review" and ticket.next_deadline_at is not None
    assert not Ticket.objects.filter(status="completed", next_deadline_at__isnull=False).exists()

    client = Client()
    client.force_login(UserFactory(username="bulkops", groups=["ops"]))
    assert client.get("/admin/tickets/ticket/").status_code == 200
    assert client.get("/admin/tickets/ticket/", {"q": ticket.ticket_no[-7:]}).status_code == 200
    assert client.get(f"/admin/tickets/ticket/{ticket.pk}/change/").status_code == 200
