"""Finance on tickets' screens: approve / send back on the ticket page, the bulk approval in the queue, the
banner of a refund the gateway refused or that is stuck, and the queue's marker for a ticket finance sent
back. Added through the doors tickets owns (tickets.panel, tickets.queue) by ``register()``, from
RefundsConfig.ready: the arrow points from refunds to tickets.

Every action that sends money says per ticket what became of it once the call returns: paid, refused by
the gateway (and why), stuck (calls without an answer), or sent and not answered yet (the task is queued;
with tasks run at once, as in the tests and the demo, the answer is known here)."""

from django.contrib import messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from aftersales.errors import DomainError
from aftersales.money import format_money
from aftersales.roles import FINANCE, in_group
from refunds import selectors, services
from refunds.breakdown import goods_rows
from refunds.models import Refund, gateway_words, reference_in_words
from refunds.selectors import RefundOutcome
from tickets import panel, queue
from tickets import services as tickets
from tickets.models import EventKind, Ticket


def outcome_messages(done: list[tuple[int, str]], refused: list[tuple[str, str]]) -> list[tuple[int, str]]:
    """What an action that sent money says: "Paid 1 of 3." and, per ticket not paid, why in words (refused
    by the gateway with its reason, no answer yet, refused here before anything was sent)."""
    outcomes = selectors.refund_outcomes(pk for pk, _number in done)
    total = len(done) + len(refused)
    paid, details, waiting = 0, [], []
    for pk, number in done:
        outcome = outcomes[pk]
        if outcome.state == RefundOutcome.PAID:
            paid += 1
        elif outcome.state == RefundOutcome.REFUSED:
            details.append((messages.ERROR, _("%(no)s refused by the gateway: %(reason)s") % {
                "no": number, "reason": gateway_words(outcome.reason)}))
        elif outcome.state == RefundOutcome.STUCK:
            details.append((messages.WARNING, _("%(no)s: the gateway did not answer (%(error)s); it is asked again, "
                                                "or send it again now.") % {
                "no": number, "error": gateway_words(outcome.reason)}))
        else:
            waiting.append(number)
    details += [(messages.WARNING, _("%(no)s not paid: %(why)s") % {"no": number, "why": why})
                for number, why in refused]
    out = []
    if total and (paid or not waiting):
        level = messages.SUCCESS if paid == total else messages.WARNING
        out.append((level, ngettext("Paid %(paid)d of %(n)d refund.", "Paid %(paid)d of %(n)d refunds.", total) % {
            "paid": paid, "n": total}))
    if waiting:
        out.append((messages.INFO, ngettext(
            "%(n)d sent to the gateway (%(tickets)s); its answer shows in Refunds to approve and on the ticket when "
            "it comes.",
            "%(n)d sent to the gateway (%(tickets)s); their answers show in Refunds to approve and on the tickets "
            "when they come.", len(waiting)) % {"n": len(waiting), "tickets": ", ".join(waiting)}))
    return out + details


def _bulk_report(request, done, refused):
    return outcome_messages(done, refused)


# The one bulk approval of finance, on its own refund queue and on the ticket list alike.
finance_approve_selected = queue.money_bulk_action(
    name="finance_approve_selected", description=gettext_lazy("Approve the refunds (finance)"),
    permissions=["finance"], title=gettext_lazy("Pay the refunds of these tickets?"),
    amount_of=lambda request, pk: services.preview_finance_approval(ticket_id=pk, actor=request.user).refund_amount,
    do=lambda request, pk: services.finance_approve_ticket(ticket_id=pk, actor=request.user),
    report=_bulk_report)


def _finance_confirmation(ticket: Ticket) -> panel.Confirmation:
    return panel.Confirmation(
        title=_("Pay the refund of %(no)s?") % {"no": ticket.ticket_no},
        lines=panel.money_lines(ticket, cash=ticket.refund_amount, shipping=ticket.shipping_refund,
                                fee=ticket.service_fee, fee_reason=ticket.fee_reason, coupon=ticket.coupon_refund,
                                points=ticket.virtual_currency_refund),
        button=_("Yes, pay %(amount)s") % {"amount": format_money(ticket.refund_amount)})


FINANCE_APPROVE = panel.PanelAction(
    panel.NoFieldsForm, done=gettext_lazy("Refund approved: it is being paid."),
    confirm=lambda request, ticket, data: _finance_confirmation(
        services.preview_finance_approval(ticket_id=ticket.pk, actor=request.user)),
    call=lambda request, ticket, data: services.finance_approve_ticket(ticket_id=ticket.pk, actor=request.user),
    report=lambda request, ticket: outcome_messages([(ticket.pk, ticket.ticket_no)], []))

