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


# ---- Issue #19, finding 6: who made a change, the refund lines and the logs cannot be rewritten either ----------

LOGS = ["pghistory_context", "refunds_refundline", "django_admin_log", "axes_accesslog"]


def logs_filled(buyer, staff) -> None:
    """A row in each of LOGS: a claim paid back, approved through the API (a context: who), a change in the
    admin (its log), a login (the access log)."""
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.test import Client

    ticket = pending(buyer)
    client_for(staff["ops"]).post(f"{API}/staff/tickets/{ticket.ticket_no}/approve/", {}, format="json")
    journeys.finance_approve(ticket, staff)
    LogEntry.objects.log_actions(user_id=staff["ops"].pk, queryset=[ticket], action_flag=CHANGE,
                                 change_message="looked", single_object=True)
    assert Client(REMOTE_ADDR="203.0.113.7").post("/admin/login/", {"username": "ops1", "password": "pass-1234",
                                                                    "next": "/admin/"}).status_code == 302
    assert all(rows(table) for table in LOGS)


@pytest.mark.parametrize("table", LOGS)
def test_finding6_who_made_a_change_the_refund_lines_and_the_logs_refuse_update_delete_and_truncate(
        table, buyer, staff):
    logs_filled(buyer, staff)
    before = rows(table)

    assert refused(f"UPDATE {table} SET id = id")  # noqa: S608 -- table names from the list above
    assert refused(f"DELETE FROM {table}")  # noqa: S608
    assert refused(f"TRUNCATE {table} CASCADE")
    assert rows(table) == before


def test_finding6_a_logout_sets_the_login_rows_logout_time_once_and_nothing_else_changes(staff):
    from axes.models import AccessLog
    from django.test import Client

    browser = Client(REMOTE_ADDR="203.0.113.7")
    browser.post("/admin/login/", {"username": "ops1", "password": "pass-1234", "next": "/admin/"})
    login = AccessLog.objects.get(username="ops1")
    assert login.logout_time is None

    assert browser.post("/admin/logout/").status_code == 200  # axes sets the logout time: let through

    login.refresh_from_db()
    assert login.logout_time is not None
    assert refused(f"UPDATE axes_accesslog SET logout_time = now() WHERE id = {login.pk}")  # a second time
    assert refused(f"UPDATE axes_accesslog SET username = 'someone' WHERE id = {login.pk}")
    with connection.cursor() as cursor:  # a row still open: its logout time, and nothing with it
        cursor.execute("INSERT INTO axes_accesslog (user_agent, ip_address, username, http_accept, path_info,"
                       " attempt_time, session_hash) VALUES ('', '203.0.113.7', 'ops1', '', '/admin/login/', now(), '')"
                       " RETURNING id")
        open_row = cursor.fetchone()[0]
    assert refused(f"UPDATE axes_accesslog SET logout_time = now(), ip_address = '198.51.100.1' WHERE id = {open_row}")
    assert not refused(f"UPDATE axes_accesslog SET logout_time = now() WHERE id = {open_row}")


def test_finding6_naming_a_trigger_in_pgtrigger_ignore_skips_nothing(buyer, staff):
    """pgtrigger would skip the triggers a session names in `pgtrigger.ignore`, a setting any role may set:
    after migrate, no trigger is skipped, the history's guards and its recording alike."""
    ticket = journeys.advance(pending(buyer, type="return_refund"), Ticket.Status.AWAITING_RETURN, staff=staff)
    with connection.cursor() as cursor:
        cursor.execute("SELECT array_agg(tgname::text) FROM pg_trigger WHERE tgname LIKE 'pgtrigger_%%'")
        every_trigger = cursor.fetchone()[0]
    history = ticket.history.count()

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + ",".join(every_trigger) + "}"])
        assert refused("UPDATE tickets_tickethistory SET pgh_label = 'rewritten'")
        assert refused("DELETE FROM tickets_timelineevent")
        cursor.execute("UPDATE tickets_ticket SET fee_reason = 'unseen?' WHERE id = %s", [ticket.pk])

    assert ticket.history.count() == history + 1


def test_finding6_a_user_with_entries_in_the_admins_log_is_kept_and_the_delete_page_says_why(staff):
    """Deleting a user would delete their admin log entries, which the database refuses: the admin lists
    them as what protects the user, instead of failing."""
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from tests.factories import UserFactory

    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    LogEntry.objects.log_actions(user_id=staff["ops"].pk, queryset=[staff["finance"]], action_flag=CHANGE,
                                 change_message="renamed", single_object=True)
    admin = Client()
    admin.force_login(boss)

    page = admin.post(reverse("admin:auth_user_delete", args=[staff["ops"].pk]), {"post": "yes"})
    bulk = admin.post(reverse("admin:auth_user_changelist"),
                      {"action": "delete_selected", "_selected_action": [staff["ops"].pk], "post": "yes"})

    assert page.status_code == bulk.status_code == 200
    assert "protected related objects" in page.content.decode() and "Log entry: Changed" in page.content.decode()
    assert "protected related objects" in bulk.content.decode()
    assert get_user_model().objects.filter(pk=staff["ops"].pk).exists()


def test_finding6_the_login_log_is_read_in_the_admin_and_never_deleted_there(staff):
    from axes.models import AccessLog
    from django.test import Client
    from django.urls import reverse

    from tests.factories import UserFactory

    Client(REMOTE_ADDR="203.0.113.7").post("/admin/login/", {"username": "ops1", "password": "pass-1234"})
    login = AccessLog.objects.get(username="ops1")
    admin = Client()
    admin.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))

    listing = admin.get(reverse("admin:axes_accesslog_changelist"))
    delete = admin.post(reverse("admin:axes_accesslog_delete", args=[login.pk]), {"post": "yes"})

    assert listing.status_code == 200 and 'value="delete_selected"' not in listing.content.decode()
    assert delete.status_code == 403
    assert AccessLog.objects.filter(pk=login.pk).exists()
