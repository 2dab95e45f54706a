"""Finance endpoints: the refund list, approve (the refund is executed once), send back to ops."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.views import APIView

from aftersales.api import InGroup, error_responses, validate
from aftersales.roles import FINANCE
from refunds import selectors, services
from tickets.api.lookups import staff_detail, staff_ticket_id
from tickets.api.serializers import ReasonInput, StaffTicketOutput, StaffTicketRowOutput


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


class FinanceRefundListView(generics.ListAPIView):
    """The finance refund list: only tickets ops approved, waiting for the money to go back."""

    permission_classes = [InGroup(FINANCE)]
    serializer_class = StaffTicketRowOutput

    def get_queryset(self):
        return selectors.list_tickets_for_finance()

    @extend_schema(operation_id="finance_refund_list", tags=["finance"],
                   responses={200: StaffTicketRowOutput(many=True), **error_responses(400, 403)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
