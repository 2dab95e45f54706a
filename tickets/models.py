"""Claims, their lines, photos, notes and the append-only timeline (SPEC §3, §4, §11)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, transition

from aftersales import clock
from aftersales.history import append_only, tracked
from aftersales.vocabulary import TicketType, TypeTraits, traits
from orders.models import GoodsLine, Order, order_line_field
from tickets import payloads
from tickets.due import DueKind


class AppendOnlyModel(models.Model):
    """Rows written once: the app refuses edits and deletes; PostgreSQL triggers refuse them too."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise RuntimeError(f"{type(self).__name__} rows are history and cannot be edited.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__name__} rows are history and cannot be deleted.")


class EventKind(models.TextChoices):
    """What a timeline row records: one kind per transition of the machine (the transition method has
    the same name), and the few events that move no state. Services name kinds by these members, never
    by free strings (as Saleor's order events do)."""

    SUBMIT = "submit", _("submitted")
    AUTO_APPROVE = "auto_approve", _("approved by the system")
    APPROVE = "approve", _("approved")
    COMPENSATE = "compensate", _("settled with compensation")
    REJECT = "reject", _("rejected")
    CANCEL = "cancel", _("cancelled by the buyer")
    RECORD_RETURN_SHIPMENT = "record_return_shipment", _("goods sent back")
    RECEIVE_GOODS = "receive_goods", _("goods received and inspected")
    CLOSE = "close", _("closed")
    FINANCE_APPROVE = "finance_approve", _("refund approved by finance")
    FINANCE_REJECT = "finance_reject", _("sent back by finance")
    REFUND_SUCCEEDED = "refund_succeeded", _("refund paid")
    RESHIP = "reship", _("missing or broken parts to be re-shipped")
    SHIP_REPLACEMENT = "ship_replacement", _("replacement shipped")
    CONFIRM_RECEIPT = "confirm_receipt", _("receipt confirmed")
    INTERCEPT_FAILED = "intercept_failed", _("too late to hold the shipment: already shipped")
    # Events that are no transition of their own, or another name for one:
    AUTO_CONFIRM_RECEIPT = "auto_confirm_receipt", _("receipt confirmed by the system")
    REFUND_FAILED = "refund_failed", _("refund failed")
    INTERCEPT_REQUESTED = "intercept_requested", _("warehouse told to hold the shipment")
    INTERCEPT_HELD = "intercept_held", _("shipment held by the warehouse")
    ESCALATE = "escalate", _("escalated")
    ASSIGN = "assign", _("assigned")
    RETENTION_ATTEMPT = "retention_attempt", _("retention attempt")
    NOTE = "note", _("note added")


