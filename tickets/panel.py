"""The review panel on the ticket page: each action is its own form, so Enter submits only the form it
was typed in; an action that moves money first shows what it will do and asks; a refused action keeps
what was typed and names the field. Every action calls the same service as the API.

The page is tickets', and other parts add to it through two doors, filled from their AppConfig.ready (as
``tickets.services.subscribe`` is): ``register_panel_action`` (a form and the service it calls) and
``register_panel_section`` (a block of the page: its template, where it stands, what it needs). Nobody
subclasses or re-registers TicketAdmin; the page reads the doors on every request, so the order the apps
start in does not matter."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist
from django.http import HttpResponseRedirect
from django.template import Template
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from aftersales.errors import DomainError
from aftersales.roles import FINANCE, OPS, WAREHOUSE, in_group
from tickets import presenters, services
from tickets.models import EventKind, ReplyTemplate, Ticket, Upload

NOT_KEPT = ("csrfmiddlewaretoken", "confirmed", "back")


class PanelForm(forms.Form):
    """A review-panel form. Some build their fields from the ticket (one quantity per claimed line)."""

    def __init__(self, *args, ticket=None, **kwargs):
        self.ticket = ticket
        super().__init__(*args, **kwargs)


class ApproveForm(PanelForm):
    """Asks only the terms that apply to the ticket (tickets.services.approval_asks): no amount for an
    exchange, no extra that cannot go back, no return desk where no goods come back."""

    refund_amount = forms.DecimalField(label=_("Refund amount"), required=False, max_digits=12, decimal_places=2,
                                       min_value=Decimal(0))
    fee_reason = forms.CharField(label=_("Fee reason (required when lowering the amount)"), required=False,
                                 max_length=500)
    refund_shipping = forms.BooleanField(label=_("Refund shipping"), required=False)
    refund_coupon = forms.BooleanField(label=_("Give the coupon back"), required=False)
    refund_virtual_currency = forms.BooleanField(label=_("Give the points back"), required=False)
    return_address = forms.CharField(label=_("Return address"), required=False, max_length=500)
    return_contact = forms.CharField(label=_("Return contact"), required=False, max_length=100)
    return_phone = forms.CharField(label=_("Return phone"), required=False, max_length=40)

    AMOUNT = ("refund_amount", "fee_reason")
    EXTRAS = {"shipping": "refund_shipping", "coupon": "refund_coupon", "virtual_currency": "refund_virtual_currency"}
    RETURN_DESK = ("return_address", "return_contact", "return_phone")

    def __init__(self, *args, ticket=None, **kwargs):
        super().__init__(*args, ticket=ticket, **kwargs)
        if ticket is None:
            return
        asks = services.approval_asks(ticket)
        dropped = [*(() if asks.amount else self.AMOUNT), *(() if asks.return_desk else self.RETURN_DESK),
                   *(name for extra, name in self.EXTRAS.items() if extra not in asks.extras)]
        for name in dropped:
            del self.fields[name]


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


def _always(ticket) -> bool:
    return True


@dataclass(frozen=True)
class PanelAction:
    form: type[forms.Form]
    call: Callable  # (request, ticket, cleaned data) -> None; raises DomainError
    done: str
    # (request, ticket, cleaned data) -> Confirmation, or None when nothing needs confirming; raises DomainError
    confirm: Callable | None = None
    initial: Callable = field(default=lambda ticket: {})
    # True when the action ends the user's work on the ticket (a decision): done from a queue, the next
    # ticket of that queue opens ("approve and next"). A note or a retention attempt leaves you where you are.
    finishes: bool = False
    # (request, ticket) -> [(level, text)], said instead of ``done`` where the part knows more once the
    # call returns (finance: paid, refused by the gateway, or not answered yet)
    report: Callable | None = None
    # (ticket) -> whether the action fits the ticket now (its type and state): the page offers only those.
    # Read the ticket's own row; the service still refuses what it does not take.
    fits: Callable = _always


@dataclass(frozen=True)
class PanelSection:
    """A block another part adds to the review panel. ``template`` (a template's name, or a Template) is
    rendered with the page's context (``panel_forms``, ``original``, ``act_url``…) and ``section``: this
    section's name and what ``context(request, ticket)`` returns. ``where``: "main", below ops' actions, or
    "side", below the timeline; ``order`` places it among the others there."""

    name: str
    template: str | Template
    where: str = "main"
    order: int = 100
    context: Callable = field(default=lambda request, ticket: {})


PLACES = ("main", "side")
_ACTIONS: dict[str, PanelAction] = {}
_SECTIONS: dict[str, PanelSection] = {}


def register_panel_action(name: str, action: PanelAction) -> None:
    """Adds an action to the ticket page: its form posts ``action=<name>`` to the page's act view, which
    refuses, confirms or calls it as it does tickets' own. The same name again replaces the first."""
    if name in OWN_ACTIONS:
        raise ValueError(f"{name!r} is one of the ticket page's own actions.")
    _ACTIONS[name] = action


def register_panel_section(section: PanelSection) -> None:
    """Adds a block to the ticket page (typically the forms of the part's registered actions). The same
    name again replaces the first."""
    if section.where not in PLACES:
        raise ValueError(f"A panel section stands in one of {PLACES}, not {section.where!r}.")
    _SECTIONS[section.name] = section


def actions() -> dict[str, PanelAction]:
    """Every action the page takes: tickets' own, then the registered ones."""
    return {**OWN_ACTIONS, **_ACTIONS}


def fitting_actions(ticket: Ticket) -> dict[str, PanelAction]:
    """The actions that fit the ticket's type and state now, the one rule the page shows them by: tickets'
    own from tickets.services.open_decisions (the state machine and the type's traits), the registered ones
    by their own ``fits``. Who may take them is the page's and the services' business, not this."""
    return {name: action for name, action in actions().items() if action.fits(ticket)}


def sections(request, ticket) -> dict[str, list[dict]]:
    """The registered blocks, by where they stand, each with its own context."""
    out = {place: [] for place in PLACES}
    for section in sorted(_SECTIONS.values(), key=lambda s: (s.order, s.name)):
        out[section.where].append({**section.context(request, ticket), "name": section.name,
                                   "template": section.template})
    return out


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


FILTERS_VAR = "_changelist_filters"  # the queue's query string, as Django's admin preserves it


def with_filters(url: str, filters: str) -> str:
    """``url`` carrying the queue the user came from (Django's preserved filters)."""
    return f"{url}?{urlencode({FILTERS_VAR: filters})}" if filters else url


def act(request, ticket, actions: dict[str, PanelAction], *, admin_site, message_user, next_ticket=None,
        back_url: str | None = None, done_url: str | None = None):
    """Handle one posted action: refuse with the typed values kept, confirm first, or do it. The queue the
    user came from (``_changelist_filters``) goes along through every step; after a decision done from a
    queue, ``next_ticket(filters, after=pk)`` (the queue's first other ticket, or None) opens next.
    ``back_url``: the ticket's page it came from (default: the ticket's own, with the queue's filters);
    ``done_url``: where to go once it is done (default: back), e.g. the queue the user works from
    (refunds' finance queue)."""
    filters = request.GET.get(FILTERS_VAR, "")
    back = HttpResponseRedirect(back_url or with_filters(
        reverse("admin:tickets_ticket_change", args=[ticket.pk]), filters))
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
                        message_user, back, form=form)
    try:
        confirmation = None
        if action.confirm is not None and request.POST.get("confirmed") != "yes":
            confirmation = action.confirm(request, ticket, form.cleaned_data)
        if confirmation is not None:
            return TemplateResponse(request, "admin/tickets/ticket/confirm_action.html", {
                **admin_site.each_context(request), "title": confirmation.title, "confirmation": confirmation,
                "original": ticket, "opts": ticket._meta, "action": name, "data": data,
                "act_url": request.get_full_path(), "back_url": back.url,
                "changelist_url": with_changelist(filters, ticket._meta)})
        action.call(request, ticket, form.cleaned_data)
    except DomainError as exc:
        return _refused(request, ticket, name, data, [(exc.field or "__all__", exc.detail)], message_user, back,
                        form=form)
    said = action.report(request, ticket) if action.report else None
    if not (action.finishes and filters and next_ticket is not None):
        for level, text in said or [(messages.SUCCESS, action.done)]:
            message_user(request, text, level)
        return HttpResponseRedirect(done_url) if done_url else back
    # Approve and next: the queue as the user left it, without this ticket.
    for level, text in said or []:
        message_user(request, text, level)
    following = next_ticket(filters, ticket.pk)
    if following is None:
        message_user(request, _("%(ticket)s: %(done)s Nothing else is left in this queue.") % {
            "ticket": ticket.ticket_no, "done": action.done}, messages.SUCCESS)
        return HttpResponseRedirect(with_changelist(filters, ticket._meta))
    message_user(request, _("%(ticket)s: %(done)s Next in the queue: %(next)s.") % {
        "ticket": ticket.ticket_no, "done": action.done, "next": following.ticket_no}, messages.SUCCESS)
    return HttpResponseRedirect(with_filters(reverse("admin:tickets_ticket_change", args=[following.pk]), filters))


