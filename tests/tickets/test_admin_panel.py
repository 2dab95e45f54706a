"""The review panel on the ticket page, through Django's test client: each action is its own form; what
moves money is shown and confirmed first; a refused or abandoned action keeps what was typed."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from aftersales.errors import FieldRequired, InvalidTransition, NotAllowed
from aftersales.money import format_money
from demo import journeys
from tests.factories import make_order, submit
from tickets import services
from tickets.models import ReplyTemplate, Ticket

pytestmark = pytest.mark.django_db
S = Ticket.Status


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def act(client, ticket, **data):
    return client.post(reverse("admin:tickets_ticket_act", args=[ticket.pk]), data)


def page(client, ticket) -> str:
    return client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()


def input_value(html: str, input_id: str) -> str | None:
    tag = re.search(rf'<input[^>]*id="{input_id}"[^>]*>', html)
    value = re.search(r'value="([^"]*)"', tag.group(0)) if tag else None
    return value.group(1) if value else None


def test_approval_is_shown_with_its_amount_and_done_only_once_confirmed(ops_user, buyer):
    ticket = submit(make_order(buyer=buyer, lines=(("general", "120.00", 1, None),)), type="refund_only",
                    reason_code="missing_parts", photos=1)
    ops = client_of(ops_user)
    typed = {"action": "approve", "refund_amount": "100.00", "fee_reason": "Restocking fee agreed"}

    asked = act(ops, ticket, **typed)

    assert asked.status_code == 200
    assert "Yes, approve (100.00)" in asked.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == S.PENDING_REVIEW and not ticket.events.filter(transition="approve").exists()

    assert act(ops, ticket, **typed, confirmed="yes").status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.refund_amount, ticket.service_fee) == (S.AWAITING_REFUND, Decimal("100.00"),
                                                                         Decimal("20.00"))


def test_going_back_from_the_confirmation_keeps_what_was_typed(ops_user, buyer):
    ticket = submit(make_order(buyer=buyer), type="return_refund", reason_code="quality_issue")
    ops = client_of(ops_user)

    act(ops, ticket, action="approve", refund_amount="15.00", fee_reason="Scratched box", back="yes")

    html = page(ops, ticket)
    assert input_value(html, "approve_refund_amount") == "15.00"
    assert input_value(html, "approve_fee_reason") == "Scratched box"
    ticket.refresh_from_db()
    assert ticket.status == S.PENDING_REVIEW


def test_a_refused_action_keeps_what_was_typed_and_names_the_field(ops_user, buyer):
    ticket = submit(make_order(buyer=buyer), type="return_refund", reason_code="quality_issue")
    ops = client_of(ops_user)

    act(ops, ticket, action="approve", refund_amount="15.00", fee_reason="")  # lowered with no reason

    html = page(ops, ticket)
    assert "Fee reason: This field is required." in html  # the message
    assert input_value(html, "approve_refund_amount") == "15.00"
    fee_field = html[html.index('class="field-fee_reason'):]
    assert fee_field.index("errorlist") < fee_field.index("</div>")  # the error beside its field
    assert "Yes, approve" not in html
    ticket.refresh_from_db()
    assert ticket.status == S.PENDING_REVIEW


def test_the_approval_form_starts_at_the_services_defaults_so_a_whole_order_keeps_its_shipping(ops_user, buyer):
    """Refund only before shipment, above the automatic limit: the whole order, shipping included, as the API
    would approve it. Submitting the form as it opens must give the same."""
    order = make_order(buyer=buyer, status="unshipped", lines=(("general", "600.00", 1, None),), shipping_fee="10.00")
    ticket = submit(order, type="refund_only", reason_code="changed_mind")
    assert ticket.status == S.PENDING_REVIEW and ticket.shipping_refund == Decimal("10.00")
    ops = client_of(ops_user)

    html = page(ops, ticket)
    assert re.search(r'<input[^>]*id="approve_refund_shipping"[^>]*checked', html)
    act(ops, ticket, action="approve", refund_amount="", fee_reason="", refund_shipping="on", return_address="",
        confirmed="yes")

    ticket.refresh_from_db()
    assert (ticket.status, ticket.shipping_refund, ticket.refund_amount) == (S.AWAITING_REFUND, Decimal("10.00"),
                                                                             Decimal("610.00"))


def test_a_return_approved_at_zero_is_warned_about(ops_user, buyer):
    ticket = submit(make_order(buyer=buyer), type="return_refund", reason_code="quality_issue")

    asked = act(client_of(ops_user), ticket, action="approve", refund_amount="0.00", fee_reason="Buyer keeps nothing")

    assert "This approves a refund of 0.00" in asked.content.decode()


def test_compensation_is_confirmed_first(ops_user, buyer):
    ticket = submit(make_order(buyer=buyer, lines=(("general", "218.00", 1, None),)), type="return_refund",
                    reason_code="quality_issue")
    ops = client_of(ops_user)
    typed = {"action": "compensate", "amount": "43.60", "note": "Small stain; buyer agreed to 43.60"}

    assert "Yes, compensate (43.60)" in act(ops, ticket, **typed).content.decode()
    ticket.refresh_from_db()
    assert ticket.status == S.PENDING_REVIEW

    act(ops, ticket, **typed, confirmed="yes")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.refund_amount, ticket.is_compensation) == (S.AWAITING_REFUND, Decimal("43.60"), True)


def test_finance_pays_only_after_the_confirmation_and_a_send_back_needs_its_reason(staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_REFUND, staff=staff)
    finance = client_of(staff["finance"])

    assert act(finance, ticket, action="finance_reject", reason="  ").status_code == 302
    assert "Why it goes back to ops: This field is required." in page(finance, ticket)  # the label, not "reason"
    ticket.refresh_from_db()
    assert ticket.status == S.AWAITING_REFUND
    asked = act(finance, ticket, action="finance_approve")
    assert f"Yes, pay {format_money(ticket.refund_amount)}" in asked.content.decode()
    assert not ticket.refunds.exists()

    act(finance, ticket, action="finance_approve", confirmed="yes")
    assert ticket.refunds.get().amount == ticket.refund_amount


def test_a_confirmation_that_is_no_longer_true_is_refused(staff, buyer):
    """Asked to approve, but someone else decided meanwhile: the confirmed post is refused, nothing twice."""
    ticket = submit(make_order(buyer=buyer), type="return_refund", reason_code="quality_issue")
    ops = client_of(staff["ops"])
    act(ops, ticket, action="approve", refund_amount="", fee_reason="")
    services.reject_ticket(ticket_id=ticket.pk, actor=staff["ops"], reason="Another reviewer said no.")

    act(ops, ticket, action="approve", refund_amount="", fee_reason="", confirmed="yes")

    ticket.refresh_from_db()
    assert ticket.status == S.REJECTED
    assert "Cannot approve: this return and refund ticket is rejected (it is finished)." in page(ops, ticket)


def test_a_ticket_back_from_a_failed_inspection_says_so_with_the_result_per_line(staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_RETURN, staff=staff)
    journeys.receive_damaged(ticket, staff)

    html = page(client_of(staff["ops"]), ticket)

    banner = html[html.index('id="inspection-result"'):]
    assert "did not accept everything claimed" in banner
    assert f"{ticket.order.lines.get().line_id} × 2 rejected" in banner
    assert "Used and scratched" in banner


def test_the_reply_library_is_on_the_review_page_and_only_administrators_edit_it(staff, buyer, admin_user):
    ticket = submit(make_order(buyer=buyer), type="return_refund", reason_code="quality_issue")
    template = ReplyTemplate.objects.get(title="Re-ship the part, at our cost")

    html = page(client_of(staff["ops"]), ticket)
    assert 'id="reply-templates"' in html
    assert f'data-text="{template.text}"' in html

    url = reverse("admin:tickets_replytemplate_change", args=[template.pk])
    assert client_of(staff["ops"]).get(url).status_code == 200  # ops read it
    changed = {"step": "reship", "title": template.title, "text": "Edited by ops", "display_order": 1, "is_active": "on"}
    assert client_of(staff["ops"]).post(url, changed).status_code == 403
    assert client_of(admin_user).post(url, changed).status_code == 302
    template.refresh_from_db()
    assert template.text == "Edited by ops"


def test_a_bulk_approval_shows_the_count_and_the_total_and_asks_once(staff, buyer):
    first = submit(make_order(buyer=buyer, lines=(("general", "30.00", 1, None),)), type="refund_only",
                   reason_code="missing_parts", photos=1)
    second = submit(make_order(buyer=buyer, lines=(("general", "12.50", 1, None),)), type="refund_only",
                    reason_code="missing_parts", photos=1)
    ops = client_of(staff["ops"])
    chosen = {"action": "approve_selected", "_selected_action": [first.pk, second.pk]}

    asked = ops.post(reverse("admin:tickets_ticket_changelist"), {**chosen, "index": "0"})

    assert asked.status_code == 200
    assert "2 tickets, 42.50 in all." in asked.content.decode()
    assert Ticket.objects.filter(status=S.PENDING_REVIEW, pk__in=[first.pk, second.pk]).count() == 2

    ops.post(reverse("admin:tickets_ticket_changelist"), {**chosen, "confirmed": "yes"})
    assert Ticket.objects.filter(status=S.AWAITING_REFUND, pk__in=[first.pk, second.pk]).count() == 2


def test_a_retention_attempt_is_recorded_from_the_page_and_reads_in_the_timeline(staff, buyer):
    ticket = submit(make_order(buyer=buyer), type="return_refund", reason_code="no_reason_7d")
    ops = client_of(staff["ops"])

    act(ops, ticket, action="retention", offer="Offered 10.00 compensation to keep it", kept="no")

    event = ticket.events.get(transition="retention_attempt")
    assert (event.buyer_visible, event.reason, event.changes["outcome"]) == (
        False, "Offered 10.00 compensation to keep it", [None, "returning"])
    assert "the buyer still sends them back" in page(ops, ticket)
    ticket.refresh_from_db()
    assert ticket.status == S.PENDING_REVIEW  # ops then decides as usual


def test_retention_is_for_goods_coming_back_and_needs_the_offer(staff, buyer):
    refund_only = submit(make_order(buyer=buyer), type="refund_only", reason_code="missing_parts", photos=1)
    goods_back = submit(make_order(buyer=buyer), type="return_refund", reason_code="no_reason_7d")

    with pytest.raises(InvalidTransition):
        services.record_retention_attempt(ticket_id=refund_only.pk, actor=staff["ops"], offer="x", kept=True)
    with pytest.raises(FieldRequired):
        services.record_retention_attempt(ticket_id=goods_back.pk, actor=staff["ops"], offer=" ", kept=True)
    with pytest.raises(NotAllowed):
        services.record_retention_attempt(ticket_id=goods_back.pk, actor=staff["finance"], offer="x", kept=True)
    assert not goods_back.events.filter(transition="retention_attempt").exists()