@tracked("TicketHistory")
class Ticket(models.Model):
    Type = TicketType  # defined once, in the kernel: reasons name ticket types too

    class Status(models.TextChoices):
        PENDING_REVIEW = "pending_review", _("pending review")
        # No ticket rests here: approval moves on at once to the waiting state, and "approved" is the
        # ops decision in the timeline (approved_at). Kept because SPEC §4 and API.md list it among
        # the status values clients may filter on and must accept.
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        AWAITING_RETURN = "awaiting_return", _("awaiting return")
        AWAITING_REFUND = "awaiting_refund", _("awaiting refund")
        AWAITING_EXCHANGE = "awaiting_exchange", _("awaiting exchange")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")
        CLOSED = "closed", _("closed")

    FINAL = (Status.REJECTED, Status.COMPLETED, Status.CANCELLED, Status.CLOSED)
    # Tickets whose claimed quantities and amounts still count against the order lines.
    NOT_COUNTING = (Status.REJECTED, Status.CANCELLED, Status.CLOSED)

    # Null only between insert and the number derived from the pk (unique, never reused).
    ticket_no = models.CharField(_("ticket no"), max_length=32, unique=True, null=True, editable=False)  # noqa: DJ001
    order = models.ForeignKey("orders.Order", verbose_name=_("order"), on_delete=models.PROTECT,
                              related_name="tickets")
    buyer = models.ForeignKey("orders.Buyer", verbose_name=_("buyer"), on_delete=models.PROTECT,
                              related_name="tickets")
    shop = models.ForeignKey("orders.Shop", verbose_name=_("shop"), on_delete=models.PROTECT,
                             related_name="tickets")
    type = models.CharField(_("type"), max_length=16, choices=Type)
    status = FSMField(_("status"), max_length=24, choices=Status, default=Status.PENDING_REVIEW)
    reason = models.ForeignKey("reasons.Reason", verbose_name=_("reason"), on_delete=models.PROTECT,
                               related_name="tickets")
    description = models.TextField(_("description"), blank=True, max_length=2000)

    # Money (SPEC §5). refund_amount is cash to the original payment method: goods + shipping − service
    # fee. coupon_refund and virtual_currency_refund go back in kind (the coupon, the points), beside it.
    goods_amount = models.DecimalField(_("goods amount"), max_digits=12, decimal_places=2, default=0)
    shipping_refund = models.DecimalField(_("shipping refund"), max_digits=12, decimal_places=2, default=0)
    coupon_refund = models.DecimalField(_("coupon refund"), max_digits=12, decimal_places=2, default=0)
    virtual_currency_refund = models.DecimalField(_("virtual currency refund"), max_digits=12, decimal_places=2,
                                                  default=0)
    service_fee = models.DecimalField(_("service fee"), max_digits=12, decimal_places=2, default=0)
    fee_reason = models.CharField(_("fee reason"), max_length=500, blank=True)
    refund_amount = models.DecimalField(_("refund amount"), max_digits=12, decimal_places=2, default=0)
    is_compensation = models.BooleanField(_("is compensation"), default=False)

    rejection_reason = models.CharField(_("rejection reason"), max_length=500, blank=True,
                                        help_text=_("the buyer sees it"))
    finance_rejection_reason = models.CharField(_("finance rejection reason"), max_length=500, blank=True)
    return_contact = models.CharField(_("return contact"), max_length=100, blank=True)
    return_phone = models.CharField(_("return phone"), max_length=40, blank=True)
    return_address = models.CharField(_("return address"), max_length=500, blank=True)
    intercept_requested = models.BooleanField(_("intercept requested"), default=False,
                                              help_text=_("warehouse told to hold the shipment"))
    intercept_failed_at = models.DateTimeField(
        _("intercept too late at"), null=True, blank=True,
        help_text=_("the warehouse could not hold the shipment: the goods had already left"))

    created_at = models.DateTimeField(_("created at"), db_index=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewer"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True,
                                       help_text=_("the ops decision"))
    return_deadline = models.DateTimeField(_("return deadline"), null=True, blank=True)
    goods_received_at = models.DateTimeField(_("goods received at"), null=True, blank=True)
    inspection_passed = models.BooleanField(_("inspection passed"), null=True, blank=True,
                                            help_text=_("empty until the warehouse inspected the goods"))
    reship_requested_at = models.DateTimeField(_("re-ship requested at"), null=True, blank=True,
                                               help_text=_("ops decided to send missing or broken parts again"))
    replacement_shipped_at = models.DateTimeField(_("replacement shipped at"), null=True, blank=True)
    confirm_deadline = models.DateTimeField(_("confirm deadline"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    review_started_at = models.DateTimeField(_("review started at"), null=True, blank=True,
                                             help_text=_("when the ticket last entered review (the SLA counts from it)"))
    first_replied_at = models.DateTimeField(_("first replied at"), null=True, blank=True,
                                            help_text=_("the first staff note or decision on the claim"))
    next_deadline_at = models.DateTimeField(_("due"), null=True, blank=True,
                                            help_text=_("when the step the ticket waits for is due (tickets.due)"))
    next_deadline_kind = models.CharField(_("due for"), max_length=16, blank=True, choices=DueKind)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assignee"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+",
                                 help_text=_("the ops reviewer working on it"))
    refund_requested_at = models.DateTimeField(
        _("refund requested at"), null=True, blank=True,
        help_text=_("money is on its way (finance approved, or approved by the system); "
                    "cleared when the refund fails"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["type", "-created_at"]),
            models.Index(fields=["buyer", "-created_at"]),
            models.Index(fields=["shop", "-created_at"]),
            models.Index(fields=["order"]),
            models.Index(fields=["status", "return_deadline"]),
            models.Index(fields=["status", "confirm_deadline"]),
            # The ops queue's default order: what is due first (NULLs, nothing due, last), then by id.
            models.Index(fields=["next_deadline_at", "id"], name="ticket_queue_due"),
            models.Index(fields=["assignee", "next_deadline_at"], name="ticket_queue_assignee"),
            # The deadline sweep's probe (tickets.deadlines): what is due and not yet escalated at this stage,
            # read from this small index alone, however many tickets there are.
            models.Index(fields=["next_deadline_at"], name="ticket_deadline_sweep",
                         condition=Q(next_deadline_at__isnull=False, escalated_at__isnull=True)),
            # A date range on the queue: the range's tickets with their due times, read from the index
            # alone (the page's ids first: aftersales.admin.CappedCountPaginator.page).
            models.Index(fields=["created_at", "next_deadline_at", "id"], name="ticket_queue_applied"),
            # The queue's markers, each a small partial index in the queue's order, so filtering by one
            # (and counting it) reads only the tickets that carry it, however many tickets there are.
            models.Index(fields=["next_deadline_at", "id"], name="ticket_queue_sent_back",
                         condition=Q(status="pending_review") & ~Q(finance_rejection_reason="")),
            models.Index(fields=["next_deadline_at", "id"], name="ticket_queue_inspection",
                         condition=Q(status="pending_review", inspection_passed=False)),
            models.Index(fields=["next_deadline_at", "id"], name="ticket_queue_intercept_late",
                         condition=Q(intercept_failed_at__isnull=False)),
            models.Index(fields=["next_deadline_at", "id"], name="ticket_queue_escalated",
                         condition=Q(escalated_at__isnull=False)
                         & ~Q(status__in=["rejected", "completed", "cancelled", "closed"])),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(goods_amount__gte=0, shipping_refund__gte=0, coupon_refund__gte=0,
                            virtual_currency_refund__gte=0, service_fee__gte=0, refund_amount__gte=0),
                name="ticket_amounts_gte_0"),
        ]
        permissions = [
            ("review_ticket", _("Can approve or reject claims (ops)")),
            ("finance_ticket", _("Can approve or send back refunds (finance)")),
        ]

    def __str__(self) -> str:
        return self.ticket_no or f"ticket #{self.pk}"

    @property
    def traits(self) -> TypeTraits:
        """What this ticket's type means (aftersales.vocabulary.TYPE_TRAITS)."""
        return traits(self.type)

    @property
    def goods_come_back(self) -> bool:
        return self.traits.goods_come_back

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL

    # The whole machine (SPEC §4), each guard beside the transitions it guards. Services call these
    # after their own checks (tickets.machine.move); a call from the wrong state or with a failing guard
    # raises TransitionNotAllowed, which the services turn into InvalidTransition (409). Each
    # transition's name is its EventKind. Guards read only the ticket's own rows: money and goods
    # are other parts' business, and they tell the ticket through its services.
    S = Status

    def _auto_approvable(self) -> bool:
        return self.traits.claimable_before_shipment and self.order.status == Order.Status.UNSHIPPED

    @transition(field=status, source=S.PENDING_REVIEW, target=S.AWAITING_REFUND, conditions=[_auto_approvable])
    def auto_approve(self):
        """Refund only on an unshipped order: approved by the system, the money on its way [001]."""

    @transition(field=status, source=S.PENDING_REVIEW,
                target=RETURN_VALUE(S.AWAITING_REFUND, S.AWAITING_RETURN, S.AWAITING_EXCHANGE))
    def approve(self):
        """Refund only (or goods already back): awaiting refund; otherwise the goods come back first."""
        if not self.traits.goods_come_back or self.is_compensation:
            return self.Status.AWAITING_REFUND
        if self.goods_received_at is None:
            return self.Status.AWAITING_RETURN
        return self._after_goods_passed()

    def _after_goods_passed(self) -> str:
        return self.Status.AWAITING_EXCHANGE if self.traits.replacement_ships else self.Status.AWAITING_REFUND

    @transition(field=status, source=S.PENDING_REVIEW, target=S.AWAITING_REFUND)
    def compensate(self):
        """Settle with a partial refund; the buyer keeps the goods [004]."""

    @transition(field=status, source=S.PENDING_REVIEW, target=S.AWAITING_EXCHANGE)
    def reship(self):
        """Send the missing or broken parts again instead of money: the warehouse ships them, then the
        buyer confirms, as for an exchange [SPEC §5]. (Beside compensation the ticket is compensated
        instead, and the parts go out on their own: tickets.services.reship_ticket.)"""

    @transition(field=status, source=S.PENDING_REVIEW, target=S.REJECTED)
    def reject(self):
        pass

    def _no_return_shipment(self) -> bool:
        return not self.return_shipments.exists()

    def _goods_not_received(self) -> bool:
        return self.goods_received_at is None

    @transition(field=status, source=[S.PENDING_REVIEW, S.AWAITING_RETURN], target=S.CANCELLED,
                conditions=[_no_return_shipment, _goods_not_received])
    def cancel(self):
        """The buyer withdraws, as long as no goods are on their way back or already in the warehouse."""

    def _goods_come_back(self) -> bool:
        return self.traits.goods_come_back

    @transition(field=status, source=S.AWAITING_RETURN, target=S.AWAITING_RETURN, conditions=[_goods_come_back])
    def record_return_shipment(self):
        pass

    @transition(field=status, source=S.AWAITING_RETURN,
                target=RETURN_VALUE(S.AWAITING_REFUND, S.AWAITING_EXCHANGE, S.PENDING_REVIEW),
                conditions=[_goods_come_back])
    def receive_goods(self, *, all_accepted: bool):
        if not all_accepted:
            return self.Status.PENDING_REVIEW  # ops decides, the inspection attached
        return self._after_goods_passed()

    def _return_deadline_passed(self) -> bool:
        return self.return_deadline is not None and self.return_deadline < clock.now()

    @transition(field=status, source=S.AWAITING_RETURN, target=S.CLOSED,
                conditions=[_goods_come_back, _no_return_shipment, _return_deadline_passed])
    def close(self):
        """The return deadline passed with nothing sent back (not a second before)."""

    def _no_refund_requested(self) -> bool:
        return self.refund_requested_at is None

    @transition(field=status, source=S.AWAITING_REFUND, target=S.AWAITING_REFUND, conditions=[_no_refund_requested])
    def finance_approve(self):
        """The refund is requested; the ticket completes when it succeeds."""

    @transition(field=status, source=S.AWAITING_REFUND, target=S.PENDING_REVIEW, conditions=[_no_refund_requested])
    def finance_reject(self):
        pass

    @transition(field=status, source=S.AWAITING_REFUND, target=S.COMPLETED)
    def refund_succeeded(self):
        pass

    @transition(field=status, source=S.AWAITING_REFUND, target=S.PENDING_REVIEW,
                conditions=[_no_refund_requested])
    def intercept_failed(self):
        """The warehouse could not hold the shipment of a refund-only claim: the goods are on their way to
        the buyer, and no money has moved yet, so ops decides again (tickets.services.record_intercept_outcome;
        once the money is on its way the ticket stays where it is, flagged)."""

    def _replacement_not_shipped(self) -> bool:
        return self.replacement_shipped_at is None

    @transition(field=status, source=S.AWAITING_EXCHANGE, target=S.AWAITING_EXCHANGE,
                conditions=[_replacement_not_shipped])
    def ship_replacement(self):
        pass

    def _replacement_shipped(self) -> bool:
        return self.replacement_shipped_at is not None

    @transition(field=status, source=S.AWAITING_EXCHANGE, target=S.COMPLETED, conditions=[_replacement_shipped])
    def confirm_receipt(self):
        pass

    del S


