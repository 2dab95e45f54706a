"""History nobody can rewrite (issue #14): the history tables, the timeline and the other append-only
records refuse UPDATE, DELETE and TRUNCATE whatever code runs; a change made through a request records
who made it, one made by raw SQL records no context."""

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.db.utils import DatabaseError

from aftersales.history import ALLOW_TRUNCATE
from demo import journeys
from tests.api_helpers import API, pending
from tests.factories import client_for
from tickets.models import Ticket
from warehouse.models import InboundLine

pytestmark = pytest.mark.django_db

HISTORY = sorted(m._meta.db_table for m in apps.get_models() if m.__name__.endswith("History"))
APPEND_ONLY = ["tickets_timelineevent", "tickets_note", "tickets_returnshipment", "refunds_refundattempt",
               "warehouse_stockmovement"]


def refused(sql: str) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL {ALLOW_TRUNCATE} = 'off'")
            cursor.execute(sql)
    except DatabaseError:
        return True
    return False


def test_every_history_table_and_the_timeline_are_covered():
    assert {"tickets_tickethistory", "refunds_refundhistory", "warehouse_inboundlinehistory",
            "warehouse_outboundlinehistory"} <= set(HISTORY)


def rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 -- table names from the models
        return cursor.fetchone()[0]


# Where the journeys below leave rows: UPDATE and DELETE are tried on rows there, not on an empty table.
FILLED = {"tickets_tickethistory", "tickets_ticketlinehistory", "refunds_refundhistory", "orders_orderhistory",
          "warehouse_inboundhistory", "warehouse_inboundlinehistory", "warehouse_outboundlinehistory",
          "tickets_timelineevent", "tickets_note", "warehouse_stockmovement", "refunds_refundattempt"}


@pytest.mark.parametrize("table", HISTORY + APPEND_ONLY)
def test_update_delete_and_truncate_are_refused(table, buyer, staff):
    ticket = journeys.advance(pending(buyer, type="return_refund"), Ticket.Status.COMPLETED, staff=staff)
    journeys.advance(pending(buyer, type="exchange"), Ticket.Status.COMPLETED, staff=staff)
    client_for(staff["ops"]).post(f"{API}/staff/tickets/{ticket.ticket_no}/notes/", {"text": "x"}, format="json")
    column = "pgh_label" if table in HISTORY else "id"
    before = rows(table)
    assert before > 0 or table not in FILLED

    assert refused(f"TRUNCATE {table} CASCADE")  # a statement trigger: refused even on an empty table
    if before:  # row triggers fire for the rows there are
        assert refused(f"UPDATE {table} SET {column} = {column}")  # noqa: S608
        assert refused(f"DELETE FROM {table}")  # noqa: S608
    assert rows(table) == before


def test_a_quantity_changed_by_raw_sql_leaves_a_history_row_without_context(buyer, staff):
    ticket = journeys.advance(pending(buyer, type="return_refund"), Ticket.Status.AWAITING_RETURN, staff=staff)
    journeys.receive(ticket, staff)
    line = InboundLine.objects.get(inbound__ticket=ticket)

    with connection.cursor() as cursor:
        cursor.execute("UPDATE warehouse_inboundline SET quantity = quantity + 1 WHERE id = %s", [line.pk])

    event = line.history.order_by("-pgh_created_at", "-pgh_id").first()
    assert (event.pgh_label, event.quantity, event.pgh_context_id) == ("update", line.quantity + 1, None)


def test_a_change_through_the_api_records_the_user_and_the_path(buyer, staff):
    ticket = pending(buyer)

    response = client_for(staff["ops"]).post(f"{API}/staff/tickets/{ticket.ticket_no}/approve/", {}, format="json")

    assert response.status_code == 200
    event = ticket.history.order_by("-pgh_created_at", "-pgh_id").first()
    assert event.pgh_context.metadata["username"] == "ops1"
    assert event.pgh_context.metadata["url"] == f"/api/v1/staff/tickets/{ticket.ticket_no}/approve/"


def test_a_quantity_received_through_the_admin_records_the_clerk_and_the_page(buyer, staff):
    from django.test import Client
    from django.urls import reverse

    from tests.warehouse.test_flows import returned
    from tests.warehouse.test_screens import receive_post, receive_url

    ticket = returned(buyer, staff)
    clerk = Client()
    clerk.force_login(staff["warehouse"])

    response = clerk.post(receive_url(ticket), receive_post(ticket))

    assert response.status_code == 302
    page = reverse("admin:warehouse_arrivalticket_receive", args=[ticket.pk])
    contexts = [line.history.get(pgh_label="insert").pgh_context.metadata
                for line in InboundLine.objects.filter(inbound__ticket=ticket)]
    assert contexts and all(c["username"] == staff["warehouse"].username and c["url"] == page for c in contexts)


def test_the_ticket_page_shows_its_history_in_words_with_who(buyer, staff):
    from django.test import Client
    from django.urls import reverse

    ticket = pending(buyer)
    client_for(staff["ops"]).post(f"{API}/staff/tickets/{ticket.ticket_no}/approve/", {}, format="json")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tickets_ticket SET fee_reason = 'typed in psql' WHERE id = %s", [ticket.pk])
    browser = Client()
    browser.force_login(staff["finance"])

    html = browser.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()

    assert 'id="history"' in html
    assert "ops1 · changed" in html and "status: pending review → awaiting refund" in html
    assert "reviewer: — → ops1" in html  # a related row by its name, not its id
    assert "raw SQL (no request, no task) · changed" in html and "fee reason: — → typed in psql" in html
