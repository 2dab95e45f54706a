"""Walk a ticket to a given status through the real services (seed_demo and tests use this; nothing
here writes the status field). Each step is what a person or the system would do next."""

from datetime import timedelta
from decimal import Decimal

from aftersales import clock
from refunds import services as refunds
from refunds.models import Refund
from tickets import services
from tickets.models import Ticket
from warehouse import services as warehouse

S, T = Ticket.Status, Ticket.Type


def _refund_now(ticket: Ticket) -> None:
    # The refund also runs on commit (Celery); running it here first is safe: execution is idempotent.
    refund = Refund.objects.live().filter(ticket=ticket).first()
    if refund is not None:
        refunds.execute_refund(refund_id=refund.pk)


def _lines(ticket: Ticket, **extra) -> list[dict]:
    return [{"order_line_id": tl.order_line.line_id, "quantity": tl.quantity, **extra}
            for tl in ticket.lines.select_related("order_line")]


def approve(ticket, staff):
    return services.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"],
                                   return_address=ticket.order.shop.return_address or "Returns desk, 1 Depot Road")


def reject(ticket, staff):
    return services.reject_ticket(ticket_id=ticket.pk, actor=staff["ops"], reason="Photos do not show a defect.")


def cancel(ticket, staff):
    return services.cancel_ticket(ticket_id=ticket.pk, actor=ticket.buyer.user)


def ship_back(ticket, staff):
    services.record_return_shipment(ticket_id=ticket.pk, actor=ticket.buyer.user, courier="SF Express",
                                    tracking_no=f"SF{ticket.pk:010d}")


def receive(ticket, staff):
    warehouse.record_inbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=_lines(ticket, accepted=True),
                             note="Unopened, as described.")


def receive_damaged(ticket, staff):
    warehouse.record_inbound(ticket_id=ticket.pk, actor=staff["warehouse"],
                             lines=_lines(ticket, accepted=False, reject_reason="used", note="Scratched"),
                             note="Used and scratched: not as the buyer said.")


def finance_approve(ticket, staff):
    refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    _refund_now(ticket)


def ship_replacement(ticket, staff):
    warehouse.record_outbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=_lines(ticket),
                              courier="SF Express", tracking_no=f"SFR{ticket.pk:09d}")


def confirm(ticket, staff):
    services.confirm_receipt(ticket_id=ticket.pk, actor=ticket.buyer.user)


def close(ticket, staff):
    # The system closes only once the return deadline has passed: act at that moment.
    with clock.frozen_at(max(clock.now(), ticket.return_deadline + timedelta(seconds=1))):
        services.close_ticket(ticket_id=ticket.pk, reason="The goods were not sent back before the return deadline.")


def compensate(ticket, staff):
    services.compensate_ticket(ticket_id=ticket.pk, actor=staff["ops"], amount=Decimal("1.00"),
                               note="Small stain: offered compensation, buyer agreed.")


def reship(ticket, staff):
    """Ops sends the missing part again (one unit of the first claimed line) instead of money."""
    services.reship_ticket(ticket_id=ticket.pk, actor=staff["ops"], lines=[{**_lines(ticket)[0], "quantity": 1}],
                           note="Charger missing from the box: sending one.")


def reship_with_compensation(ticket, staff):
    services.reship_ticket(ticket_id=ticket.pk, actor=staff["ops"], lines=[{**_lines(ticket)[0], "quantity": 1}],
                           compensation=Decimal("1.00"), note="Lid cracked: new lid sent, 1.00 for the trouble.")


# From pending review to each status, by ticket type (refund only on a received or in-transit order:
# auto-approved tickets on unshipped orders start further along).
PATHS = {
    T.REFUND_ONLY: {
        S.PENDING_REVIEW: [], S.REJECTED: [reject], S.CANCELLED: [cancel],
        S.AWAITING_REFUND: [approve], S.COMPLETED: [approve, finance_approve],
    },
    T.RETURN_REFUND: {
        S.PENDING_REVIEW: [], S.REJECTED: [reject], S.CANCELLED: [cancel],
        S.AWAITING_RETURN: [approve], S.CLOSED: [approve, close],
        S.AWAITING_REFUND: [approve, ship_back, receive],
        S.COMPLETED: [approve, ship_back, receive, finance_approve],
    },
    T.EXCHANGE: {
        S.PENDING_REVIEW: [], S.REJECTED: [reject], S.CANCELLED: [cancel],
        S.AWAITING_RETURN: [approve], S.CLOSED: [approve, close],
        S.AWAITING_EXCHANGE: [approve, ship_back, receive],
        S.COMPLETED: [approve, ship_back, receive, ship_replacement, confirm],
    },
}


def advance(ticket: Ticket, status: str, *, staff: dict) -> Ticket:
    """Bring a pending-review ticket to ``status`` by the usual path for its type."""
    for step in PATHS[ticket.type][status]:
        step(ticket, staff)
        ticket.refresh_from_db()
    return ticket
