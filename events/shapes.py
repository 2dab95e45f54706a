"""What an event carries, as serializers: they build the payload and describe it in the OpenAPI document,
so the catalogue a receiver reads is the shape it gets.

``data.ticket`` is the ticket as the buyer API shows it (tickets.api.serializers.TicketOutput) without its
timeline and photos: no internal notes, no staff names, nothing the buyer could not see.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aftersales.api import MoneyField
from tickets.api.serializers import TicketOutput


class BuyerTicket(TicketOutput):
    """The ticket as the buyer sees it in GET /api/v1/tickets/{ticket_no}/, without timeline and photos."""

    timeline = None
    photos = None


class ReturnAddress(serializers.Serializer):
    address = serializers.CharField()
    contact = serializers.CharField()
    phone = serializers.CharField()


class InspectedLine(serializers.Serializer):
    order_line_id = serializers.CharField()
    units = serializers.IntegerField()
    accepted = serializers.BooleanField()
    reject_reason = serializers.CharField(help_text="why refused: damaged, not the item, parts missing, …; empty when accepted")


class TicketData(serializers.Serializer):
    ticket = BuyerTicket()


class ApprovedData(TicketData):
    settlement = serializers.ChoiceField(
        choices=["refund", "return", "exchange", "compensation", "reship"],
        help_text="refund: money only; return: the goods come back first, then the refund; exchange: the goods "
                  "come back, a replacement ships; compensation: part of the money, the goods stay; reship: the "
                  "missing or broken parts ship again")
    return_address = ReturnAddress(allow_null=True, help_text="where to send the goods back; null if nothing comes back")
    return_deadline = serializers.DateTimeField(allow_null=True)
    refund_amount = MoneyField()


class RejectedData(TicketData):
    rejection_reason = serializers.CharField()


class ReasonData(TicketData):
    reason = serializers.CharField(help_text="why, in the shop's words; may be empty")


class RefundData(TicketData):
    amount = MoneyField(help_text="cash to the original payment method")


class RefundPaidData(RefundData):
    paid_at = serializers.DateTimeField()
    expected_by = serializers.DateTimeField(
        help_text="when the money reaches the original payment method at the latest (business days after payment)")


class ShipmentData(TicketData):
    courier = serializers.CharField()
    tracking_no = serializers.CharField()


class OutboundData(ShipmentData):
    parts_only = serializers.BooleanField(help_text="true: only missing or broken parts, not a whole replacement")


class InboundData(TicketData):
    lines = InspectedLine(many=True)


class DeadlineData(TicketData):
    deadline = serializers.ChoiceField(choices=["return", "confirm"],
                                       help_text="return: send the goods back; confirm: confirm receipt of the replacement")
    due_at = serializers.DateTimeField()


class TestData(serializers.Serializer):
    message = serializers.CharField()


DATA = {
    "ticket.submitted": TicketData,
    "ticket.approved": ApprovedData,
    "ticket.rejected": RejectedData,
    "ticket.cancelled": TicketData,
    "ticket.closed": ReasonData,
    "ticket.in_review": TicketData,
    "ticket.awaiting_refund": TicketData,
    "ticket.completed": TicketData,
    "refund.approved": RefundData,
    "refund.succeeded": RefundPaidData,
    "refund.failed": RefundData,
    "shipment.return_sent": ShipmentData,
    "shipment.inbound": InboundData,
    "shipment.outbound": OutboundData,
    "deadline.warning": DeadlineData,
    "webhook.test": TestData,
}


class EventOutput(serializers.Serializer):
    """One event, as the feed lists it and as a webhook's body carries it."""

    id = serializers.UUIDField(source="uuid", help_text="the same as the webhook-id header: deduplicate by it")
    position = serializers.IntegerField(help_text="the feed's cursor: events in commit order")
    type = serializers.CharField()
    ticket_no = serializers.CharField()
    shop = serializers.CharField(source="shop.code")
    occurred_at = serializers.DateTimeField()
    data = serializers.SerializerMethodField()

    @extend_schema_field({"type": "object", "description": "by type: see the webhooks in this document"})
    def get_data(self, event):
        return event.data
