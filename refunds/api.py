"""Finance endpoints: the refund list, approve (the refund is executed once), send back to ops."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.views import APIView

from aftersales.api import CursorPagination, InGroup, MoneyField, error_responses, validate
from aftersales.roles import FINANCE
from refunds import selectors, services
from tickets.api.lookups import staff_detail, staff_ticket_id
from tickets.api.serializers import ReasonInput, StaffTicketOutput, StaffTicketRowOutput
from tickets.models import Ticket


class FinanceApproveView(APIView):
    permission_classes = [InGroup(FINANCE)]

    @extend_schema(operation_id="finance_approve", tags=["finance"], request=None,
                   responses={200: StaffTicketOutput, **error_responses(403, 404, 409)},
                   description="Executes the refund (once, whatever retries or double clicks happen).")
    def post(self, request, ticket_no):
        services.finance_approve_ticket(ticket_id=staff_ticket_id(ticket_no, request.user), actor=request.user)
        return staff_detail(ticket_no, request)


class FinanceRejectView(APIView):
    permission_classes = [InGroup(FINANCE)]

    @extend_schema(operation_id="finance_reject", tags=["finance"], request=ReasonInput,
                   responses={200: StaffTicketOutput, **error_responses(400, 403, 404, 409)})
    def post(self, request, ticket_no):
        ticket_id = staff_ticket_id(ticket_no, request.user)
        data = validate(ReasonInput, request.data)
        services.finance_reject_ticket(ticket_id=ticket_id, actor=request.user, **data)
        return staff_detail(ticket_no, request)


class FinanceRefundRowOutput(StaffTicketRowOutput):
    """A row of the finance list: the staff row, and where its money stands."""

    refund_status = serializers.ChoiceField(
        choices=selectors.REFUND_STATUSES, source="refund_state",
        help_text="the latest refund's status; none: no refund asked for yet")
    refund_error = serializers.CharField(help_text="why the latest refund failed (the gateway's words); "
                                                   "empty unless refund_status is failed")


class FinanceRefundFilter(django_filters.FilterSet):
    refund_status = django_filters.MultipleChoiceFilter(
        choices=[(value, value) for value in selectors.REFUND_STATUSES], method=lambda queryset, name, value: queryset,
        label="none or failed: the work list's tickets in that state (the default: both); pending, in_progress, "
              "succeeded: every ticket whose latest refund is; repeat for several")

    class Meta:
        model = Ticket
        fields = []

    def filter_queryset(self, queryset):
        # The statuses choose the list itself (selectors.list_refunds_for_finance), not a narrowing of it.
        wanted = self.form.cleaned_data.get("refund_status") or None
        return super().filter_queryset(selectors.list_refunds_for_finance(refund_status=wanted))


class FinanceRefundPagination(CursorPagination):
    """The cursor's pages, and the totals of the whole list as filtered (not of the page)."""

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["totals"] = {
            "type": "object", "required": ["count", "refund_amount"],
            "description": "the whole list as filtered, not this page",
            "properties": {"count": {"type": "integer", "example": 2},
                           "refund_amount": {"type": "string", "format": "decimal", "example": "272.60",
                                             "description": "the sum of refund_amount, 2 decimals"}}}
        paginated.setdefault("required", []).append("totals")
        return paginated


class FinanceRefundListView(generics.ListAPIView):
    """The finance refund list: by default the tickets ops approved, waiting for the money to go back (none
    asked for yet, or the last try failed); ``refund_status`` picks others."""

    permission_classes = [InGroup(FINANCE)]
    serializer_class = FinanceRefundRowOutput
    filterset_class = FinanceRefundFilter
    pagination_class = FinanceRefundPagination

    def get_queryset(self):
        return selectors.list_refunds_for_finance()

    @extend_schema(operation_id="finance_refund_list", tags=["finance"],
                   responses={200: FinanceRefundRowOutput(many=True), **error_responses(400, 403)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        totals = selectors.refund_totals(queryset)
        page = self.paginate_queryset(queryset)
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        response.data["totals"] = {"count": totals["count"],
                                   "refund_amount": MoneyField().to_representation(totals["refund_amount"])}
        return response
