"""Output shapes. Buyers see their ticket without staff names or internal notes; staff see everything."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aftersales import clock
from aftersales.api import MoneyField
from policies import services as policies
from tickets.models import Ticket


class LineQuantityInput(serializers.Serializer):
    """Units of one order line: what a claim asks for, what the warehouse receives or sends."""

    order_line_id = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class ReasonInput(serializers.Serializer):
    """Why (a rejection, a send-back): the one field every "say why" action takes."""

    reason = serializers.CharField(max_length=500)


class TicketLineOutput(serializers.Serializer):
    order_line_id = serializers.CharField(source="order_line.line_id")
    sku = serializers.CharField(source="order_line.sku")
    product_name = serializers.CharField(source="order_line.product_name")
    product_code = serializers.CharField(source="order_line.product_code")
    category = serializers.CharField(source="order_line.category")
    unit_price = MoneyField(source="order_line.unit_price")
    quantity = serializers.IntegerField()
    refund_amount = MoneyField()


class PhotoOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()

    def get_url(self, upload) -> str:
        """Served by the API to the owner and to staff only (claim photos are not public files)."""
        request = self.context.get("request")
        url = reverse("upload-file", args=[upload.pk])
        return request.build_absolute_uri(url) if request else url


class ShipmentOutput(serializers.Serializer):
    direction = serializers.ChoiceField(choices=["return", "replacement"])
    courier = serializers.CharField()
    tracking_no = serializers.CharField()
    at = serializers.DateTimeField()


class TimelineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    transition = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    by = serializers.CharField(source="actor_role", help_text="buyer, ops, finance, warehouse, system")
    reason = serializers.CharField()


class StaffTimelineOutput(TimelineOutput):
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)
    changes = serializers.JSONField()
    buyer_visible = serializers.BooleanField()


class TicketSummaryOutput(serializers.Serializer):
    ticket_no = serializers.CharField()
    order_no = serializers.CharField(source="order.order_no")
    type = serializers.ChoiceField(choices=Ticket.Type.choices)
    status = serializers.ChoiceField(choices=Ticket.Status.choices)
    reason_id = serializers.IntegerField()
    description = serializers.CharField()
    lines = TicketLineOutput(many=True)
    refund_amount = MoneyField(help_text="cash to the original payment method: goods + shipping − service fee")
    created_at = serializers.DateTimeField()
    reviewed_at = serializers.DateTimeField(allow_null=True)
    rejection_reason = serializers.CharField()


def _latest_refund(ticket):
    """The ticket's latest refund (prefetched with the ticket), or None."""
    refunds = sorted(ticket.refunds.all(), key=lambda r: r.pk)
    return refunds[-1] if refunds else None


class TicketOutput(TicketSummaryOutput):
    """The buyer's detail: what was decided, where to send the goods, what moved, and the timeline."""

    reason = serializers.SerializerMethodField()
    goods_amount = MoneyField()
    shipping_refund = MoneyField()
    coupon_refund = MoneyField(help_text="coupon value returned in kind (not part of refund_amount)")
    virtual_currency_refund = MoneyField(help_text="points returned in kind (not part of refund_amount)")
    service_fee = MoneyField()
    fee_reason = serializers.CharField()
    return_address = serializers.CharField()
    return_contact = serializers.CharField()
    return_phone = serializers.CharField()
    return_deadline = serializers.DateTimeField(allow_null=True)
    confirm_deadline = serializers.DateTimeField(allow_null=True)
    refund_status = serializers.SerializerMethodField()
    refund_paid_at = serializers.SerializerMethodField()
    refund_expected_by = serializers.SerializerMethodField(
        help_text="once the refund is paid: when the money reaches the original payment method at the latest "
                  "(policy refund_arrival_business_days, business days after payment)")
    photos = PhotoOutput(many=True)
    shipments = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()

    @extend_schema_field({"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}})
    def get_reason(self, ticket):
        language = getattr(self.context.get("request"), "LANGUAGE_CODE", None)
        return {"code": ticket.reason.code, "name": ticket.reason.localized_name(language)}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_refund_status(self, ticket):
        refund = _latest_refund(ticket)
        return refund.status if refund else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_refund_paid_at(self, ticket):
        refund = _latest_refund(ticket)
        paid = refund is not None and refund.status == "succeeded" and refund.finished_at
        return serializers.DateTimeField().to_representation(refund.finished_at) if paid else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_refund_expected_by(self, ticket):
        refund = _latest_refund(ticket)
        if refund is None or refund.status != "succeeded" or not refund.finished_at:
            return None
        days = policies.current().count("refund_arrival_business_days")
        return serializers.DateTimeField().to_representation(clock.add_business_days(refund.finished_at, days))

    @extend_schema_field(ShipmentOutput(many=True))
    def get_shipments(self, ticket):
        rows = [{"direction": "return", "courier": s.courier, "tracking_no": s.tracking_no, "at": s.created_at}
                for s in ticket.return_shipments.all()]
        rows += [{"direction": "replacement", "courier": o.courier, "tracking_no": o.tracking_no, "at": o.created_at}
                 for o in ticket.outbounds.all()]
        return ShipmentOutput(sorted(rows, key=lambda r: r["at"]), many=True).data

    @extend_schema_field(TimelineOutput(many=True))
    def get_timeline(self, ticket):
        return TimelineOutput(ticket.public_events, many=True).data


class NoteOutput(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.CharField(source="author.username")
    text = serializers.CharField()
    created_at = serializers.DateTimeField()


class StaffTicketOutput(TicketOutput):
    shop = serializers.CharField(source="shop.name")
    buyer = serializers.CharField(source="buyer.account")
    order_placed_at = serializers.DateTimeField(source="order.placed_at")
    reviewer = serializers.CharField(source="reviewer.username", default=None, allow_null=True)
    approved_at = serializers.DateTimeField(allow_null=True)
    finance_rejection_reason = serializers.CharField()
    intercept_requested = serializers.BooleanField()
    escalated_at = serializers.DateTimeField(allow_null=True)
    is_compensation = serializers.BooleanField()
    notes = NoteOutput(many=True)

    @extend_schema_field(StaffTimelineOutput(many=True))
    def get_timeline(self, ticket):
        return StaffTimelineOutput(ticket.events.all(), many=True).data


class StaffTicketRowOutput(TicketSummaryOutput):
    """A row of the staff list: the list page's columns."""

    shop = serializers.CharField(source="shop.name")
    order_placed_at = serializers.DateTimeField(source="order.placed_at")
    approved_at = serializers.DateTimeField(allow_null=True)
