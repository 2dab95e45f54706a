"""The README's first walk as seed_demo prints it, step by step, to a completed refund: the buyer's steps are
the printed commands (their token, body and URL, run against the API), the staff steps are what the printout
tells each role to do in the admin (the search that finds the claim, the scan that opens the receive form,
the finance queue that lists it), then the button's own service."""

import json
import re
import shlex
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from refunds import services as refunds
from tickets import services as tickets
from tickets.models import Ticket
from warehouse import services as warehouse

pytestmark = pytest.mark.django_db
BASE = "http://127.0.0.1:8000"


def printed_walk() -> list[str]:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("A first walk"))
    return lines[start:]


def run_curl(command: str, ticket_no: str | None = None):
    """One printed curl, run against the API in process: its token, its body, its method and its URL."""
    if ticket_no is not None:
        command = command.replace("$TICKET", ticket_no)
    words = shlex.split(command.split(" | ")[0].removeprefix("TICKET=$(").strip())
    assert words[0] == "curl", command
    headers = [words[i + 1] for i, w in enumerate(words) if w == "-H"]
    token = next(h.split("Token ")[1] for h in headers if h.startswith("Authorization: Token "))
    body = next((words[i + 1] for i, w in enumerate(words) if w == "-d"), None)
    url = next(w for w in words if w.startswith(BASE)).removeprefix(BASE)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    if body is None:
        return client.get(url)
    return client.post(url, json.loads(body), format="json")


def admin_as(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def step(walk: list[str], number: int) -> list[str]:
    """The lines of step ``number``: its own line and the commands under it."""
    start = next(i for i, line in enumerate(walk) if line.startswith(f"{number}. "))
    end = next((i for i, line in enumerate(walk) if i > start and re.match(r"\d\. ", line)), len(walk))
    return walk[start:end]


def test_the_printed_walk_takes_alices_return_to_a_completed_refund(django_capture_on_commit_callbacks):
    walk = printed_walk()
    users = get_user_model().objects

    # 1. alice: what she may claim, then the claim, its number kept for the steps below.
    eligibility_cmd, claim_cmd = [line.strip() for line in step(walk, 1)[1:]]
    eligibility = run_curl(eligibility_cmd)
    assert eligibility.status_code == 200
    assert "return_refund" in eligibility.json()["lines"][0]["allowed_types"]
    assert claim_cmd.startswith("TICKET=$(curl ") and '["ticket_no"]' in claim_cmd
    claimed = run_curl(claim_cmd)
    assert claimed.status_code == 201, claimed.content
    ticket_no = claimed.json()["ticket_no"]
    ticket = Ticket.objects.get(ticket_no=ticket_no)
    assert (ticket.status, ticket.type) == ("pending_review", "return_refund")

    # 2. ops: the search the printout names finds it; approve (the review page's button is this service).
    ops_step = " ".join(step(walk, 2))
    assert "due for review in 48 hours" in ops_step
    order_no = re.search(r"search (\S+) ", ops_step).group(1)
    queue = admin_as("ops").get("/admin/tickets/ticket/", {"q": order_no})
    assert queue.status_code == 200
    assert ticket_no in queue.content.decode()
    tickets.approve_ticket(ticket_id=ticket.pk, actor=users.get(username="ops"))
    ticket.refresh_from_db()
    assert ticket.status == "awaiting_return"
    assert ticket.return_address == ticket.shop.return_address != ""

    # 3. alice sends the goods back with the printed command.
    [shipment_cmd] = [line.strip() for line in step(walk, 3)[1:]]
    shipped = run_curl(shipment_cmd, ticket_no)
    assert shipped.status_code == 200, shipped.content
    assert shipped.json()["shipments"][0]["tracking_no"] in shipment_cmd

    # 4. warehouse: the printed tracking number, scanned, opens this ticket's receive form; all passed.
    tracking = re.search(r"scan or type (\S+):", " ".join(step(walk, 4))).group(1)
    scan = admin_as("warehouse").get("/admin/warehouse/arrivalticket/", {"q": tracking})
    assert scan.status_code == 302
    assert scan["Location"].endswith(f"/{ticket.pk}/receive/")
    warehouse.record_inbound(ticket_id=ticket.pk, actor=users.get(username="warehouse"), note="As sold.",
                             lines=[{"order_line_id": line.order_line.line_id, "quantity": line.quantity,
                                     "accepted": True} for line in ticket.lines.select_related("order_line")])
    ticket.refresh_from_db()
    assert ticket.status == "awaiting_refund"

    # 5. finance: the queue lists it; approving pays it; alice's printed command shows it done.
    finance_step = step(walk, 5)
    assert "Refunds to approve" in finance_step[0]
    assert ticket_no in admin_as("finance").get("/admin/refunds/refundqueueticket/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=users.get(username="finance"))
    [detail_cmd] = [line.strip() for line in finance_step[1:]]
    done = run_curl(detail_cmd, ticket_no).json()
    assert (done["status"], done["refund_status"], done["refund_amount"]) == ("completed", "succeeded", "129.00")

    # 6. the service account's printed command reads this claim's whole story from the events feed, in order.
    [events_cmd] = [line.strip() for line in step(walk, 6)[1:]]
    feed = run_curl(events_cmd, ticket_no)
    assert feed.status_code == 200, feed.content
    assert [e["type"] for e in feed.json()["results"] if e["ticket_no"] == ticket_no] == [
        "ticket.submitted", "ticket.approved", "shipment.return_sent", "shipment.inbound", "ticket.awaiting_refund",
        "refund.approved", "refund.succeeded", "ticket.completed"]


def test_what_seed_demo_says_is_true():
    """It no longer says the new claim is at the top of the queue (the queue is in due order: older claims
    are due first), and the language switcher is where it is: at the top left, beside the site's name."""
    out = StringIO()
    call_command("seed_demo", stdout=out)
    printed = out.getvalue()

    assert "top of the" not in printed
    assert "top right" not in printed
    assert "switcher at the top left" in printed
    page = admin_as("ops").get("/admin/").content.decode()
    branding = page[page.index('id="site-name"'):page.index('id="user-tools"')]
    assert 'id="language-switcher"' in branding  # in the header's left part, with the site's name