@tracked("TicketLineHistory")
class TicketLine(GoodsLine):
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="lines")
    order_line = order_line_field(related_name="ticket_lines")
    refund_amount = models.DecimalField(_("refund amount"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("ticket line")
        verbose_name_plural = _("ticket lines")
        ordering = ["pk"]
        constraints = [
            GoodsLine.quantity_gt_0("ticket_line_quantity_gt_0"),
            models.CheckConstraint(condition=Q(refund_amount__gte=0), name="ticket_line_amount_gte_0"),
            models.UniqueConstraint(fields=["ticket", "order_line"], name="one_ticket_line_per_order_line"),
        ]


def upload_path(instance, filename: str) -> str:
    return f"uploads/{instance.owner_id}/{instance.token}.{instance.extension}"


@tracked("UploadHistory")
class Upload(models.Model):
    """A buyer's photo: decoded, re-encoded without metadata; attached to one ticket at most."""

    token = models.UUIDField(_("token"), unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
                              related_name="uploads")
    file = models.FileField(_("file"), upload_to=upload_path)
    extension = models.CharField(_("extension"), max_length=8)
    content_type = models.CharField(_("content type"), max_length=32)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    size = models.PositiveIntegerField(_("size"))
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="photos")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{_('photo')} {self.width}×{self.height}"


@tracked("NoteHistory", inserts_only=True)
class Note(AppendOnlyModel):
    """"Problem + progress" (SPEC §9). Staff only; never shown to the buyer."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT,
                               related_name="+")
    text = models.TextField(_("text"), max_length=4000)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["created_at", "pk"]
        triggers = append_only("notes_append_only")

    def __str__(self) -> str:
        return self.text[:80]


class TimelineEvent(AppendOnlyModel):
    """One row per thing that happened to a ticket: who, when, from, to, why, what changed."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+", help_text=_("empty: the system"))
    actor_role = models.CharField(_("actor role"), max_length=16,
                                  help_text=_("buyer, ops, finance, warehouse, system"))
    at = models.DateTimeField(_("at"))
    Kind = EventKind

    transition = models.CharField(_("transition"), max_length=40, choices=EventKind)
    from_status = models.CharField(_("from status"), max_length=24, blank=True)
    to_status = models.CharField(_("to status"), max_length=24)
    reason = models.TextField(_("reason"), blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True, help_text=_("field: [old, new]"))
    buyer_visible = models.BooleanField(_("buyer visible"), default=True)

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["ticket", "at"]), models.Index(fields=["transition", "at"])]
        triggers = append_only("timeline_append_only")

    def __str__(self) -> str:
        return str(self.get_transition_display())

    # What other parts and the screens read from the row, typed (tickets.payloads); None or empty when the row
    # does not carry it.
    @property
    def due_for(self) -> DueKind | None:
        """The step an escalation was for."""
        kind = payloads.read_due_for(self.changes)
        return DueKind(kind) if kind in DueKind.values else None

    @property
    def reship_parts(self) -> tuple[payloads.ReshipPart, ...]:
        return payloads.read_reship(self.changes)

    @property
    def inspection(self) -> tuple[payloads.LineInspection, ...]:
        return payloads.read_inspection(self.changes)

    @property
    def inspection_photo_ids(self) -> tuple[int, ...]:
        return payloads.read_photos(self.changes)

    @property
    def refund_amount_change(self) -> payloads.AmountChange | None:
        return payloads.read_refund_amount(self.changes)


