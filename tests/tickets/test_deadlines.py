"""The deadline sweep (issue #13): `manage.py run_deadlines --now` acts on what its one due time says is due,
through the ordinary services, as the system, once; one minute early it does nothing."""

import datetime as dt
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command

from aftersales import clock
from demo import journeys
from policies.models import Policy
from refunds.models import Refund
from tests.factories import make_order, submit
from tickets import services
from tickets.deadlines import due_now
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
S = Ticket.Status
MINUTE, H = dt.timedelta(minutes=1), dt.timedelta(hours=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def sweep(at: dt.datetime) -> str:
    out = StringIO()
    call_command("run_deadlines", "--now", at.isoformat(), stdout=out)
    return out.getvalue()


def set_policy(key: str, value) -> None:
    row = Policy.objects.get(key=key)
    row.value = Decimal(value)
    row.save()  # drops the cached policies, as the admin does


def fresh(ticket: Ticket) -> Ticket:
    ticket.refresh_from_db()
    return ticket


def escalations(ticket: Ticket) -> list[tuple[str, str]]:
    return [(e.reason, (e.changes.get("due_for") or [None, ""])[1])
            for e in ticket.events.filter(transition="escalate", actor__isnull=True)]


# --------------------------------------------------------------------------------------------- the buyer's turn


def test_a_return_not_sent_by_the_deadline_closes_one_minute_after_and_the_buyer_is_told_why(staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_RETURN, staff=staff)
    deadline = ticket.return_deadline
    assert deadline - ticket.approved_at == dt.timedelta(days=7)
    assert (ticket.next_deadline_kind, ticket.next_deadline_at) == ("return", deadline)

    assert "closed: 0" in sweep(deadline - MINUTE)
    assert fresh(ticket).status == S.AWAITING_RETURN

    output = sweep(deadline + MINUTE)
    assert fresh(ticket).status == S.CLOSED
    assert "closed: 1" in output
    close = ticket.events.get(transition="close")
    assert close.actor is None and close.actor_role == "system" and close.buyer_visible
    assert close.reason == "The goods were not sent back before the return deadline."
    assert ticket.next_deadline_at is None

    assert "closed: 0" in sweep(deadline + dt.timedelta(days=1))  # nothing twice
    assert ticket.events.filter(transition="close").count() == 1


def test_a_return_on_its_way_is_not_closed(staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_RETURN, staff=staff)
    journeys.ship_back(ticket, staff)

    sweep(ticket.return_deadline + dt.timedelta(days=3))

    assert fresh(ticket).status == S.AWAITING_RETURN
    assert not ticket.events.filter(transition="escalate").exists()


def test_the_replacement_is_confirmed_for_the_buyer_after_ten_days(staff, buyer):
    ticket = submit(make_order(buyer=buyer), type="exchange")
    journeys.advance(ticket, S.AWAITING_EXCHANGE, staff=staff)
    journeys.ship_replacement(ticket, staff)
    ticket = fresh(ticket)
    assert ticket.confirm_deadline - ticket.replacement_shipped_at == dt.timedelta(days=10)

    assert "auto_confirmed: 0" in sweep(ticket.confirm_deadline - MINUTE)
    assert fresh(ticket).status == S.AWAITING_EXCHANGE

    assert "auto_confirmed: 1" in sweep(ticket.confirm_deadline + MINUTE)
    assert fresh(ticket).status == S.COMPLETED
    assert ticket.events.filter(transition="auto_confirm_receipt", actor__isnull=True).count() == 1
    assert "auto_confirmed: 0" in sweep(ticket.confirm_deadline + dt.timedelta(days=2))


# --------------------------------------------------------------------------------------------- the shop is late


def test_a_review_past_its_sla_is_escalated_once_and_flagged_in_the_queue(buyer):
    ticket = submit(make_order(buyer=buyer))
    due = ticket.created_at + 48 * H
    assert fresh(ticket).next_deadline_at == due

    assert "escalated_review: 0" in sweep(due - MINUTE)
    assert fresh(ticket).escalated_at is None

    assert "escalated_review: 1" in sweep(due + MINUTE)
    ticket = fresh(ticket)
    assert ticket.escalated_at == due + MINUTE
    assert ticket.next_deadline_at == due  # still sorted as overdue in the queue
    assert escalations(ticket) == [("Waiting for review past the SLA.", "review")]
    assert not ticket.events.get(transition="escalate").buyer_visible
    assert Ticket.objects.filter(pk=ticket.pk, escalated_at__isnull=False).exists()

    assert "escalated_review: 0" in sweep(due + 10 * H)
    assert len(escalations(ticket)) == 1


def test_a_send_back_restarts_the_review_clock(staff, buyer):
    start = clock.now()
    ticket = submit(make_order(buyer=buyer), type="refund_only")
    with time_machine.travel(start + 10 * H, tick=False):
        journeys.approve(ticket, staff)
    with time_machine.travel(start + 20 * H, tick=False):
        services.record_finance_send_back(ticket_id=ticket.pk, actor=staff["finance"], reason="Check the amount.")
    ticket = fresh(ticket)
    assert ticket.status == S.PENDING_REVIEW
    assert ticket.next_deadline_at == ticket.review_started_at + 48 * H

    sweep(ticket.created_at + 48 * H + MINUTE)  # late by the first clock, not by the restarted one
    assert fresh(ticket).escalated_at is None

    sweep(ticket.review_started_at + 48 * H - MINUTE)
    assert fresh(ticket).escalated_at is None
    assert "escalated_review: 1" in sweep(ticket.review_started_at + 48 * H + MINUTE)


def test_escalation_is_per_stage_a_ticket_escalated_in_review_is_escalated_again_when_its_refund_is_late(staff, buyer):
    ticket = submit(make_order(buyer=buyer), type="refund_only")
    late_review = ticket.created_at + 49 * H
    sweep(late_review)
    assert fresh(ticket).escalated_at is not None

    with time_machine.travel(late_review + H, tick=False):
        journeys.approve(ticket, staff)
    ticket = fresh(ticket)
    assert ticket.escalated_at is None  # a new stage
    assert (ticket.next_deadline_kind, ticket.next_deadline_at) == ("refund", ticket.approved_at + 48 * H)

    assert "escalated_refund: 0" in sweep(ticket.next_deadline_at - MINUTE)
    assert "escalated_refund: 1" in sweep(ticket.next_deadline_at + MINUTE)
    assert [kind for _, kind in escalations(ticket)] == ["review", "refund"]
    assert fresh(ticket).status == S.AWAITING_REFUND  # finance still decides


def test_goods_back_and_the_refund_late_escalates_to_finance_by_default(staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_REFUND, staff=staff)
    due = ticket.goods_received_at + 48 * H
    assert (ticket.next_deadline_kind, ticket.next_deadline_at) == ("refund", due)

    sweep(due - MINUTE)
    assert fresh(ticket).escalated_at is None
    output = sweep(due + MINUTE)
    assert "escalated_refund: 1" in output and "auto_refunded: 0" in output
    assert escalations(ticket) == [("Goods received; the refund is past its SLA.", "refund")]
    assert not Refund.objects.filter(ticket=ticket).exists()


def test_where_the_policy_says_so_a_late_refund_is_paid_automatically_once_through_the_finance_path(
        staff, buyer, django_capture_on_commit_callbacks):
    set_policy("auto_refund_after_sla", 1)
    ticket = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_REFUND, staff=staff)
    due = ticket.goods_received_at + 48 * H

    assert "auto_refunded: 0" in sweep(due - MINUTE)
    assert not Refund.objects.filter(ticket=ticket).exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert "auto_refunded: 1" in sweep(due + MINUTE)
    ticket = fresh(ticket)
    refund = Refund.objects.get(ticket=ticket)
    assert refund.requested_by is None and refund.amount == ticket.refund_amount == Decimal("20.00")
    approval = ticket.events.get(transition="finance_approve")
    assert approval.actor is None and approval.actor_role == "system" and "automatically" in approval.reason
    assert ticket.status == S.COMPLETED  # executed at once (Celery eager in tests)

    assert "auto_refunded: 0" in sweep(due + 2 * H)
    assert Refund.objects.filter(ticket=ticket).count() == 1


