"""Finance on tickets' screens: approve / send back on the ticket page, the bulk approval in the queue, and
the queue's marker for a ticket finance sent back. Added through the doors tickets owns (tickets.panel,
tickets.queue) by ``register()``, from RefundsConfig.ready: the arrow points from refunds to tickets."""

from django.utils.translation import gettext_lazy as _

from aftersales.roles import FINANCE, in_group
from refunds import services
from tickets import panel, queue
from tickets.models import Ticket

# The one bulk approval of finance, on its own refund queue and on the ticket list alike.
finance_approve_selected = queue.money_bulk_action(
    name="finance_approve_selected", description=_("Approve the refunds (finance)"), permissions=["finance"],
    title=_("Pay the refunds of these tickets?"),
    amount_of=lambda request, pk: services.preview_finance_approval(ticket_id=pk, actor=request.user).refund_amount,
    do=lambda request, pk: services.finance_approve_ticket(ticket_id=pk, actor=request.user))


def _finance_confirmation(ticket: Ticket) -> panel.Confirmation:
    return panel.Confirmation(
        title=_("Pay the refund of %(no)s?") % {"no": ticket.ticket_no},
        lines=panel.money_lines(ticket, cash=ticket.refund_amount, shipping=ticket.shipping_refund,
                                fee=ticket.service_fee, fee_reason=ticket.fee_reason, coupon=ticket.coupon_refund,
                                points=ticket.virtual_currency_refund),
        button=_("Yes, pay %(amount)s") % {"amount": ticket.refund_amount})


FINANCE_APPROVE = panel.PanelAction(
    panel.NoFieldsForm, done=_("Refund approved: it is being paid."),
    confirm=lambda request, ticket, data: _finance_confirmation(
        services.preview_finance_approval(ticket_id=ticket.pk, actor=request.user)),
    call=lambda request, ticket, data: services.finance_approve_ticket(ticket_id=ticket.pk, actor=request.user))

FINANCE_REJECT = panel.PanelAction(
    panel.SendBackForm, done=_("Sent back to ops with your reason."),
    call=lambda request, ticket, data: services.finance_reject_ticket(
        ticket_id=ticket.pk, actor=request.user, reason=data["reason"]))

# The two forms, below ops' actions, for finance once ops approved.
FINANCE_SECTION = panel.PanelSection(
    "finance", "admin/refunds/ticket_finance.html", where="main", order=10,
    context=lambda request, ticket: {"can_finance": in_group(request.user, FINANCE)})


def register() -> None:
    panel.register_panel_action("finance_approve", FINANCE_APPROVE)
    panel.register_panel_action("finance_reject", FINANCE_REJECT)
    panel.register_panel_section(FINANCE_SECTION)
    queue.register_list_action(queue.ListAction(
        "finance_approve_selected", finance_approve_selected, order=10,
        allowed=lambda request: in_group(request.user, FINANCE)))
    queue.register_list_marker(queue.ListMarker(
        "sent_back_by_finance", "⟲", _("sent back by finance"), order=10,
        applies=lambda ticket: bool(ticket.status == Ticket.Status.PENDING_REVIEW and ticket.finance_rejection_reason)))
