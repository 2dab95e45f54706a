"""What every part's ticket endpoints share: a ticket found by its number (404 in the API's words when
there is none), and the staff view of it as the answer. Public: refunds' and warehouse's endpoints use
these too (never tickets.api.views, which is tickets' own screen)."""

from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response

from aftersales.errors import NotFound
from tickets import selectors
from tickets.api.serializers import StaffTicketOutput
from tickets.models import Ticket


def staff_detail(ticket_no: str, request, code=status.HTTP_200_OK) -> Response:
    ticket = selectors.get_ticket_for_staff(ticket_no=ticket_no, user=request.user)
    return Response(StaffTicketOutput(ticket, context={"request": request}).data, status=code)


def staff_ticket_id(ticket_no: str, user) -> int:
    pk = Ticket.objects.filter(ticket_no=ticket_no).values_list("pk", flat=True).first() \
        if selectors.storable(ticket_no) else None
    if pk is None:
        raise NotFound(_("No such ticket."), field="ticket_no")
    return pk


def buyer_ticket_id(ticket_no: str, user) -> int:
    pk = Ticket.objects.filter(ticket_no=ticket_no, buyer__user=user).values_list("pk", flat=True).first() \
        if selectors.storable(ticket_no) else None
    if pk is None:
        raise NotFound(_("No such ticket."), field="ticket_no")
    return pk
