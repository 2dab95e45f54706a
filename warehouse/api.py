from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.views import APIView

from aftersales.api import (
    InGroup,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    error_responses,
    validate,
)
from aftersales.roles import WAREHOUSE
from aftersales.vocabulary import InspectionRejection
from tickets.api.lookups import staff_detail, staff_ticket_id
from tickets.api.serializers import StaffTicketOutput
from warehouse import services


class WarehouseLineInput(serializers.Serializer):
    """Units of one order line (the shape of a claim's lines), in JSON's own types: "2" is not a quantity."""

    order_line_id = StrictCharField(max_length=64)
    quantity = StrictIntegerField(min_value=1, max_value=1_000_000)


class InboundView(APIView):
    """After-sales inbound: the returned goods arrived and were inspected."""

    permission_classes = [InGroup(WAREHOUSE)]

    class InboundInput(serializers.Serializer):
        class InboundLine(WarehouseLineInput):
            accepted = StrictBooleanField()
            reject_reason = serializers.ChoiceField(
                choices=InspectionRejection.choices, required=False, allow_blank=True,
                help_text="Why refused goods were refused (rejected lines; \"other\" when not given). A line may "
                          "come several times, its units split into passed and refused for different reasons, "
                          "together at most what was claimed.")
            note = StrictCharField(max_length=500, required=False, allow_blank=True, default="")

        ticket_no = StrictCharField(max_length=32)
        lines = InboundLine(many=True, allow_empty=False, max_length=200)
        note = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")
        photo_ids = serializers.ListField(child=StrictIntegerField(min_value=1, max_value=2**31 - 1),
                                          required=False, default=list, max_length=12,
                                          help_text="Inspection photos uploaded by the clerk (POST /api/v1/uploads/).")

    @extend_schema(operation_id="warehouse_inbound", tags=["warehouse"], request=InboundInput,
                   responses={201: StaffTicketOutput, **error_responses(400, 403, 404, 409)})
    def post(self, request):
        data = validate(self.InboundInput, request.data)
        ticket_id = staff_ticket_id(data["ticket_no"], request.user)
        lines = [{**line, "reject_reason": line.get("reject_reason") or ("" if line["accepted"] else "other")}
                 for line in data["lines"]]
        services.record_inbound(ticket_id=ticket_id, actor=request.user, note=data["note"], lines=lines,
                                photo_ids=data["photo_ids"])
        return staff_detail(data["ticket_no"], request, code=status.HTTP_201_CREATED)


class OutboundView(APIView):
    """After-sales outbound: the replacement left, with courier and tracking number."""

    permission_classes = [InGroup(WAREHOUSE)]

    class OutboundInput(serializers.Serializer):
        ticket_no = StrictCharField(max_length=32)
        lines = WarehouseLineInput(many=True, allow_empty=False, max_length=200)
        courier = StrictCharField(max_length=100)
        tracking_no = StrictCharField(max_length=100)

    @extend_schema(operation_id="warehouse_outbound", tags=["warehouse"], request=OutboundInput,
                   responses={201: StaffTicketOutput, **error_responses(400, 403, 404, 409)})
    def post(self, request):
        data = validate(self.OutboundInput, request.data)
        ticket_id = staff_ticket_id(data["ticket_no"], request.user)
        services.record_outbound(ticket_id=ticket_id, actor=request.user, courier=data["courier"],
                                 tracking_no=data["tracking_no"], lines=[dict(x) for x in data["lines"]])
        return staff_detail(data["ticket_no"], request, code=status.HTTP_201_CREATED)