def test_an_auto_refund_never_pays_a_refund_finance_already_approved(staff, buyer):
    set_policy("auto_refund_after_sla", 1)
    ticket = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_REFUND, staff=staff)
    journeys.finance_approve(ticket, staff)

    sweep(ticket.goods_received_at + 49 * H)

    assert Refund.objects.filter(ticket=ticket).count() == 1
    assert not ticket.events.filter(transition="escalate").exists()


def test_a_refund_that_already_failed_is_not_tried_again_by_the_system_but_escalated_to_finance(staff, buyer):
    set_policy("auto_refund_after_sla", 1)
    ticket = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_REFUND, staff=staff)
    Refund.objects.create(ticket=ticket, amount=ticket.refund_amount, status=Refund.Status.FAILED,
                          created_at=clock.now(), failure_reason="Card closed.")

    output = sweep(ticket.goods_received_at + 49 * H)

    assert "escalated_refund: 1" in output and "auto_refunded: 0" in output
    assert Refund.objects.filter(ticket=ticket).count() == 1
    assert fresh(ticket).refund_requested_at is None


def test_a_replacement_not_shipped_within_the_sla_is_escalated(staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer), type="exchange"), S.AWAITING_EXCHANGE, staff=staff)
    due = ticket.goods_received_at + 48 * H
    assert (ticket.next_deadline_kind, ticket.next_deadline_at) == ("replacement", due)

    assert "escalated_replacement: 0" in sweep(due - MINUTE)
    assert "escalated_replacement: 1" in sweep(due + MINUTE)
    assert [kind for _, kind in escalations(ticket)] == ["replacement"]


