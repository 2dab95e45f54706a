"""Refusals are loud (issue #21): an action that sends money says per ticket what became of it; a refund
the gateway refused is marked in finance's queue, found by its filter and shown on the ticket; once the
ticket is paid another way, the refused record is settled and leaves finance's work list."""

from decimal import Decimal

import pytest
from django.contrib import messages
from django.contrib.admin import helpers
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from aftersales.errors import InvalidTransition
from refunds import services
from refunds.models import Refund, reference_in_words
from refunds.screens import outcome_messages
from tests.factories import UserFactory
from tickets.models import Ticket
from tickets.presenters import timeline_row

pytestmark = pytest.mark.django_db
QUEUE = reverse("admin:refunds_refundqueueticket_changelist")
REFUNDS = reverse("admin:refunds_refund_changelist")


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def texts(response) -> list[str]:
    return [str(message) for message in messages.get_messages(response.wsgi_request)]


def approve_in_queue(client, tickets, capture):
    selection = {"action": "finance_approve_selected", helpers.ACTION_CHECKBOX_NAME: [t.pk for t in tickets],
                 "confirmed": "yes"}
    with capture(execute=True):
        return client.post(QUEUE, selection)


@pytest.mark.django_db(transaction=True)  # each approval commits, and its task runs then (eager), as in use
def test_the_queue_says_which_were_paid_and_which_the_gateway_refused_and_why(
        awaiting_refund, staff, gateway, django_capture_on_commit_callbacks):
    first, second, third = awaiting_refund(), awaiting_refund(), awaiting_refund()
    gateway.script = ["ok", "decline", "decline"]

    response = approve_in_queue(client_of(staff["finance"]), [first, second, third],
                                django_capture_on_commit_callbacks)

    said = texts(response)
    assert said[0] == "Paid 1 of 3 refunds."
    refused = [t for t in (first, second, third) if Refund.objects.get(ticket=t).status == "failed"]
    assert len(refused) == 2
    for ticket in refused:
        assert f"{ticket.ticket_no} refused by the gateway: scripted: the account is closed" in said
    assert not any("done" in text for text in said)


def test_a_refund_not_answered_yet_is_said_to_be_on_its_way(awaiting_refund, staff, gateway,
                                                           django_capture_on_commit_callbacks):
    """Tasks queued, not run at once: nothing is known yet, and the message says so."""
    ticket = awaiting_refund()
    with django_capture_on_commit_callbacks(execute=False):  # the task is never run here
        services.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])

    said = outcome_messages([(ticket.pk, ticket.ticket_no)], [])

    assert [text for _, text in said] == [
        f"1 sent to the gateway ({ticket.ticket_no}); its answer shows in Refunds to approve and on the ticket "
        "when it comes."]


def test_a_stuck_refund_and_a_refusal_before_sending_are_named(awaiting_refund, staff, gateway,
                                                              django_capture_on_commit_callbacks):
    ticket = awaiting_refund()
    gateway.script = ["error"]
    with django_capture_on_commit_callbacks(execute=True):
        services.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])

    said = [text for _, text in outcome_messages([(ticket.pk, ticket.ticket_no)], [("AS-X", "Not yours.")])]

    assert said == ["Paid 0 of 2 refunds.",
                    f"{ticket.ticket_no}: the gateway did not answer (scripted: service unavailable); it is asked "
                    "again, or send it again now.", "AS-X not paid: Not yours."]


def test_a_refused_ticket_is_marked_in_the_queue_found_by_its_filter_and_bannered(
        awaiting_refund, staff, gateway, django_capture_on_commit_callbacks):
    refused, fresh = awaiting_refund(), awaiting_refund()
    gateway.script = ["decline"]
    with django_capture_on_commit_callbacks(execute=True):
        services.finance_approve_ticket(ticket_id=refused.pk, actor=staff["finance"])
    other_finance = UserFactory(username="finance2", groups=["finance"], is_staff=True)
    client = client_of(other_finance)

    listed = client.get(QUEUE).content.decode()
    assert "refused by the gateway" in listed and fresh.ticket_no in listed and refused.ticket_no in listed
    found = client.get(QUEUE, {"refund": "refused"}).content.decode()
    assert refused.ticket_no in found and fresh.ticket_no not in found
    page = client.get(reverse("admin:tickets_ticket_change", args=[refused.pk])).content.decode()
    assert 'id="refund-banner"' in page and "scripted: the account is closed" in page
    assert 'id="finance_approve-form"' in page  # approve again, from the same page


