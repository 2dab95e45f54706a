"""The event catalogue in the OpenAPI document at /api/schema/: one webhook per event type, its body the
event envelope (events.shapes.EventOutput) with ``data`` as events.shapes.DATA describes that type.

The document stays OpenAPI 3.0.3: the suite pins it (tests/edges/test_api_schema.py), and a 3.1 document
changes the shape of every nullable field (``type: [string, "null"]`` for ``nullable: true``) for the
clients integrators already generated from it. 3.0 has no ``webhooks``, so drf-spectacular builds them (the
WEBHOOKS setting) and ``postprocess_webhooks`` files them under ``x-webhooks``; each envelope is a component
schema of its own, ``Event_ticket_approved`` and so on, which the docs page lists with the other schemas.
Set OAS_VERSION to "3.1.0" and the same hook leaves ``webhooks`` where the standard puts it (tried: the
Schemathesis runs, the generated client and Swagger UI pass under 3.1; only the pin fails).
"""

from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema
from rest_framework import serializers

from events import catalogue
from events.shapes import DATA, EventOutput

SIGNATURE = (
    "Signed as Standard Webhooks (https://www.standardwebhooks.com): `webhook-signature` is `v1,` and the "
    "base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` under the endpoint's secret (the base64 "
    "key after `whsec_`); while a rotated secret's grace period lasts, two signatures separated by a space. "
    "Verify it over the raw body, refuse a timestamp more than 5 minutes off, deduplicate by `webhook-id` "
    "(the event's `id`), and answer any 2xx within 5 seconds: anything else is retried (docs/webhooks.md).")

HEADERS = [
    {"name": "webhook-id", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "the event's id (the body's `id`): the same on every retry; deduplicate by it"},
    {"name": "webhook-timestamp", "in": "header", "required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"},
     "description": "when this attempt was signed, in whole seconds since 1970-01-01 UTC"},
    {"name": "webhook-signature", "in": "header", "required": True,
     "schema": {"type": "string", "pattern": "^v1,[A-Za-z0-9+/=]+( v1,[A-Za-z0-9+/=]+)*$"},
     "description": "`v1,<base64 HMAC-SHA256>`, one per secret valid now, separated by spaces"},
]


def component_name(event_type: str) -> str:
    """``ticket.approved`` → ``Event_ticket_approved``: the envelope's schema in components."""
    return "Event_" + event_type.replace(".", "_")


def envelope(event_type: str) -> type[serializers.Serializer]:
    """EventOutput with its ``type`` fixed and its ``data`` described, as a serializer of its own."""
    fields = {"type": serializers.ChoiceField(choices=[event_type]), "data": DATA[event_type]()}
    if event_type == catalogue.TEST_TYPE:  # made up on the spot (events.services.send_test_event): no outbox row
        fields |= {"id": serializers.CharField(help_text="test_ and a UUID: never the id of a real event"),
                   "position": serializers.IntegerField(allow_null=True, help_text="always null"),
                   "ticket_no": serializers.CharField(allow_blank=True, help_text="always empty")}
    return type(component_name(event_type), (EventOutput,), {
        "__module__": __name__,
        "__doc__": f"`{event_type}`: {_summary(event_type)}. The body of its webhook (x-webhooks: POSTed, signed "
                   f"as Standard Webhooks, see docs/webhooks.md) and an entry of GET /api/v1/events/.",
        **fields,
    })


def _summary(event_type: str) -> str:
    found = catalogue.TYPES.get(event_type)
    if found is None:
        return "a test event, sent by the admin's \"send a test event\" to one endpoint (never in the feed)"
    return str(found.summary) + (" (final: nothing follows for this ticket)" if found.final else "")


def _webhook(event_type: str) -> OpenApiWebhook:
    return OpenApiWebhook(name=event_type, decorator=extend_schema(
        summary=_summary(event_type), description=SIGNATURE, tags=["webhooks"], request=envelope(event_type),
        responses={200: OpenApiResponse(description="any 2xx: delivered; anything else, or no answer within "
                                                    "5 seconds: sent again later")}))


WEBHOOKS = [_webhook(t) for t in [*catalogue.TYPES, catalogue.TEST_TYPE]]


def postprocess_webhooks(result, generator, request, public):
    """Give each webhook its Standard Webhooks headers; under OpenAPI 3.0 file them as ``x-webhooks``."""
    webhooks = result.pop("webhooks", None) or {}
    for operations in webhooks.values():
        for operation in operations.values():
            operation.setdefault("parameters", HEADERS)
    if webhooks:
        result["webhooks" if result["openapi"].startswith("3.1") else "x-webhooks"] = webhooks
    return result