# --------------------------------------------------------------------------------------------- logistics problems


def logistics_claim(buyer) -> Ticket:
    return submit(make_order(buyer=buyer), reason_code="damaged_in_transit")


def test_a_logistics_problem_with_no_first_reply_in_five_minutes_is_escalated(buyer):
    ticket = logistics_claim(buyer)
    due = ticket.created_at + 5 * MINUTE
    assert (ticket.next_deadline_kind, ticket.next_deadline_at) == ("first_reply", due)

    assert "escalated_first_reply: 0" in sweep(due - MINUTE)
    assert "escalated_first_reply: 1" in sweep(due + MINUTE)
    assert escalations(ticket) == [("Logistics problem: no first reply within the SLA.", "first_reply")]
    assert "escalated_first_reply: 0" in sweep(due + 2 * MINUTE)


def test_a_first_reply_stops_that_clock_and_the_resolution_is_measured_from_submission(staff, buyer):
    ticket = logistics_claim(buyer)
    sweep(ticket.created_at + 6 * MINUTE)
    assert fresh(ticket).escalated_at is not None

    with time_machine.travel(ticket.created_at + 10 * MINUTE, tick=False):
        services.add_note(ticket_id=ticket.pk, actor=staff["ops"], text="Asked the carrier; photos requested.")
    ticket = fresh(ticket)
    assert ticket.first_replied_at == ticket.created_at + 10 * MINUTE
    assert ticket.escalated_at is None  # waits on something else now: resolution (or review), 48 h
    assert (ticket.next_deadline_kind, ticket.next_deadline_at) == ("review", ticket.created_at + 48 * H)

    # Approved within 48 h but the refund not paid: at 48 h from submission it is still unresolved.
    with time_machine.travel(ticket.created_at + 20 * H, tick=False):
        journeys.approve(ticket, staff)
        journeys.ship_back(ticket, staff)
        journeys.receive(ticket, staff)
    ticket = fresh(ticket)
    assert (ticket.next_deadline_kind, ticket.next_deadline_at) == ("resolution", ticket.created_at + 48 * H)
    assert "escalated_resolution: 0" in sweep(ticket.created_at + 48 * H - MINUTE)
    assert "escalated_resolution: 1" in sweep(ticket.created_at + 48 * H + MINUTE)
    assert [kind for _, kind in escalations(ticket)] == ["first_reply", "resolution"]


def test_a_logistics_problem_answered_in_time_is_not_escalated_for_its_first_reply(staff, buyer):
    ticket = logistics_claim(buyer)
    with time_machine.travel(ticket.created_at + 3 * MINUTE, tick=False):
        services.add_note(ticket_id=ticket.pk, actor=staff["ops"], text="Sorry: checking with the carrier.")

    assert "escalated_first_reply: 0" in sweep(ticket.created_at + 10 * MINUTE)
    assert fresh(ticket).escalated_at is None