@tracked("ReturnShipmentHistory", inserts_only=True)
class ReturnShipment(AppendOnlyModel):
    """The buyer's parcel back to the shop: courier and tracking number."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT,
                               related_name="return_shipments")
    courier = models.CharField(_("courier"), max_length=100)
    tracking_no = models.CharField(_("tracking no"), max_length=100)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("return shipment")
        verbose_name_plural = _("return shipments")
        ordering = ["created_at", "pk"]
        triggers = append_only("return_shipment_append_only")

    def __str__(self) -> str:
        return f"{self.courier} {self.tracking_no}"


class ReplyTemplate(models.Model):
    """A reply ops sends a buyer at a step of the solution ladder (SPEC §9, seed 004); administrators keep
    the library, ops insert one into a note in one click on the review page."""

    class Step(models.TextChoices):
        SOOTHE = "soothe", _("soothe")
        VERIFY = "verify", _("verify with photos or video")
        COMPENSATION = "compensation", _("offer compensation")
        RESHIP = "reship", _("re-ship parts")
        EXCHANGE = "exchange", _("exchange")
        RETENTION = "retention", _("retention")
        REASON_GUIDANCE = "reason_guidance", _("reason guidance")

    step = models.CharField(_("step"), max_length=20, choices=Step)
    title = models.CharField(_("title"), max_length=100)
    title_zh = models.CharField(_("title in Chinese"), max_length=100, blank=True,
                                help_text=_("shown to staff working in Chinese; empty: the title"))
    text = models.TextField(_("text"), max_length=2000)
    display_order = models.PositiveIntegerField(_("display order"), default=100)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["step", "display_order", "pk"]

    def __str__(self) -> str:
        return self.title

    def localized_title(self, language: str | None) -> str:
        """The title in the reader's language (as reasons name themselves: Reason.localized_name)."""
        if language and language.lower().startswith("zh") and self.title_zh:
            return self.title_zh
        return self.title
