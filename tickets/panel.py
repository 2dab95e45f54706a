"""The review panel on the ticket page: each action is its own form, so Enter submits only the form it
was typed in; an action that moves money first shows what it will do and asks; a refused action keeps
what was typed and names the field. Every action calls the same service as the API."""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aftersales.errors import DomainError

NOT_KEPT = ("csrfmiddlewaretoken", "confirmed", "back")


class PanelForm(forms.Form):
    """A review-panel form. Some build their fields from the ticket (one quantity per claimed line)."""

    def __init__(self, *args, ticket=None, **kwargs):
        self.ticket = ticket
        super().__init__(*args, **kwargs)


class ApproveForm(PanelForm):
    refund_amount = forms.DecimalField(label=_("Refund amount"), required=False, max_digits=12, decimal_places=2,
                                       min_value=Decimal(0))
    fee_reason = forms.CharField(label=_("Fee reason (required when lowering the amount)"), required=False,
                                 max_length=500)
    refund_shipping = forms.BooleanField(label=_("Refund shipping"), required=False)
    refund_coupon = forms.BooleanField(label=_("Give the coupon back"), required=False)
    refund_virtual_currency = forms.BooleanField(label=_("Give the points back"), required=False)
    return_address = forms.CharField(label=_("Return address"), required=False, max_length=500)


class RejectForm(PanelForm):
    reason = forms.CharField(label=_("Rejection reason (the buyer sees it)"), max_length=500)


class CompensateForm(PanelForm):
    amount = forms.DecimalField(label=_("Compensation"), max_digits=12, decimal_places=2, min_value=Decimal(0))
    note = forms.CharField(label=_("Note (what was agreed)"), max_length=2000)


class RetentionForm(PanelForm):
    offer = forms.CharField(label=_("What was offered to keep the sale"), max_length=2000)
    kept = forms.TypedChoiceField(label=_("Outcome"), coerce=lambda value: value == "yes", choices=[
        ("yes", _("the buyer keeps the goods")), ("no", _("the buyer still sends them back"))])


class NoteForm(PanelForm):
    text = forms.CharField(label=_("Note (problem + progress)"), max_length=2000, widget=forms.TextInput(
        attrs={"size": 80, "placeholder": _("stain, offered compensation 10, not yet paid, buyer has not replied")}))


class ReshipForm(PanelForm):
    """How many units of each claimed line to send again, and, if agreed, compensation beside them."""

    note = forms.CharField(label=_("Note (what is sent and why)"), max_length=2000, required=False)
    compensation = forms.DecimalField(label=_("Compensation beside it (optional)"), required=False, max_digits=12,
                                      decimal_places=2, min_value=Decimal(0))

    def __init__(self, *args, ticket=None, **kwargs):
        super().__init__(*args, ticket=ticket, **kwargs)
        parts = {}
        for line in ticket.lines.select_related("order_line") if ticket else ():
            parts[f"part_{line.pk}"] = forms.IntegerField(
                label=_("%(product)s: units to send (of %(claimed)s claimed)") % {
                    "product": line.order_line.product_name, "claimed": line.quantity},
                required=False, min_value=0, max_value=line.quantity)
            parts[f"part_{line.pk}"].line_id = line.order_line.line_id
        self.fields = {**parts, **self.fields}

    def clean(self):
        data = super().clean()
        data["lines"] = [{"order_line_id": field.line_id, "quantity": data[name]}
                         for name, field in self.fields.items() if name.startswith("part_") and data.get(name)]
        if not self.errors and not data["lines"]:
            raise forms.ValidationError(_("Say how many units of which line to send."))
        return data


class SendBackForm(PanelForm):
    reason = forms.CharField(label=_("Why it goes back to ops"), max_length=500)


class NoFieldsForm(PanelForm):
    """An action that needs nothing typed (finance approval): its confirmation step says the rest."""


@dataclass(frozen=True)
class Confirmation:
    """What a money-moving action will do, shown before it is done."""

    title: str
    lines: list[tuple[str, str]]
    button: str
    warning: str = ""