def with_changelist(filters: str, opts=None) -> str:
    """The queue, filtered as the user left it (``opts``: the list's model, Tickets by default; finance's
    queue shows tickets as its own proxy)."""
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist" if opts else "admin:tickets_ticket_changelist")
    return f"{url}?{filters}" if filters else url


def _refused(request, ticket, name, data, errors, message_user, back, *, form):
    for field_name, message in errors:
        label = field_label(form, field_name)
        message_user(request, _("%(field)s: %(message)s") % {"field": label, "message": message} if label else message,
                     messages.ERROR)
    request.session[_key(ticket)] = {"action": name, "data": data, "errors": errors}
    return back


def _key(ticket) -> str:
    return f"ticket-panel-{ticket.pk}"


_HINT = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")  # "Fee reason (required when lowering the amount)"


def field_label(form: forms.Form, field_name: str | None) -> str:
    """The words a refusal is prefixed with, in the reader's language: the form field's label without its
    hint in brackets ("Fee reason", never "fee_reason"); a field the form does not have, by the ticket's
    name for it; a refusal of the whole form, or of a field known by neither, by its message alone (never
    a code)."""
    if not field_name or field_name == "__all__":
        return ""
    if field_name in form.fields:
        return _HINT.sub("", str(form[field_name].label))
    try:
        return str(capfirst(Ticket._meta.get_field(field_name).verbose_name))
    except FieldDoesNotExist:
        return ""


