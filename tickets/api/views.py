"""Ticket endpoints: buyers (claims, uploads, shipping back, confirming), staff and ops. Views parse,
call one service, and shape the answer; every rule lives in the services. (Finance: refunds.api;
warehouse: warehouse.api; the claim form's reads: tickets.api.claim_form.)"""

import datetime as dt
from decimal import Decimal

import django_filters
from django import forms
from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales import clock
from aftersales.api import CursorPagination, InGroup, MoneyField, error_responses, validate
from aftersales.idempotency import idempotent
from aftersales.roles import FINANCE, OPS, WAREHOUSE
from tickets import selectors, services
from tickets.api.lookups import buyer_ticket_id, staff_detail, staff_ticket_id
from tickets.api.serializers import (
    LineQuantityInput,
    NoteOutput,
    PhotoOutput,
    ReasonInput,
    StaffTicketOutput,
    StaffTicketRowOutput,
    TicketOutput,
    TicketSummaryOutput,
)
from tickets.models import Ticket
from tickets.uploads import store_upload

IDEMPOTENCY = OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                               description="Replays the first response for the same key and body (≥ 24 h).")
MAX_ID = 2**62


def buyer_detail(ticket_no: str, request) -> Response:
    ticket = selectors.get_ticket_for_buyer(ticket_no=ticket_no, user=request.user)
    return Response(TicketOutput(ticket, context={"request": request}).data)


# --------------------------------------------------------------------------------------------- buyer


class UploadView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="upload_photo", tags=["buyer"],
        request={"multipart/form-data": inline_serializer("UploadInput", {"file": serializers.FileField()})},
        responses={201: PhotoOutput, **error_responses(400)}, parameters=[IDEMPOTENCY],
        description="A claim photo: JPEG (up to 40 Mpx) or PNG and WebP (up to 6 Mi pixels), checked by decoding, "
                    "re-encoded without metadata. A buyer's photos of the last 24 hours may take at most the policy "
                    "upload_quota_mb_per_day as stored: beyond it, 429 upload_quota_exceeded and nothing is stored.")
    @idempotent
    def post(self, request):
        upload = store_upload(actor=request.user, file=request.FILES.get("file"))
        return Response(PhotoOutput(upload, context={"request": request}).data, status=status.HTTP_201_CREATED)


