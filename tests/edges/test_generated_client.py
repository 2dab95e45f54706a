"""A client generated from the served schema by a well-kept generator (openapi-python-client) imports and
drives a claim end to end against a running server: token, eligibility, reasons, upload, submit, detail.

Issue #14 found that the schema declared form and multipart bodies beside JSON, and the client generated
from it did not even import. This test is what keeps the schema usable by real generators."""

import importlib
import io
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from tests.factories import BuyerFactory, make_order
from tickets.models import Ticket

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "aftersales_client"


@pytest.fixture
def generated_client(live_server, tmp_path):
    """The client package generated from the live server's /api/schema/, imported from a fresh folder."""
    schema = tmp_path / "schema.json"
    with urllib.request.urlopen(f"{live_server.url}/api/schema/?format=json") as response:
        schema.write_bytes(response.read())
    config = tmp_path / "generator.yml"
    config.write_text("post_hooks: []\n")  # the generator would run ruff over its output; nothing to tidy here
    result = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(schema), "--output-path", str(tmp_path / PACKAGE),
         "--meta", "none", "--config", str(config)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr

    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 40, 40)).save(out, "JPEG")
    return out.getvalue()


def test_a_generated_client_submits_a_claim_end_to_end(generated_client, live_server):
    buyer = BuyerFactory(account="gen-buyer")
    order = make_order(buyer=buyer, lines=[("general", "59.90", 2, None)])
    api = importlib.import_module(f"{PACKAGE}.api.auth.obtain_token")
    models = importlib.import_module(f"{PACKAGE}.models")
    types = importlib.import_module(f"{PACKAGE}.types")
    buyer_api = {name: importlib.import_module(f"{PACKAGE}.api.buyer.{name}")
                 for name in ("order_eligibility", "list_reasons", "upload_photo", "submit_ticket", "get_my_ticket")}

    anonymous = generated_client.Client(base_url=live_server.url, raise_on_unexpected_status=True)
    refused = api.sync_detailed(client=anonymous, body=models.TokenInputRequest(username="gen-buyer", password="no"))
    assert refused.status_code == 400 and isinstance(refused.parsed, models.ErrorOutput)
    token = api.sync(client=anonymous, body=models.TokenInputRequest(username="gen-buyer", password="pass-1234"))
    assert isinstance(token, models.TokenOutput), token
    client = generated_client.AuthenticatedClient(base_url=live_server.url, token=token.token, prefix="Token",
                                                  raise_on_unexpected_status=True)

    eligibility = buyer_api["order_eligibility"].sync(order.order_no, client=client)
    assert isinstance(eligibility, models.EligibilityOutput), eligibility
    (line,) = eligibility.lines
    assert (line.claimable_quantity, line.max_refund) == (2, "119.80")
    assert "return_refund" in line.allowed_types

    reasons = buyer_api["list_reasons"].sync(client=client, order_no=order.order_no,
                                             ticket_type=models.ListReasonsTicketType.RETURN_REFUND)
    reason = next(r for r in reasons if r.code == "quality_issue")

    photo = buyer_api["upload_photo"].sync(
        client=client, body=models.UploadInputRequest(file=types.File(payload=io.BytesIO(jpeg()), file_name="box.jpg",
                                                                      mime_type="image/jpeg")),
        idempotency_key="gen-upload-1")
    assert isinstance(photo, models.PhotoOutput), photo

    submitted = buyer_api["submit_ticket"].sync(
        client=client, idempotency_key="gen-claim-1",
        body=models.SubmitTicketInputRequest(
            order_no=order.order_no, type_=models.TicketTypeEnum.RETURN_REFUND, reason_id=reason.id,
            lines=[models.LineQuantityInputRequest(order_line_id=line.order_line_id, quantity=1)],
            description="The seam split on the first wash.", photo_ids=[photo.id]))
    assert isinstance(submitted, models.TicketOutput), submitted

    detail = buyer_api["get_my_ticket"].sync(submitted.ticket_no, client=client)
    assert isinstance(detail, models.TicketOutput), detail
    assert detail.status == models.TicketStatusEnum.PENDING_REVIEW
    assert [(t.quantity, t.refund_amount) for t in detail.lines] == [(1, "59.90")]
    assert [p.id for p in detail.photos] == [photo.id]

    ticket = Ticket.objects.get(ticket_no=submitted.ticket_no)
    assert (ticket.buyer, ticket.order, ticket.status) == (buyer, order, Ticket.Status.PENDING_REVIEW)