def test_a_refused_refund_is_settled_once_a_second_approval_pays_and_leaves_the_work_list(
        awaiting_refund, staff, gateway, django_capture_on_commit_callbacks):
    ticket = awaiting_refund()
    gateway.script = ["decline", "ok"]
    with django_capture_on_commit_callbacks(execute=True):
        services.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    declined = Refund.objects.get(ticket=ticket)
    finance = client_of(staff["finance"])
    assert ticket.ticket_no in finance.get(REFUNDS, {"needs": "failed"}).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        services.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])

    declined.refresh_from_db()
    paid = Refund.objects.get(ticket=ticket, status="succeeded")
    assert (declined.status, declined.superseded_by) == ("failed", paid)
    assert ticket.ticket_no not in finance.get(REFUNDS, {"needs": "failed"}).content.decode()
    with pytest.raises(InvalidTransition, match="paid by a later one"):
        services.retry_refund(refund_id=declined.pk, actor=staff["finance"])
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.COMPLETED


def test_a_refused_refund_paid_by_hand_settles_the_earlier_refusals(awaiting_refund, staff, gateway,
                                                                     django_capture_on_commit_callbacks):
    ticket = awaiting_refund()
    gateway.script = ["decline", "decline"]
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            services.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    first, second = Refund.objects.filter(ticket=ticket).order_by("pk")

    services.mark_refund_paid_manually(refund_id=second.pk, actor=staff["finance"], reason="bank transfer",
                                       reference="BT-1")

    first.refresh_from_db()
    assert first.superseded_by_id == second.pk
    assert reference_in_words(Refund.objects.get(pk=second.pk).gateway_reference) == "manual: BT-1"
    # The ticket's timeline (tickets' presenter) reads the reference in the reader's words too.
    paid = ticket.events.get(transition="refund_succeeded")
    with translation.override("zh-hans"):
        shown = dict(timeline_row(paid).changes)
    assert "手动: BT-1" in shown.values() and not any("manual" in value for value in shown.values())


def test_send_again_says_what_to_do_instead_for_a_refused_refund(awaiting_refund, staff, gateway,
                                                                django_capture_on_commit_callbacks):
    ticket = awaiting_refund()
    gateway.script = ["decline"]
    with django_capture_on_commit_callbacks(execute=True):
        services.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    refund = Refund.objects.get(ticket=ticket)

    response = client_of(staff["finance"]).post(REFUNDS, {"action": "retry_selected",
                                                          helpers.ACTION_CHECKBOX_NAME: [refund.pk]})

    said = " ".join(texts(response))
    assert "approve the refund again in Refunds to approve" in said
    assert "Send again now (stuck refunds under way" in client_of(staff["finance"]).get(REFUNDS).content.decode()


def test_the_database_refuses_a_paid_refund_marked_as_settled(awaiting_refund, staff, gateway,
                                                             django_capture_on_commit_callbacks):
    ticket = awaiting_refund()
    with django_capture_on_commit_callbacks(execute=True):
        services.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    paid = Refund.objects.get(ticket=ticket)

    with pytest.raises(IntegrityError):
        Refund.objects.filter(pk=paid.pk).update(superseded_by=paid)


def test_the_reviewer_sees_approve_disabled_with_why(awaiting_refund, staff, gateway):
    ticket = awaiting_refund()
    ticket.reviewer = UserFactory(username="both", groups=["ops", "finance"], is_staff=True)
    ticket.save(update_fields=["reviewer"])

    page = client_of(ticket.reviewer).get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()

    assert "You reviewed this ticket, so another finance user approves its refund" in page
    assert 'value="Approve refund…" disabled' in page
    assert 'name="action" value="finance_approve"' not in page


def test_queue_totals_are_exact_with_the_currency_sign(awaiting_refund, staff):
    awaiting_refund(lines=(("general", "89.00", 1, None), ("general", "12.50", 2, None)))
    awaiting_refund(lines=(("general", "1045.10", 1, None),))

    listed = client_of(staff["finance"]).get(QUEUE).content.decode()

    assert "2 refunds in this list, ¥1,159.10 in all." in listed
    assert 'data-amount="114.00"' in listed and "¥12.50 × 2" in listed
    assert "refunds/queue_total.js" in listed and "<script>" not in listed


