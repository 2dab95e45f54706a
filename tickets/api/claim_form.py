"""The claim form's reads: what may be claimed on an order, and the reasons on offer for it. They live
with tickets, beside the submission, so a shop app's "apply for after-sales" screen and the submission
are built from the same rules and can never disagree."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales.api import MoneyField, error_responses, validate
from aftersales.errors import NotFound
from aftersales.vocabulary import TicketType
from orders.models import Order
from orders.selectors import get_order_for_buyer
from reasons.models import Reason
from reasons.selectors import list_reasons_for
from tickets.eligibility import eligibility_for


class DeadlineOutput(serializers.Serializer):
    name = serializers.CharField(help_text="before_shipment, in_transit, fresh_quality, no_reason, quality")
    types = serializers.ListField(child=serializers.CharField())
    ends_at = serializers.DateTimeField(allow_null=True, help_text="null: open until the order moves on")
    open = serializers.BooleanField()
    reasons = serializers.CharField(help_text="any, buyer, shop_or_carrier, quality_only")


class EligibilityLineOutput(serializers.Serializer):
    order_line_id = serializers.CharField()
    sku = serializers.CharField()
    product_name = serializers.CharField()
    category = serializers.CharField()
    quantity = serializers.IntegerField()
    claimed_quantity = serializers.IntegerField()
    claimable_quantity = serializers.IntegerField()
    max_refund = MoneyField()
    allowed_types = serializers.ListField(child=serializers.CharField())
    photos_required_for = serializers.ListField(child=serializers.CharField())
    deadlines = DeadlineOutput(many=True)


class EligibilityOutput(serializers.Serializer):
    order_no = serializers.CharField()
    order_status = serializers.CharField()
    checked_at = serializers.DateTimeField()
    max_photos = serializers.IntegerField()
    lines = EligibilityLineOutput(many=True)


class EligibilityView(APIView):
    @extend_schema(operation_id="order_eligibility", tags=["buyer"],
                   responses={200: EligibilityOutput, **error_responses(404)},
                   description="Per line: claimable quantity, maximum refund, allowed ticket types and the "
                               "deadlines that apply, with the time each ends.")
    def get(self, request, order_no):
        return Response(EligibilityOutput(eligibility_for(get_order_for_buyer(request.user, order_no))).data)


class ReasonOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.SerializerMethodField()
    group = serializers.ChoiceField(choices=Reason.Group.choices)
    is_quality_issue = serializers.BooleanField()
    requires_photos = serializers.BooleanField()
    responsible = serializers.ChoiceField(choices=Reason.Responsible.choices)
    ticket_types = serializers.ListField(child=serializers.CharField())
    categories = serializers.ListField(child=serializers.CharField())

    def get_name(self, reason) -> str:
        return reason.localized_name(getattr(self.context.get("request"), "LANGUAGE_CODE", None))


class ReasonListView(APIView):
    """Visible reasons that fit the ticket type and the order's goods, in display order (not paginated)."""

    class Query(serializers.Serializer):
        ticket_type = serializers.ChoiceField(choices=TicketType.choices, required=False)
        order_no = serializers.CharField(max_length=64, required=False)

    @extend_schema(operation_id="list_reasons", tags=["buyer"], parameters=[
        OpenApiParameter("ticket_type", str, enum=TicketType.values),
        OpenApiParameter("order_no", str, description="only reasons that fit this order's product categories")],
        responses={200: ReasonOutput(many=True), **error_responses(400, 404)})
    def get(self, request):
        query = validate(self.Query, request.query_params.dict())
        categories = None
        if query.get("order_no"):
            order = Order.objects.filter(order_no=query["order_no"], buyer__user=request.user).first()
            if order is None:
                raise NotFound(_("No such order."), field="order_no")
            categories = set(order.lines.values_list("category", flat=True))
        reasons = list_reasons_for(ticket_type=query.get("ticket_type"), categories=categories)
        return Response(ReasonOutput(reasons, many=True, context={"request": request}).data)