def money_lines(ticket, *, cash, shipping, fee, fee_reason, coupon, points) -> list[tuple[str, str]]:
    """Who is paid what, in the words every money confirmation uses (ops approval, finance payment)."""
    return [(_("ticket"), f"{ticket.ticket_no} ({ticket.get_type_display()})"), (_("buyer"), ticket.buyer.account),
            (_("cash to the original payment method"), str(cash)), (_("of which shipping"), str(shipping)),
            (_("service fee kept"), f"{fee} {fee_reason}".strip()), (_("coupon back in kind"), str(coupon)),
            (_("points back in kind"), str(points))]


@dataclass(frozen=True)
class PanelAction:
    form: type[forms.Form]
    call: Callable  # (request, ticket, cleaned data) -> None; raises DomainError
    done: str
    # (request, ticket, cleaned data) -> Confirmation, or None when nothing needs confirming; raises DomainError
    confirm: Callable | None = None
    initial: Callable = field(default=lambda ticket: {})


def bound_forms(request, ticket, actions: dict[str, PanelAction]) -> dict[str, forms.Form]:
    """Every action's form: the one refused (or sent back from its confirmation) keeps what was typed
    and its errors; the others start from their initial values."""
    kept = request.session.pop(_key(ticket), None)
    out = {}
    for name, action in actions.items():
        if kept and kept["action"] == name:
            form = action.form(kept["data"], auto_id=f"{name}_%s", ticket=ticket)
            form.is_valid()
            for field_name, message in kept["errors"]:
                form.add_error(field_name if field_name in form.fields else None, message)
        else:
            form = action.form(initial=action.initial(ticket), auto_id=f"{name}_%s", ticket=ticket)
        out[name] = form
    return out


def act(request, ticket, actions: dict[str, PanelAction], *, admin_site, message_user):
    """Handle one posted action: refuse with the typed values kept, confirm first, or do it."""
    back = HttpResponseRedirect(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    if request.method != "POST":
        return back
    name = request.POST.get("action", "")
    action = actions.get(name)
    if action is None:
        message_user(request, _("Unknown action."), messages.ERROR)
        return back
    data = {key: value for key, value in request.POST.items() if key not in NOT_KEPT}
    if request.POST.get("back"):  # "No, go back" on a confirmation: the form as it was typed
        request.session[_key(ticket)] = {"action": name, "data": data, "errors": []}
        return back
    form = action.form(request.POST, ticket=ticket)
    if not form.is_valid():
        return _refused(request, ticket, name, data, [(f, str(e)) for f, errs in form.errors.items() for e in errs],
                        message_user, back)
    try:
        confirmation = None
        if action.confirm is not None and request.POST.get("confirmed") != "yes":
            confirmation = action.confirm(request, ticket, form.cleaned_data)
        if confirmation is not None:
            return TemplateResponse(request, "admin/tickets/ticket/confirm_action.html", {
                **admin_site.each_context(request), "title": confirmation.title, "confirmation": confirmation,
                "original": ticket, "opts": ticket._meta, "action": name, "data": data,
                "act_url": request.path, "back_url": back.url})
        action.call(request, ticket, form.cleaned_data)
    except DomainError as exc:
        return _refused(request, ticket, name, data, [(exc.field or "__all__", exc.detail)], message_user, back)
    message_user(request, action.done, messages.SUCCESS)
    return back


def _refused(request, ticket, name, data, errors, message_user, back):
    for field_name, message in errors:
        prefix = f"{_label(field_name)}: " if field_name and field_name != "__all__" else ""
        message_user(request, f"{prefix}{message}", messages.ERROR)
    request.session[_key(ticket)] = {"action": name, "data": data, "errors": errors}
    return back


def _key(ticket) -> str:
    return f"ticket-panel-{ticket.pk}"


def _label(field_name: str) -> str:
    """"fee_reason" → "Fee reason": staff read field names, not code."""
    return field_name.replace("_", " ").capitalize()