FINANCE_REJECT = panel.PanelAction(
    panel.SendBackForm, done=gettext_lazy("Sent back to ops with your reason."),
    call=lambda request, ticket, data: services.finance_reject_ticket(
        ticket_id=ticket.pk, actor=request.user, reason=data["reason"]))


def _stuck_refund(ticket: Ticket) -> Refund:
    refund = Refund.objects.filter(selectors.stuck(), ticket=ticket).first()
    if refund is None:
        raise DomainError(_("This ticket has no refund stuck on its way to the gateway."))
    return refund


FINANCE_RESEND = panel.PanelAction(
    panel.NoFieldsForm, done=gettext_lazy("Sent again."),
    call=lambda request, ticket, data: services.retry_refund(refund_id=_stuck_refund(ticket).pk, actor=request.user),
    report=lambda request, ticket: outcome_messages([(ticket.pk, ticket.ticket_no)], []))


def _finance_context(request, ticket: Ticket) -> dict:
    """Finance's block: may this user pay (the separation-of-duties rule answers, not the screen), and the
    refund in trouble, if any: refused by the gateway and not settled, or stuck on its way."""
    can_finance = in_group(request.user, FINANCE)
    cannot_pay = ""
    if can_finance:
        try:
            tickets.check_duty(ticket, request.user, tickets.Duty.PAY)
        except DomainError as exc:
            cannot_pay = exc.detail
    refused = Refund.objects.refused_unsettled().filter(ticket=ticket).first()
    stuck = Refund.objects.filter(selectors.stuck(), ticket=ticket).first()
    under_way = ticket.refunds.live().exclude(pk=getattr(stuck, "pk", None)).exists()
    return {"can_finance": can_finance, "cannot_pay": cannot_pay, "goods": _goods(ticket) if can_finance else None,
            "refused_refund": None if refused is None or under_way or stuck else {
                "refund": refused, "reason": gateway_words(refused.failure_reason),
                "amount": format_money(refused.amount)},
            "stuck_refund": None if stuck is None else {
                "refund": stuck, "amount": format_money(stuck.amount),
                "error": gateway_words(selectors.refund_outcomes([ticket.pk])[ticket.pk].reason)},
            "amount": format_money(ticket.refund_amount), "reference_in_words": reference_in_words}


def _goods(ticket: Ticket) -> dict | None:
    """What the refund pays, line by line (units refused at inspection shown and excluded), adding up with
    shipping and the service fee kept to the refund."""
    if ticket.status != Ticket.Status.AWAITING_REFUND or ticket.is_compensation:
        return None
    event = ticket.events.filter(transition=EventKind.RECEIVE_GOODS).order_by("-at", "-pk").first()
    rows = goods_rows(ticket.lines.select_related("order_line").order_by("pk"),
                      event.inspection if event else None, ticket.goods_amount)
    return {"rows": [{"product": row.product, "unit_price": format_money(row.unit_price), "units": row.units,
                      "refused": row.refused, "amount": format_money(row.amount)} for row in rows],
            "shipping": format_money(ticket.shipping_refund) if ticket.shipping_refund else "",
            "fee": format_money(ticket.service_fee) if ticket.service_fee else "", "fee_reason": ticket.fee_reason,
            "refund": format_money(ticket.refund_amount)}


# The forms and the banner, below ops' actions, for finance once ops approved.
FINANCE_SECTION = panel.PanelSection(
    "finance", "admin/refunds/ticket_finance.html", where="main", order=10, context=_finance_context)


def register() -> None:
    panel.register_panel_action("finance_approve", FINANCE_APPROVE)
    panel.register_panel_action("finance_reject", FINANCE_REJECT)
    panel.register_panel_action("finance_resend", FINANCE_RESEND)
    panel.register_panel_section(FINANCE_SECTION)
    queue.register_list_action(queue.ListAction(
        "finance_approve_selected", finance_approve_selected, order=10,
        allowed=lambda request: in_group(request.user, FINANCE)))
    queue.register_list_marker(queue.ListMarker(
        "sent_back_by_finance", "⟲", gettext_lazy("sent back by finance"), order=10,
        applies=lambda ticket: bool(ticket.status == Ticket.Status.PENDING_REVIEW and ticket.finance_rejection_reason)))
