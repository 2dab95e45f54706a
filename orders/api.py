"""Order endpoints: a buyer's own orders; the service account's import. (What may be claimed on an order
is the claim form's read: tickets.api.claim_form.)"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales.api import InGroup, MoneyField, error_responses
from aftersales.errors import FieldInvalid
from aftersales.idempotency import idempotent
from aftersales.roles import SERVICE
from orders.models import Order
from orders.selectors import get_order_for_buyer, list_orders_for_buyer
from orders.services import import_order, import_orders


class OrderLineOutput(serializers.Serializer):
    order_line_id = serializers.CharField(source="line_id")
    sku = serializers.CharField()
    product_name = serializers.CharField()
    product_code = serializers.CharField()
    category = serializers.CharField()
    unit_price = MoneyField()
    quantity = serializers.IntegerField()
    paid_amount = MoneyField()


class OrderOutput(serializers.Serializer):
    order_no = serializers.CharField()
    shop = inline_serializer("OrderShop", {"code": serializers.CharField(), "name": serializers.CharField()})
    status = serializers.ChoiceField(choices=Order.Status.choices)
    placed_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    goods_amount = MoneyField()
    shipping_fee = MoneyField()
    coupon_discount = MoneyField()
    virtual_currency = MoneyField()
    amount_paid = MoneyField()
    lines = OrderLineOutput(many=True)


class OrderListView(generics.ListAPIView):
    serializer_class = OrderOutput

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Order.objects.none()
        return list_orders_for_buyer(self.request.user)

    @extend_schema(operation_id="list_my_orders", tags=["buyer"], responses={200: OrderOutput(many=True),
                                                                             **error_responses(400)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class OrderDetailView(APIView):
    @extend_schema(operation_id="get_my_order", tags=["buyer"], responses={200: OrderOutput, **error_responses(404)})
    def get(self, request, order_no):
        return Response(OrderOutput(get_order_for_buyer(request.user, order_no)).data)


IMPORT_BODY = {"application/json": {"type": "object", "description": 'one order, or {"orders": [order, ...]}'}}


class OrderImportView(APIView):
    """Upsert orders in the import format (API.md). One object, or {"orders": [...]} for a batch."""

    permission_classes = [InGroup(SERVICE)]

    @extend_schema(
        operation_id="import_orders", tags=["integration"], request=IMPORT_BODY,
        responses={200: inline_serializer("ImportResult", {
            "created": serializers.IntegerField(), "updated": serializers.IntegerField(),
            "refused": serializers.ListField(child=serializers.DictField())}), **error_responses(400, 403, 422)})
    @idempotent
    def post(self, request):
        data = request.data
        batch = data.get("orders") if isinstance(data, dict) and "orders" in data else None
        if batch is None:
            result = import_order(data)  # one order: its error is the response
            return Response({"created": int(result.created), "updated": int(not result.created), "refused": []},
                            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)
        if not isinstance(batch, list) or len(batch) > 1000:
            raise FieldInvalid(_("A list of at most 1000 orders."), field="orders")
        result = import_orders(enumerate(batch))
        return Response({"created": result.created, "updated": result.updated, "refused": [
            {"index": order.position, "order_no": order.order_no, "field": order.field, "detail": order.detail}
            for order in result.refused]})

