"""The catch-up feed and the published state graph.

``GET /api/v1/events/?after=<position>``: the outbox in commit order, oldest first, for service accounts
(a service account tied to a shop sees that shop's events only). ``after`` is the last position the caller
holds (0 or absent: from the start); ``next`` links the following page while pages come back full. The
sequencer runs before the read, so every event committed before the request is either in this page or
after its last position: never behind it.

``GET /api/v1/meta/states/``: every state and move of a ticket, which are final, and the events each move
writes (events.catalogue.state_graph), for any authenticated caller.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales.api import InGroup, error_responses
from aftersales.errors import FieldInvalid
from aftersales.roles import SERVICE
from events import catalogue
from events.models import Event
from events.outbox import sequence
from events.shapes import EventOutput

PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000


def _whole(request, name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = request.query_params.get(name, "")
    if raw == "":
        return default
    value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else -1
    if not minimum <= value <= maximum:
        raise FieldInvalid(_("A whole number from %(minimum)s to %(maximum)s.") % {
            "minimum": minimum, "maximum": maximum}, field=name)
    return value


class EventFeedView(APIView):
    permission_classes = [InGroup(SERVICE)]

    @extend_schema(
        operation_id="list_events", tags=["integration"],
        parameters=[OpenApiParameter("after", int, description="the last position you hold; 0 or absent: from the start"),
                    OpenApiParameter("page_size", int, description=f"1 to {MAX_PAGE_SIZE}, default {PAGE_SIZE}")],
        responses={200: inline_serializer("EventPage", {
            "next": serializers.URLField(allow_null=True), "previous": serializers.URLField(allow_null=True),
            "results": EventOutput(many=True)}), **error_responses(400, 403)},
        description="The events of the shop's claims in commit order (see docs/webhooks.md): the same events "
                    "the webhooks carry, for a receiver that missed some.")
    def get(self, request):
        after = _whole(request, "after", 0, minimum=0, maximum=2**62)
        size = _whole(request, "page_size", PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
        sequence()
        events = Event.objects.filter(position__gt=after).select_related("shop").order_by("position")
        account = getattr(request.user, "shop_account", None)
        if account is not None:
            events = events.filter(shop_id=account.shop_id)
        page = list(events[:size])
        next_url = None
        if len(page) == size:
            next_url = request.build_absolute_uri(f"{request.path}?after={page[-1].position}&page_size={size}")
        return Response({"next": next_url, "previous": None, "results": EventOutput(page, many=True).data})


class StateGraphView(APIView):
    @extend_schema(operation_id="state_graph", tags=["integration"], responses={200: inline_serializer("StateGraph", {
        "states": serializers.ListField(child=serializers.DictField()),
        "initial": serializers.CharField(), "final": serializers.ListField(child=serializers.CharField()),
        "transitions": serializers.ListField(child=serializers.DictField()),
        "event_types": serializers.ListField(child=serializers.DictField())}), **error_responses()},
        description="A ticket's states, which are final (nothing follows), every move between them, and the "
                    "events each move writes.")
    def get(self, request):
        graph = catalogue.state_graph()
        graph["event_types"] = [{"type": t.code, "summary": str(t.summary), "final": t.final}
                                for t in catalogue.TYPES.values()]
        return Response(graph)