# ------------------------------------------------------------------------------- the page's own parts


def page_context(request, ticket: Ticket) -> dict:
    """What the review panel's template needs to show: the claim, its goods, photos, notes and timeline,
    the forms of the actions that fit the ticket, its due time, and the registered sections."""
    fitting = fitting_actions(ticket)
    can_review = in_group(request.user, OPS)
    return {"panel_forms": bound_forms(request, ticket, fitting),
            "can_decide": can_review and any(decision in fitting for decision in services.Decision),
            "panel_sections": sections(request, ticket), "due": presenters.due_on_page(ticket),
            "goods": ticket.lines.select_related("order_line"), "photos": ticket.photos.all(),
            "return_shipments": ticket.return_shipments.all(),
            "notes": ticket.notes.select_related("author").order_by("-created_at", "-pk"),
            "history": presenters.history_rows(ticket),
            "timeline": presenters.timeline(ticket.events.select_related("actor").order_by("-at", "-pk")),
            "after_sales_count": Ticket.objects.filter(buyer_id=ticket.buyer_id).count(),
            "reason_name": ticket.reason.localized_name(get_language()),
            "reply_templates": _reply_templates() if can_review else [],
            **_inspection(ticket),
            "intercept_late": presenters.timeline_row(
                ticket.events.filter(transition=EventKind.INTERCEPT_FAILED).latest("at", "pk"))
            if ticket.intercept_failed_at else None,
            "reship_parts": _reship_parts(ticket),
            "can_review": can_review, "can_note": in_group(request.user, OPS, FINANCE, WAREHOUSE),
            "act_url": with_filters(reverse("admin:tickets_ticket_act", args=[ticket.pk]),
                                    request.GET.get(FILTERS_VAR, ""))}