def test_lines_add_up_to_the_goods_with_units_refused_at_inspection_excluded():
    """Inspection per unit: one line may come as two rows (1 accepted, 1 refused); units are summed."""
    from types import SimpleNamespace as Row

    from refunds.breakdown import goods_rows
    from tickets.payloads import LineInspection

    cups = Row(order_line=Row(line_id="L1", product_name="cup", unit_price=Decimal("45.00")), quantity=2,
               refund_amount=Decimal("90.00"))
    pot = Row(order_line=Row(line_id="L2", product_name="pot", unit_price=Decimal("30.00")), quantity=3,
              refund_amount=Decimal("90.00"))
    inspection = (LineInspection("L1", 1, True), LineInspection("L1", 1, False, "damaged"),
                  LineInspection("L2", 3, True))

    rows = goods_rows([cups, pot], inspection, Decimal("134.00"))  # what the inspection recomputed

    assert [(r.product, r.units, r.refused) for r in rows] == [("cup", 1, 1), ("pot", 3, 0)]
    assert sum(r.amount for r in rows) == Decimal("134.00")
    assert rows[0].amount < rows[1].amount
    untouched = goods_rows([cups, pot], None, Decimal("180.00"))
    assert [(r.units, r.refused, r.amount) for r in untouched] == [(2, 0, Decimal("90.00")), (3, 0, Decimal("90.00"))]


def test_finance_opens_a_ticket_from_its_queue_and_comes_back_to_it_filtered(awaiting_refund, staff, gateway):
    ticket = awaiting_refund()
    awaiting_refund()
    finance = client_of(staff["finance"])
    filters = "escalated=no"

    listed = finance.get(QUEUE, {"escalated": "no"}).content.decode()
    view = reverse("admin:refunds_refundqueueticket_change", args=[ticket.pk])
    assert f'href="{view}?_changelist_filters=escalated%3Dno"' in listed
    page = finance.get(view, {"_changelist_filters": filters}).content.decode()
    assert f'href="{QUEUE}?escalated=no">Refunds to approve</a>' in page  # the breadcrumb keeps the filter
    assert ">Tickets</a>" not in page
    act = reverse("admin:refunds_refundqueueticket_act", args=[ticket.pk])
    assert f'action="{act}?_changelist_filters=escalated%3Dno"' in page and 'id="finance_approve-form"' in page

    asked = finance.post(f"{act}?_changelist_filters=escalated%3Dno", {"action": "finance_approve"})
    assert 'id="confirm-form"' in asked.content.decode() and "Refunds to approve" in asked.content.decode()
    with_capture = finance.post(f"{act}?_changelist_filters=escalated%3Dno",
                                {"action": "finance_approve", "confirmed": "yes"})

    assert with_capture.status_code == 302 and with_capture.url == f"{QUEUE}?escalated=no"
    assert Refund.objects.filter(ticket=ticket).exists()


@pytest.mark.django_db(transaction=True)  # each call commits and its task runs then (eager), as in use
def test_a_stuck_refund_is_sent_again_from_the_ticket_banner(awaiting_refund, staff, gateway):
    ticket = awaiting_refund()
    gateway.script = ["error"]
    services.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    finance = client_of(staff["finance"])
    assert ticket.ticket_no in finance.get(QUEUE, {"refund": "stuck"}).content.decode()
    page = finance.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    assert "is stuck: the gateway has not answered" in page and 'name="action" value="finance_resend"' in page

    response = finance.post(reverse("admin:tickets_ticket_act", args=[ticket.pk]), {"action": "finance_resend"})

    assert "Paid 1 of 1 refund." in texts(response)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.COMPLETED


def test_the_ticket_shows_finance_lines_that_add_up_with_refused_units_excluded(staff, buyer):
    from demo import journeys
    from tests.factories import make_order, submit
    from tickets import services as tickets
    from warehouse import services as warehouse

    ticket = submit(make_order(buyer=buyer, lines=[("general", "45.00", 1, None), ("general", "30.00", 2, None)]),
                    type="return_refund", reason_code="quality_issue")
    ticket = journeys.advance(ticket, Ticket.Status.AWAITING_RETURN, staff=staff)
    journeys.ship_back(ticket, staff)
    cup, pot = ticket.lines.select_related("order_line").order_by("pk")
    warehouse.record_inbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=[
        {"order_line_id": cup.order_line.line_id, "quantity": 1, "accepted": True},
        {"order_line_id": pot.order_line.line_id, "quantity": 2, "accepted": False, "reject_reason": "used"}])
    ticket.refresh_from_db()
    again = UserFactory(username="ops2", groups=["ops"], is_staff=True)
    tickets.approve_ticket(ticket_id=ticket.pk, actor=again)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.AWAITING_REFUND and ticket.refund_amount == Decimal("45.00")

    page = client_of(staff["finance"]).get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    queue = client_of(staff["finance"]).get(QUEUE).content.decode()

    goods = page[page.index('id="refund-goods"'):page.index("</table>", page.index('id="refund-goods"'))]
    assert "2 refused at inspection, not refunded" in goods and "¥30.00 × 0" in goods
    assert "¥45.00 × 1</td><td class=\"num\">¥45.00" in goods and "¥0.00" in goods
    assert '<th class="num">¥45.00</th>' in goods
    assert "2 refused at inspection, not refunded" in queue
