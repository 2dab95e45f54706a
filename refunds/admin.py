"""Finance in the admin: refund records, and finance's actions on the ticket page and list.

The ticket page belongs to tickets; finance's buttons are added here by subclassing its admin and
registering it again, so the arrow points from refunds to tickets."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from aftersales.admin import ReadOnlyAdmin
from aftersales.roles import FINANCE, in_group
from refunds import services
from refunds.models import Refund
from tickets import panel
from tickets.admin import TicketAdmin
from tickets.models import Ticket


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "amount", "status", "attempts", "gateway_reference", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["=ticket__ticket_no", "=gateway_reference"]
    list_select_related = ["ticket"]
    show_full_result_count = False


class TicketWithFinanceAdmin(TicketAdmin):
    """The ticket page and list, with finance's approve / send back."""

    actions = [*TicketAdmin.actions, "finance_approve_selected"]
    change_form_template = "admin/refunds/ticket_change_form.html"

    def has_finance_permission(self, request):
        return in_group(request.user, FINANCE)

    @admin.action(description=_("Approve the refund (finance)"), permissions=["finance"])
    def finance_approve_selected(self, request, queryset):
        def amount(pk):
            return services.preview_finance_approval(ticket_id=pk, actor=request.user).refund_amount

        asked = self._confirm_bulk(request, queryset, "finance_approve_selected", amount,
                                   _("Pay the refunds of these tickets?"))
        if asked is not None:
            return asked
        self._each(request, queryset, lambda pk: services.finance_approve_ticket(ticket_id=pk, actor=request.user))
        return None

    def panel_context(self, request, ticket: Ticket) -> dict:
        return {**super().panel_context(request, ticket), "can_finance": in_group(request.user, FINANCE)}

    def panel_actions(self) -> dict[str, panel.PanelAction]:
        return {
            **super().panel_actions(),
            "finance_approve": panel.PanelAction(
                panel.NoFieldsForm, done=_("Refund approved: it is being paid."),
                confirm=lambda request, ticket, data: _finance_confirmation(
                    services.preview_finance_approval(ticket_id=ticket.pk, actor=request.user)),
                call=lambda request, ticket, data: services.finance_approve_ticket(
                    ticket_id=ticket.pk, actor=request.user)),
            "finance_reject": panel.PanelAction(
                panel.SendBackForm, done=_("Sent back to ops with your reason."),
                call=lambda request, ticket, data: services.finance_reject_ticket(
                    ticket_id=ticket.pk, actor=request.user, reason=data["reason"])),
        }


def _finance_confirmation(ticket: Ticket) -> panel.Confirmation:
    return panel.Confirmation(
        title=_("Pay the refund of %(no)s?") % {"no": ticket.ticket_no},
        lines=panel.money_lines(ticket, cash=ticket.refund_amount, shipping=ticket.shipping_refund,
                                fee=ticket.service_fee, fee_reason=ticket.fee_reason, coupon=ticket.coupon_refund,
                                points=ticket.virtual_currency_refund),
        button=_("Yes, pay %(amount)s") % {"amount": ticket.refund_amount})


admin.site.unregister(Ticket)
admin.site.register(Ticket, TicketWithFinanceAdmin)