def _reply_templates() -> list[ReplyTemplate]:
    """The library in the ladder's order, each with its title in the reader's language (``shown_title``)."""
    language = get_language()
    templates = sorted(ReplyTemplate.objects.filter(is_active=True),
                       key=lambda t: (ReplyTemplate.Step.values.index(t.step), t.display_order, t.pk))
    for template in templates:
        template.shown_title = template.localized_title(language)
    return templates


def _approval_defaults(ticket: Ticket) -> dict:
    """The form starts where the service would: extras on when the ticket already counts them (a whole
    order refunded before shipment gets its shipping back), the return desk the service would use."""
    shop = ticket.shop
    return {"refund_shipping": ticket.shipping_refund > 0, "refund_coupon": ticket.coupon_refund > 0,
            "refund_virtual_currency": ticket.virtual_currency_refund > 0,
            "return_address": ticket.return_address or shop.return_address,
            "return_contact": ticket.return_contact or shop.return_contact,
            "return_phone": ticket.return_phone or shop.return_phone}


def _choices(data: dict) -> dict:
    """The approval's terms as the service takes them: a term the form did not ask is left to the service,
    and an empty return desk field means the shop's (what the form started with)."""
    return {**data, **{name: data.get(name) or None for name in ApproveForm.RETURN_DESK}}


def _approval_confirmation(ticket: Ticket, terms: services.ApprovalTerms) -> Confirmation:
    lines = money_lines(ticket, cash=terms.refund_amount, shipping=terms.shipping, fee=terms.service_fee,
                        fee_reason=terms.fee_reason, coupon=terms.coupon, points=terms.virtual_currency)
    if terms.goods_back:
        lines.append((_("goods sent back to"), terms.return_address))
        if terms.return_contact or terms.return_phone:
            lines.append((_("return contact"), " ".join(filter(None, (terms.return_contact, terms.return_phone)))))
        then = _("The buyer is asked to send the goods back; the refund follows the inspection.")
    else:
        then = _("The ticket goes to finance, who pays the refund.")
    warning = _("This approves a refund of 0.00: the buyer gets nothing back.") if terms.refund_amount == 0 \
        and ticket.traits.money_moves else ""
    return Confirmation(
        title=_("Approve %(no)s?") % {"no": ticket.ticket_no}, lines=[*lines, (_("then"), then)],
        button=_("Yes, approve (%(amount)s)") % {"amount": terms.refund_amount}, warning=warning)


def _inspection(ticket: Ticket) -> dict:
    """The warehouse's inspection, when it sent the ticket back to ops: what was refused and why, the refund
    recomputed for what passed, and the clerk's photos (from the receive_goods timeline row)."""
    if ticket.status != Ticket.Status.PENDING_REVIEW or ticket.inspection_passed is not False:
        return {"inspection": None, "inspection_photos": []}
    event = ticket.events.filter(transition=EventKind.RECEIVE_GOODS).latest("at", "pk")
    photo_ids = event.inspection_photo_ids
    refund = event.refund_amount_change
    return {"inspection": presenters.timeline_row(event),
            "inspection_lines": presenters.inspection_lines(event, ticket.lines.select_related("order_line")),
            # As text: the page shows "old → new" when there is a new amount, 0.00 included.
            "inspection_refund": tuple(None if amount is None else str(amount) for amount in (refund.old, refund.new))
            if refund else (None, None),
            "inspection_photos": list(Upload.objects.filter(pk__in=photo_ids).order_by("pk")) if photo_ids else []}


def _reship_parts(ticket: Ticket) -> list[tuple[str, int]]:
    """(product, units) of the last re-ship ops decided, from its timeline row."""
    if ticket.reship_requested_at is None:
        return []
    event = ticket.events.filter(transition=EventKind.RESHIP).latest("at", "pk")
    names = dict(ticket.lines.values_list("order_line__line_id", "order_line__product_name"))
    return [(names.get(part.line_id, part.line_id), part.units) for part in event.reship_parts]


