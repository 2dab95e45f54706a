"""The event catalogue in the served OpenAPI document: every type a webhook, its body a schema of its own,
and what the outbox really writes validates against what is published (strictly: no key the schema does
not name)."""

import json
from decimal import Decimal

import jsonschema
import pytest
from rest_framework.test import APIClient

from demo.journeys import advance
from events import catalogue
from events.delivery import body_of
from events.models import Event
from events.outbox import sequence
from events.schema import HEADERS, component_name
from tests.factories import make_order, submit
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def served():
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def as_json_schema(node):
    """OpenAPI 3.0's schema dialect as JSON Schema: ``nullable`` becomes a null alternative, and every object
    that names its properties allows no others (an undocumented key in a payload fails)."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if node.get("nullable"):
        if "type" in out and "enum" not in out:
            out["type"] = [out["type"], "null"]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def validator_for(served: dict, event_type: str) -> jsonschema.Draft202012Validator:
    root = {"$ref": f"#/components/schemas/{component_name(event_type)}",
            "components": as_json_schema(served["components"])}
    return jsonschema.Draft202012Validator(root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_the_schema_lists_every_event_type_as_a_webhook_with_its_data_and_the_signature_headers(served):
    # OpenAPI 3.0 has no webhooks: they are filed as x-webhooks (events.schema); 3.1 would name them so.
    webhooks = served["webhooks" if served["openapi"].startswith("3.1") else "x-webhooks"]
    schemas = served["components"]["schemas"]

    assert set(catalogue.TYPES) | {catalogue.TEST_TYPE} == set(webhooks)
    for code, event_type in catalogue.TYPES.items():
        post = webhooks[code]["post"]
        ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert ref == f"#/components/schemas/Event_{code.replace('.', '_')}"
        envelope = schemas[ref.rsplit("/", 1)[1]]
        assert set(envelope["required"]) == {"id", "position", "type", "ticket_no", "shop", "occurred_at", "data"}
        assert envelope["properties"]["type"]["enum"] == [code]
        data = schemas[envelope["properties"]["data"]["$ref"].rsplit("/", 1)[1]]
        assert "ticket" in data["properties"], code
        assert [h["name"] for h in post["parameters"]] == ["webhook-id", "webhook-timestamp", "webhook-signature"]
        assert "HMAC-SHA256" in post["description"]
        assert (str(event_type.summary) in post["summary"]) and (("final" in post["summary"]) == event_type.final)
    assert HEADERS == webhooks["ticket.submitted"]["post"]["parameters"]


def test_each_type_publishes_the_fields_its_serializer_in_shapes_names(served):
    schemas = served["components"]["schemas"]
    approved = schemas["ApprovedData"]["properties"]
    assert {"ticket", "settlement", "return_address", "return_deadline", "refund_amount"} <= set(approved)
    assert approved["settlement"]["enum"] == ["refund", "return", "exchange", "compensation", "reship"]
    assert set(schemas["RefundPaidData"]["required"]) == {"ticket", "amount", "paid_at", "expected_by"}
    assert set(schemas["ShipmentData"]["required"]) == {"ticket", "courier", "tracking_no"}
    ticket = schemas["BuyerTicket"]["properties"]
    assert "timeline" not in ticket and "photos" not in ticket and "status" in ticket


def test_a_submitted_claim_as_the_outbox_writes_it_validates_against_its_published_schema(served, buyer):
    ticket = submit(make_order(buyer=buyer))
    sequence()

    [event] = Event.objects.filter(ticket=ticket)
    body = json.loads(body_of(event))
    validator_for(served, "ticket.submitted").validate(body)

    tampered = {**body, "data": {**body["data"], "ticket": {**body["data"]["ticket"], "reviewer": "ops1"}}}
    with pytest.raises(jsonschema.ValidationError):  # strict: an undocumented key fails
        validator_for(served, "ticket.submitted").validate(tampered)
    with pytest.raises(jsonschema.ValidationError):
        validator_for(served, "ticket.approved").validate(body)


def test_every_event_of_real_journeys_validates_against_its_type(served, buyer, staff):
    order = make_order(buyer=buyer, lines=(("general", "59.90", 1, None), ("general", "20.00", 1, None),
                                           ("general", "15.00", 1, None), ("general", "9.00", 1, None)))
    advance(submit(order, type="return_refund", lines=[(0, 1)]), Ticket.Status.COMPLETED, staff=staff)
    advance(submit(order, type="exchange", lines=[(1, 1)]), Ticket.Status.COMPLETED, staff=staff)
    services.reject_ticket(ticket_id=submit(order, type="return_refund", lines=[(2, 1)]).pk, actor=staff["ops"],
                           reason="Photos show no defect.")
    compensated = submit(order, type="return_refund", lines=[(3, 1)])
    services.compensate_ticket(ticket_id=compensated.pk, actor=staff["ops"], amount=Decimal("1.00"),
                               note="Small stain.")
    sequence()

    events = list(Event.objects.select_related("shop").order_by("position"))
    for event in events:
        validator_for(served, event.type).validate(json.loads(body_of(event)))
    assert {e.type for e in events} >= {
        "ticket.submitted", "ticket.approved", "shipment.return_sent", "shipment.inbound", "ticket.awaiting_refund",
        "refund.approved", "refund.succeeded", "ticket.completed", "shipment.outbound", "ticket.rejected"}
