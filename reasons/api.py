from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales.api import error_responses, validate
from aftersales.errors import NotFound
from orders.models import Order
from reasons.models import Reason
from reasons.selectors import list_reasons_for
from tickets.models import Ticket


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
        ticket_type = serializers.ChoiceField(choices=Ticket.Type.choices, required=False)
        order_no = serializers.CharField(max_length=64, required=False)

    @extend_schema(operation_id="list_reasons", tags=["buyer"], parameters=[
        OpenApiParameter("ticket_type", str, enum=Ticket.Type.values),
        OpenApiParameter("order_no", str, description="only reasons that fit this order's product categories")],
        responses={200: ReasonOutput(many=True), **error_responses(400, 404)})
    def get(self, request):
        query = validate(self.Query, request.query_params.dict())
        categories = None
        if query.get("order_no"):
            order = Order.objects.filter(order_no=query["order_no"], buyer__user=request.user).first()
            if order is None:
                raise NotFound("No such order.", field="order_no")
            categories = set(order.lines.values_list("category", flat=True))
        reasons = list_reasons_for(ticket_type=query.get("ticket_type"), categories=categories)
        return Response(ReasonOutput(reasons, many=True, context={"request": request}).data)