class UploadFileView(APIView):
    """A photo's bytes, for its owner and for staff; anyone else gets 404."""

    @extend_schema(operation_id="get_photo_file", tags=["buyer"],
                   parameters=[OpenApiParameter("upload_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                                                OpenApiParameter.PATH)],
                   responses={(200, content): OpenApiTypes.BINARY for content in
                              ("image/jpeg", "image/png", "image/webp")} | error_responses(404))
    def get(self, request, upload_id):
        upload = selectors.get_upload_for(upload_id=upload_id, user=request.user)
        response = FileResponse(upload.file.open("rb"), content_type=upload.content_type)
        response["Cache-Control"] = "private, max-age=3600"
        return response


class TicketFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Ticket.Status.choices)
    type = django_filters.ChoiceFilter(choices=Ticket.Type.choices)
    order_no = django_filters.CharFilter(field_name="order__order_no")

    class Meta:
        model = Ticket
        fields = ["status", "type", "order_no"]


class TicketListCreateView(generics.ListAPIView):
    serializer_class = TicketSummaryOutput
    filterset_class = TicketFilter

    class SubmitTicketInput(serializers.Serializer):
        order_no = serializers.CharField(max_length=64)
        type = serializers.ChoiceField(choices=Ticket.Type.choices)
        reason_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
        description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
        lines = LineQuantityInput(many=True, allow_empty=False, max_length=200)
        photo_ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
                                          required=False, default=list, max_length=50)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Ticket.objects.none()
        return selectors.list_tickets_for_buyer(user=self.request.user)

    @extend_schema(operation_id="list_my_tickets", tags=["buyer"], responses={200: TicketSummaryOutput(many=True),
                                                                              **error_responses(400)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="submit_ticket", tags=["buyer"], request=SubmitTicketInput, parameters=[IDEMPOTENCY],
        responses={201: TicketOutput, **error_responses(400, 403, 404, 422)},
        examples=[OpenApiExample("Two bad apples", request_only=True, value={
            "order_no": "SO1001", "type": "refund_only", "reason_id": 1, "description": "2 arrived bruised",
            "lines": [{"order_line_id": "SO1001-1", "quantity": 2}], "photo_ids": [17]})],
        description="Submit a claim. Refused outside the window, above what is claimable, or with a reason "
                    "that does not fit: nothing is created then.")
    @idempotent
    def post(self, request):
        data = validate(self.SubmitTicketInput, request.data)
        ticket = services.submit_ticket(actor=request.user, **{**data, "lines": [dict(x) for x in data["lines"]]})
        return Response(TicketOutput(ticket, context={"request": request}).data, status=status.HTTP_201_CREATED)


class TicketDetailView(APIView):
    @extend_schema(operation_id="get_my_ticket", tags=["buyer"], responses={200: TicketOutput, **error_responses(404)})
    def get(self, request, ticket_no):
        return buyer_detail(ticket_no, request)


class CancelView(APIView):
    @extend_schema(operation_id="cancel_ticket", tags=["buyer"], request=None,
                   responses={200: TicketOutput, **error_responses(404, 409)})
    def post(self, request, ticket_no):
        services.cancel_ticket(ticket_id=buyer_ticket_id(ticket_no, request.user), actor=request.user)
        return buyer_detail(ticket_no, request)


class ReturnShipmentView(APIView):
    class ReturnShipmentInput(serializers.Serializer):
        courier = serializers.CharField(max_length=100)
        tracking_no = serializers.CharField(max_length=100)

    @extend_schema(operation_id="record_return_shipment", tags=["buyer"], request=ReturnShipmentInput,
                   responses={200: TicketOutput, **error_responses(400, 404, 409)})
    def post(self, request, ticket_no):
        ticket_id = buyer_ticket_id(ticket_no, request.user)
        data = validate(self.ReturnShipmentInput, request.data)
        services.record_return_shipment(ticket_id=ticket_id, actor=request.user, **data)
        return buyer_detail(ticket_no, request)


class ConfirmReceiptView(APIView):
    @extend_schema(operation_id="confirm_receipt", tags=["buyer"], request=None,
                   responses={200: TicketOutput, **error_responses(404, 409)})
    def post(self, request, ticket_no):
        services.confirm_receipt(ticket_id=buyer_ticket_id(ticket_no, request.user), actor=request.user)
        return buyer_detail(ticket_no, request)


# --------------------------------------------------------------------------------------------- staff


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """Any offset Python accepts, compared in UTC: PostgreSQL refuses offsets beyond ±15:59 (a 500), and a
    time that leaves the years 1-9999 in UTC is invalid input."""

    def to_python(self, value):
        value = super().to_python(value)
        try:
            return value.astimezone(dt.UTC) if value is not None else None
        except OverflowError:
            raise forms.ValidationError(_("A time between the years 1 and 9999 in UTC."), code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class StrictBooleanField(forms.Field):
    """true or false (1 or 0): django-filter reads any other word as "no filter" and lists everything."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        parsed = {"true": True, "1": True, "false": False, "0": False}.get(str(value).lower())
        if parsed is None:
            raise forms.ValidationError(_("Either true or false."), code="invalid")
        return parsed


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class StaffTicketFilter(django_filters.FilterSet):
    ticket_no = django_filters.CharFilter()
    order_no = django_filters.CharFilter(field_name="order__order_no")
    shop = django_filters.CharFilter(field_name="shop__code")
    status = django_filters.MultipleChoiceFilter(choices=Ticket.Status.choices)
    type = django_filters.ChoiceFilter(choices=Ticket.Type.choices)
    applied_from = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    applied_to = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    ordered_from = UtcIsoDateTimeFilter(field_name="order__placed_at", lookup_expr="gte")
    ordered_to = UtcIsoDateTimeFilter(field_name="order__placed_at", lookup_expr="lt")
    approved = StrictBooleanFilter(field_name="approved_at", lookup_expr="isnull", exclude=True,
                                   label="approved by review")
    # The admin queue's own filters, by the same names and through the same selectors.
    attention = django_filters.MultipleChoiceFilter(
        choices=[(name, name) for name in selectors.ATTENTION], method="needing_attention",
        label="needs attention: overdue, sent_back (by finance), inspection_rejected, escalated, intercept_late, "
              "no_note (since the last decision); repeat for all of them")
    mine = django_filters.ChoiceFilter(choices=[(name, name) for name in selectors.WHOSE], method="whose",
                                       label="assigned (to me), reviewed (by me), unassigned")
    search = django_filters.CharFilter(method="searching", max_length=100,
                                       label="part of a ticket no, order no, buyer account or tracking no, any case")
    ordering = django_filters.ChoiceFilter(choices=[("due", "due"), ("-created_at", "-created_at")],
                                           method="ordered", label="due: what is due first (the queue's order); "
                                                                   "-created_at: newest first (the default)")

    class Meta:
        model = Ticket
        fields = []

    def needing_attention(self, queryset, name, values):
        now = clock.now()
        for value in values:
            queryset = selectors.with_attention(queryset, value, now=now)
        return queryset

    def whose(self, queryset, name, value):
        return selectors.with_whose(queryset, value, user=self.request.user)

    def searching(self, queryset, name, value):
        return selectors.with_search(queryset, value)  # NUL is refused by the form field (400 naming it)

    def ordered(self, queryset, name, value):
        return selectors.with_due_position(queryset) if value == "due" else queryset


class StaffTicketPagination(CursorPagination):
    """Newest first, or with ``ordering=due`` the queue's order: due first, nothing due last (a cursor stands
    on the due time, FAR_FUTURE for none; ties by position)."""

    DUE = ("due_position", "id")

    def get_ordering(self, request, queryset, view):
        return self.DUE if request.query_params.get("ordering") == "due" else super().get_ordering(
            request, queryset, view)

    def paginate_queryset(self, queryset, request, view=None):
        self._due = request.query_params.get("ordering") == "due"
        return super().paginate_queryset(queryset, request, view)

    def _position(self, position: str) -> str:
        if not self._due:
            return super()._position(position)
        value = Ticket._meta.get_field("next_deadline_at").to_python(position)
        if value is None or "\x00" in position or value.tzinfo is None:
            raise ValueError(position)
        return str(value.astimezone(dt.UTC))


class StaffTicketListView(generics.ListAPIView):
    permission_classes = [InGroup(OPS, FINANCE, WAREHOUSE)]
    serializer_class = StaffTicketRowOutput
    filterset_class = StaffTicketFilter
    pagination_class = StaffTicketPagination

    def get_queryset(self):
        return selectors.list_tickets_for_staff()

    @extend_schema(operation_id="staff_list_tickets", tags=["staff"],
                   description="All tickets, with the admin queue's filters: status, type, shop, date ranges, "
                               "`attention`, `mine`, a partial `search` and `ordering=due` (the queue's order).",
                   responses={200: StaffTicketRowOutput(many=True), **error_responses(400, 403)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class StaffTicketDetailView(APIView):
    permission_classes = [InGroup(OPS, FINANCE, WAREHOUSE)]

    @extend_schema(operation_id="staff_get_ticket", tags=["staff"],
                   responses={200: StaffTicketOutput, **error_responses(403, 404)})
    def get(self, request, ticket_no):
        return staff_detail(ticket_no, request)


class ApproveView(APIView):
    permission_classes = [InGroup(OPS)]

    class ApproveInput(serializers.Serializer):
        refund_amount = MoneyField(required=False, min_value=Decimal("0"))
        fee_reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
        refund_shipping = serializers.BooleanField(required=False, allow_null=True, default=None)
        refund_coupon = serializers.BooleanField(required=False, allow_null=True, default=None)
        refund_virtual_currency = serializers.BooleanField(required=False, allow_null=True, default=None)
        return_address = serializers.CharField(max_length=500, required=False)
        return_contact = serializers.CharField(max_length=100, required=False)
        return_phone = serializers.CharField(max_length=40, required=False)

    @extend_schema(operation_id="ops_approve", tags=["ops"], request=ApproveInput,
                   responses={200: StaffTicketOutput, **error_responses(400, 403, 404, 409)})
    def post(self, request, ticket_no):
        ticket_id = staff_ticket_id(ticket_no, request.user)
        data = validate(self.ApproveInput, request.data)
        services.approve_ticket(ticket_id=ticket_id, actor=request.user, **data)
        return staff_detail(ticket_no, request)


class RejectView(APIView):
    permission_classes = [InGroup(OPS)]

    @extend_schema(operation_id="ops_reject", tags=["ops"], request=ReasonInput,
                   responses={200: StaffTicketOutput, **error_responses(400, 403, 404, 409)})
    def post(self, request, ticket_no):
        ticket_id = staff_ticket_id(ticket_no, request.user)
        data = validate(ReasonInput, request.data)
        services.reject_ticket(ticket_id=ticket_id, actor=request.user, **data)
        return staff_detail(ticket_no, request)


class CompensateView(APIView):
    permission_classes = [InGroup(OPS)]

    class CompensateInput(serializers.Serializer):
        amount = MoneyField(min_value=Decimal("0"))
        note = serializers.CharField(max_length=2000)

    @extend_schema(operation_id="ops_compensate", tags=["ops"], request=CompensateInput,
                   responses={200: StaffTicketOutput, **error_responses(400, 403, 404, 409)})
    def post(self, request, ticket_no):
        ticket_id = staff_ticket_id(ticket_no, request.user)
        data = validate(self.CompensateInput, request.data)
        services.compensate_ticket(ticket_id=ticket_id, actor=request.user, **data)
        return staff_detail(ticket_no, request)


class ReshipView(APIView):
    """Re-ship missing or broken parts: a warehouse outbound request, alone or beside compensation."""

    permission_classes = [InGroup(OPS)]

    class ReshipInput(serializers.Serializer):
        lines = LineQuantityInput(many=True, allow_empty=False, max_length=200)
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
        compensation = MoneyField(required=False, min_value=Decimal("0"),
                                  help_text="optional: also settle with this amount (then `note` is required)")

    @extend_schema(operation_id="ops_reship", tags=["ops"], request=ReshipInput,
                   responses={200: StaffTicketOutput, **error_responses(400, 403, 404, 409)})
    def post(self, request, ticket_no):
        ticket_id = staff_ticket_id(ticket_no, request.user)
        data = validate(self.ReshipInput, request.data)
        services.reship_ticket(ticket_id=ticket_id, actor=request.user, note=data["note"],
                               compensation=data.get("compensation"), lines=[dict(x) for x in data["lines"]])
        return staff_detail(ticket_no, request)


class NotesView(APIView):
    permission_classes = [InGroup(OPS, FINANCE, WAREHOUSE)]

    class NoteInput(serializers.Serializer):
        text = serializers.CharField(max_length=2000)

    @extend_schema(operation_id="add_note", tags=["staff"], request=NoteInput,
                   responses={201: NoteOutput, **error_responses(400, 403, 404)})
    def post(self, request, ticket_no):
        ticket_id = staff_ticket_id(ticket_no, request.user)
        data = validate(self.NoteInput, request.data)
        note = services.add_note(ticket_id=ticket_id, actor=request.user, **data)
        return Response(NoteOutput(note).data, status=status.HTTP_201_CREATED)


class PingView(APIView):
    """A trivial authenticated endpoint: the baseline the benchmarks compare against."""

    @extend_schema(operation_id="ping", tags=["meta"],
                   responses={200: inline_serializer("Ping", {"user": serializers.CharField()}), **error_responses()})
    def get(self, request):
        return Response({"user": request.user.get_username()})