# --------------------------------------------------------------------------------------------- service hours


def test_a_review_sla_in_service_hours_submitted_at_23_50_is_due_at_9_50_next_morning(buyer):
    set_policy("sla_service_hours_only", 1)
    set_policy("review_sla_hours", 1)
    with time_machine.travel(dt.datetime(2026, 12, 1, 23, 50, tzinfo=SHANGHAI), tick=False):
        ticket = submit(make_order(buyer=buyer))
    due = dt.datetime(2026, 12, 2, 9, 50, tzinfo=SHANGHAI)
    assert fresh(ticket).next_deadline_at == due

    assert "escalated_review: 0" in sweep(due - MINUTE)
    assert "escalated_review: 1" in sweep(due + MINUTE)


def test_without_weekends_a_first_reply_on_saturday_is_due_on_monday_morning(buyer):
    set_policy("sla_service_hours_only", 1)
    set_policy("service_hours_weekends", 0)
    with time_machine.travel(dt.datetime(2026, 12, 5, 15, 0, tzinfo=SHANGHAI), tick=False):  # a Saturday
        ticket = logistics_claim(buyer)
    assert fresh(ticket).next_deadline_at == dt.datetime(2026, 12, 7, 9, 5, tzinfo=SHANGHAI)


# --------------------------------------------------------------------------------------------- refusals, the command


def test_an_action_the_facts_refuse_is_not_tried_again_and_again(staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_RETURN, staff=staff)
    # The deadline moved (a data fix) without the due time following it.
    Ticket.objects.filter(pk=ticket.pk).update(return_deadline=ticket.return_deadline + dt.timedelta(days=3))

    output = sweep(ticket.return_deadline + MINUTE)
    assert "refused: 1" in output and "closed: 0" in output
    ticket = fresh(ticket)
    assert ticket.status == S.AWAITING_RETURN and ticket.escalated_at is None
    assert ticket.next_deadline_at == ticket.return_deadline  # computed again from the facts
    assert "closed: 1" in sweep(ticket.return_deadline + MINUTE)


def test_a_due_time_out_of_step_with_the_facts_is_computed_again_and_acted_on_in_the_same_run(staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_RETURN, staff=staff)
    Ticket.objects.filter(pk=ticket.pk).update(next_deadline_kind="confirm")  # a kind that cannot apply

    output = sweep(ticket.return_deadline + MINUTE)

    assert "refused: 1" in output and "closed: 1" in output
    assert fresh(ticket).status == S.CLOSED


def test_an_action_refused_on_facts_that_agree_is_escalated_for_a_person(buyer):
    ticket = submit(make_order(buyer=buyer), type="refund_only")
    # Nothing the services would do: a refund-only ticket waiting for goods with a return deadline passed.
    deadline = clock.now() - H
    Ticket.objects.filter(pk=ticket.pk).update(status=S.AWAITING_RETURN, return_deadline=deadline,
                                               next_deadline_at=deadline, next_deadline_kind="return")

    output = sweep(clock.now())
    assert "refused: 1" in output and "closed: 0" in output
    ticket = fresh(ticket)
    assert ticket.status == S.AWAITING_RETURN and ticket.escalated_at is not None
    assert escalations(ticket) == [
        ("The deadline passed but the system could not act on it: a person decides.", "")]
    assert "refused: 0" in sweep(clock.now() + MINUTE)  # not tried again


def test_run_deadlines_prints_what_it_did_and_refuses_a_naive_time(buyer):
    submit(make_order(buyer=buyer))
    output = sweep(clock.now() + 49 * H)
    assert output.splitlines()[0].startswith("deadline sweep at ")
    assert "escalated_review: 1" in output and "failed: 0" in output
    with pytest.raises(CommandError):
        call_command("run_deadlines", "--now", "2026-11-30T09:00:00")


def test_the_sweep_finds_its_work_from_the_partial_index_alone(buyer):
    from django.db import connection

    submit(make_order(buyer=buyer))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        query, params = due_now(clock.now()).values("pk").query.sql_with_params()
        cursor.execute(f"EXPLAIN {query}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ticket_deadline_sweep" in plan, plan