def _reship(data: dict) -> dict:
    return {"lines": data["lines"], "note": data["note"], "compensation": data["compensation"]}


def _reship_confirmation(ticket: Ticket, terms) -> Confirmation | None:
    """Re-shipping parts alone moves no money: done at once. With compensation beside it, confirmed."""
    if terms.compensation is None:
        return None
    parts = ", ".join(f"{part.ticket_line.order_line.product_name} × {part.quantity}" for part in terms.parts)
    return Confirmation(
        title=_("Re-ship parts of %(no)s and compensate?") % {"no": ticket.ticket_no},
        lines=[(_("ticket"), f"{ticket.ticket_no} ({ticket.get_type_display()})"), (_("buyer"), ticket.buyer.account),
               (_("parts the warehouse sends"), parts),
               (_("compensation to the original payment method"), str(terms.compensation)),
               (_("then"), _("The buyer keeps the goods; the ticket goes to finance, who pays it."))],
        button=_("Yes, re-ship and compensate (%(amount)s)") % {"amount": terms.compensation})


def _compensation_confirmation(ticket: Ticket, amount) -> Confirmation:
    return Confirmation(
        title=_("Settle %(no)s with compensation?") % {"no": ticket.ticket_no},
        lines=[(_("ticket"), f"{ticket.ticket_no} ({ticket.get_type_display()})"), (_("buyer"), ticket.buyer.account),
               (_("compensation to the original payment method"), str(amount)),
               (_("then"), _("The buyer keeps the goods; the ticket goes to finance, who pays it."))],
        button=_("Yes, compensate (%(amount)s)") % {"amount": amount})


def _open(decision: services.Decision) -> Callable:
    return lambda ticket: decision in services.open_decisions(ticket)


# The page's own forms, by the ``action`` each posts; other parts add theirs with register_panel_action.
OWN_ACTIONS: dict[str, PanelAction] = {
    "approve": PanelAction(
        ApproveForm, done=_("Approved."), initial=_approval_defaults, fits=_open(services.Decision.APPROVE),
        finishes=True,
        confirm=lambda request, ticket, data: _approval_confirmation(
            ticket, services.preview_approval(ticket_id=ticket.pk, actor=request.user, **_choices(data))),
        call=lambda request, ticket, data: services.approve_ticket(
            ticket_id=ticket.pk, actor=request.user, **_choices(data))),
    "reject": PanelAction(
        RejectForm, done=_("Rejected; the buyer sees the reason."), fits=_open(services.Decision.REJECT),
        finishes=True,
        call=lambda request, ticket, data: services.reject_ticket(
            ticket_id=ticket.pk, actor=request.user, reason=data["reason"])),
    "compensate": PanelAction(
        CompensateForm, done=_("Settled with compensation; finance pays it."),
        fits=_open(services.Decision.COMPENSATE), finishes=True,
        confirm=lambda request, ticket, data: _compensation_confirmation(
            ticket, services.preview_compensation(ticket_id=ticket.pk, actor=request.user, **data)),
        call=lambda request, ticket, data: services.compensate_ticket(
            ticket_id=ticket.pk, actor=request.user, **data)),
    "reship": PanelAction(
        ReshipForm, done=_("Re-ship recorded; the warehouse sends the parts."), fits=_open(services.Decision.RESHIP),
        finishes=True,
        confirm=lambda request, ticket, data: _reship_confirmation(
            ticket, services.preview_reship(ticket_id=ticket.pk, actor=request.user, **_reship(data))),
        call=lambda request, ticket, data: services.reship_ticket(
            ticket_id=ticket.pk, actor=request.user, **_reship(data))),
    "retention": PanelAction(
        RetentionForm, done=_("Retention attempt recorded."), fits=_open(services.Decision.RETENTION),
        call=lambda request, ticket, data: services.record_retention_attempt(
            ticket_id=ticket.pk, actor=request.user, **data)),
    "note": PanelAction(
        NoteForm, done=_("Note added."),
        call=lambda request, ticket, data: services.add_note(
            ticket_id=ticket.pk, actor=request.user, text=data["text"])),
}
