"""The warehouse's work end to end, through the services and the API (issue #12): goods received and
inspected (all passed: on to the refund or the replacement; anything refused or missing: back to ops with
the refund recomputed for what passed), replacements and re-shipped parts out, shipments held or too late;
and what is refused, changing nothing."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from aftersales.errors import FieldInvalid, FieldRequired, InvalidTransition, NotAllowed
from demo import journeys
from demo.journeys import advance
from refunds import services as refunds
from tests.api_helpers import API, status_of
from tests.factories import assert_error, client_for, make_order, make_upload, submit
from tickets import services as tickets
from tickets.models import Ticket
from tickets.uploads import store_upload
from warehouse import services
from warehouse.models import (
    Inbound,
    Intercept,
    Outbound,
    OutboundRequest,
    StockBalance,
    StockMovement,
)

pytestmark = pytest.mark.django_db
S = Ticket.Status


def lines_of(ticket, **extra):
    return [{"order_line_id": tl.order_line.line_id, "quantity": tl.quantity, **extra}
            for tl in ticket.lines.select_related("order_line").order_by("pk")]


def returned(buyer, staff, *, type="return_refund", lines=(("general", "30.00", 3, None), ("general", "12.00", 1, None)),
             **order):
    ticket = advance(submit(make_order(buyer=buyer, lines=lines, **order), type=type), S.AWAITING_RETURN, staff=staff)
    journeys.ship_back(ticket, staff)
    return ticket


def png() -> SimpleUploadedFile:
    """A real photo (a small PNG), as a clerk's camera would send one."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (180, 40, 40)).save(buffer, "PNG")
    return SimpleUploadedFile("inspection.png", buffer.getvalue(), content_type="image/png")


def balance(sku, location) -> int:
    row = StockBalance.objects.filter(sku=sku, location=location).first()
    return row.quantity if row else 0


# ---------------------------------------------------------------------------------------------- receive


def test_a_return_with_everything_accepted_goes_to_the_refund_and_back_to_sellable_stock(buyer, staff):
    ticket = returned(buyer, staff)

    inbound = services.record_inbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=lines_of(ticket, accepted=True))

    ticket.refresh_from_db()
    assert (ticket.status, ticket.inspection_passed, ticket.refund_amount) == (S.AWAITING_REFUND, True, Decimal("102.00"))
    assert inbound.type == Inbound.Type.RETURN
    assert (balance("SKU-1", "sellable"), balance("SKU-2", "sellable"), balance("SKU-1", "damaged")) == (3, 1, 0)


def test_a_rejected_line_sends_the_return_back_to_ops_with_the_refund_for_what_passed(buyer, staff):
    ticket = returned(buyer, staff)  # 3 × 30.00 and 1 × 12.00: 102.00 claimed
    first, second = lines_of(ticket)
    photo = store_upload(actor=staff["warehouse"], file=png())

    services.record_inbound(
        ticket_id=ticket.pk, actor=staff["warehouse"], note="Opened box", photo_ids=[photo.pk],
        lines=[{**first, "quantity": 2, "accepted": True},  # one unit missing
               {**second, "accepted": False, "reject_reason": "used", "note": "Scratched lid"}])

    ticket.refresh_from_db()
    assert (ticket.status, ticket.inspection_passed) == (S.PENDING_REVIEW, False)
    assert (ticket.goods_amount, ticket.refund_amount) == (Decimal("60.00"), Decimal("60.00"))
    event = ticket.events.get(transition="receive_goods")
    assert event.changes["refund_amount"] == ["102.00", "60.00"]
    assert event.changes["inspection"][1][1][3:] == ["used", "Scratched lid"]
    assert event.changes["photos"] == [None, [photo.pk]]
    assert (balance("SKU-1", "sellable"), balance("SKU-2", "damaged"), balance("SKU-2", "sellable")) == (2, 1, 0)
    # Ops approves what passed, and no more.
    preview = tickets.preview_approval(ticket_id=ticket.pk, actor=staff["ops"])
    assert preview.maximum == Decimal("60.00")
    tickets.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"])
    assert status_of(ticket) == S.AWAITING_REFUND


def test_ops_sees_the_inspection_and_why_the_ticket_came_back(buyer, staff, client):
    ticket = returned(buyer, staff, lines=(("general", "40.00", 1, None),))
    photo = store_upload(actor=staff["warehouse"], file=png())
    services.record_inbound(ticket_id=ticket.pk, actor=staff["warehouse"], photo_ids=[photo.pk],
                            lines=lines_of(ticket, accepted=False, reject_reason="damaged_by_buyer", note="Dented"))
    client.force_login(staff["ops"])

    html = client.get(f"/admin/tickets/ticket/{ticket.pk}/change/").content.decode()
    queue = client.get("/admin/tickets/ticket/", {"attention": "inspection_rejected"}).content.decode()

    box = html[html.index('id="inspection-result"'):]
    box = box[:box.index("<h3>")]
    assert "<td>damaged by the buyer: Dented</td>" in box
    assert "40.00 → <strong>0.00</strong>" in box
    assert f"/api/v1/uploads/{photo.pk}/file/" in box
    assert ticket.ticket_no in queue and 'title="inspection rejected goods"' in queue


def test_an_exchange_goes_in_then_out_then_the_buyer_confirms(buyer, staff):
    ticket = returned(buyer, staff, type="exchange", lines=(("general", "25.00", 1, None),))

    services.record_inbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=lines_of(ticket, accepted=True))
    request = OutboundRequest.objects.get(ticket=ticket)
    assert (status_of(ticket), request.status, request.purpose) == (S.AWAITING_EXCHANGE, "open", "replacement")
    assert [(line.order_line.sku, line.quantity) for line in request.lines.all()] == [("SKU-1", 1)]

    services.ship_request(request_id=request.pk, actor=staff["warehouse"], lines=lines_of(ticket),
                          courier="SF Express", tracking_no="SF-NEW-1")
    request.refresh_from_db()
    assert (status_of(ticket), request.status, request.outbound.tracking_no) == (S.AWAITING_EXCHANGE, "shipped", "SF-NEW-1")
    assert balance("SKU-1", "sellable") == 0  # one back in, one out

    tickets.confirm_receipt(ticket_id=ticket.pk, actor=buyer.user)
    assert status_of(ticket) == S.COMPLETED


def test_an_exchange_approved_with_its_goods_already_back_also_asks_for_the_replacement(buyer, staff):
    ticket = returned(buyer, staff, type="exchange", lines=(("general", "25.00", 1, None),))
    journeys.receive_damaged(ticket, staff)
    assert not OutboundRequest.objects.filter(ticket=ticket).exists()  # back to ops, nothing to send yet

    tickets.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"])

    assert status_of(ticket) == S.AWAITING_EXCHANGE
    assert OutboundRequest.objects.get(ticket=ticket).purpose == "replacement"


def test_a_reshipment_goes_out_without_any_inbound(buyer, staff):
    ticket = submit(make_order(buyer=buyer, lines=(("general", "60.00", 1, None),)), type="refund_only",
                    reason_code="missing_parts", photos=1)
    journeys.reship(ticket, staff)
    request = OutboundRequest.objects.get(ticket=ticket, status="open")

    services.ship_request(request_id=request.pk, actor=staff["warehouse"], lines=lines_of(ticket)[:1] and
                          [{**lines_of(ticket)[0], "quantity": 1}], courier="YTO", tracking_no="YT1")

    request.refresh_from_db()
    assert request.status == "shipped" and request.outbound.purpose == Outbound.Purpose.RESHIP
    assert not Inbound.objects.filter(ticket=ticket).exists()
    assert balance("SKU-1", "sellable") == -1  # out of stock the forward flow keeps
    with pytest.raises(InvalidTransition):  # shipped once
        services.ship_request(request_id=request.pk, actor=staff["warehouse"], lines=lines_of(ticket),
                              courier="YTO", tracking_no="YT2")


# ------------------------------------------------------------------------------------------- intercepts


def unshipped_claim(buyer, *, price="30.00"):
    return submit(make_order(buyer=buyer, status="unshipped", lines=(("general", price, 1, None),)),
                  type="refund_only", reason_code="changed_mind")


def test_an_approval_before_shipment_tells_the_warehouse_to_hold_it_and_held_is_recorded(
        buyer, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = unshipped_claim(buyer)  # approved by the system, paid at once
    intercept = Intercept.objects.get(ticket=ticket)
    assert intercept.status == "open"

    services.record_intercept_result(intercept_id=intercept.pk, actor=staff["warehouse"], held=True, note="Shelf B3")

    intercept.refresh_from_db()
    assert (intercept.status, intercept.done_by) == ("held", staff["warehouse"])
    assert ticket.events.filter(transition="intercept_held", reason="Shelf B3").exists()
    assert status_of(ticket) == S.COMPLETED
    with pytest.raises(InvalidTransition):  # done once
        services.record_intercept_result(intercept_id=intercept.pk, actor=staff["warehouse"], held=False, note="x")


def test_too_late_sends_an_unpaid_ticket_back_to_ops(buyer, staff):
    ticket = unshipped_claim(buyer, price="900.00")  # above the automatic approval: ops approves
    assert not Intercept.objects.filter(ticket=ticket).exists()  # nothing to hold before an approval
    tickets.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"])
    intercept = Intercept.objects.get(ticket=ticket)

    services.record_intercept_result(intercept_id=intercept.pk, actor=staff["warehouse"], held=False,
                                     note="Left with SF SF123 this morning")

    ticket.refresh_from_db()
    assert (ticket.status, intercept.__class__.objects.get(pk=intercept.pk).status) == (S.PENDING_REVIEW, "too_late")
    assert ticket.intercept_failed_at is not None
    event = ticket.events.get(transition="intercept_failed")
    assert (event.from_status, event.to_status, event.buyer_visible) == (S.AWAITING_REFUND, S.PENDING_REVIEW, False)
    assert not ticket.refunds.exists()


def test_too_late_after_the_refund_was_paid_flags_the_ticket_for_ops(buyer, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = unshipped_claim(buyer)
    assert status_of(ticket) == S.COMPLETED

    services.record_intercept_result(intercept_id=Intercept.objects.get(ticket=ticket).pk, actor=staff["warehouse"],
                                     held=False, note="Already with the courier")

    ticket.refresh_from_db()
    assert ticket.status == S.COMPLETED and ticket.intercept_failed_at is not None
    assert ticket.events.filter(transition="intercept_failed", from_status=S.COMPLETED, to_status=S.COMPLETED).exists()


def test_too_late_needs_a_note_and_changes_nothing_without_one(buyer, staff):
    ticket = unshipped_claim(buyer, price="900.00")
    tickets.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"])
    intercept = Intercept.objects.get(ticket=ticket)

    with pytest.raises(FieldRequired):
        services.record_intercept_result(intercept_id=intercept.pk, actor=staff["warehouse"], held=False, note=" ")

    intercept.refresh_from_db()
    assert (intercept.status, status_of(ticket)) == ("open", S.AWAITING_REFUND)


# --------------------------------------------------------------------------------------------- refusals


def test_receiving_more_than_was_claimed_is_refused_naming_the_line(buyer, staff):
    ticket = returned(buyer, staff)
    first, second = lines_of(ticket, accepted=True)

    with pytest.raises(FieldInvalid) as refused:
        services.record_inbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=[first, {**second, "quantity": 2}])

    assert refused.value.field == "lines.1.quantity"
    assert "claimed 1" in refused.value.detail
    assert status_of(ticket) == S.AWAITING_RETURN
    assert not Inbound.objects.exists() and not StockMovement.objects.exists()


@pytest.mark.parametrize("state", [S.PENDING_REVIEW, S.AWAITING_REFUND])
def test_receiving_for_a_ticket_not_awaiting_return_is_refused(buyer, staff, state):
    ticket = advance(submit(make_order(buyer=buyer), type="return_refund"), state, staff=staff)
    inbounds, movements = Inbound.objects.count(), StockMovement.objects.count()

    with pytest.raises(InvalidTransition) as refused:
        services.record_inbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=lines_of(ticket, accepted=True))

    assert "Cannot receive the goods" in refused.value.detail
    assert status_of(ticket) == state
    assert (Inbound.objects.count(), StockMovement.objects.count()) == (inbounds, movements)


def test_a_rejected_line_needs_a_reason(buyer, staff):
    ticket = returned(buyer, staff)

    with pytest.raises(FieldRequired) as refused:
        services.record_inbound(ticket_id=ticket.pk, actor=staff["warehouse"],
                                lines=lines_of(ticket, accepted=False, reject_reason="looked odd"))

    assert refused.value.field == "lines.0.reject_reason"
    assert status_of(ticket) == S.AWAITING_RETURN


@pytest.mark.parametrize("state", ["awaiting_return", "awaiting_refund", "completed"])
def test_an_outbound_for_a_ticket_not_awaiting_exchange_or_reshipment_is_refused(buyer, staff, state):
    ticket = advance(submit(make_order(buyer=buyer), type="exchange" if state == "awaiting_return" else "return_refund"),
                     state, staff=staff)
    movements = StockMovement.objects.count()

    with pytest.raises(InvalidTransition):
        services.record_outbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=lines_of(ticket),
                                 courier="SF", tracking_no="SF9")

    assert not Outbound.objects.filter(ticket=ticket).exists() and StockMovement.objects.count() == movements


@pytest.mark.parametrize("role", ["ops", "finance"])
def test_only_the_warehouse_records_goods_and_marks_intercepts(buyer, staff, role):
    ticket = returned(buyer, staff)
    intercept_ticket = unshipped_claim(buyer, price="900.00")
    tickets.approve_ticket(ticket_id=intercept_ticket.pk, actor=staff["ops"])

    with pytest.raises(NotAllowed):
        services.record_inbound(ticket_id=ticket.pk, actor=staff[role], lines=lines_of(ticket, accepted=True))
    with pytest.raises(NotAllowed):
        services.record_intercept_result(intercept_id=Intercept.objects.get().pk, actor=staff[role], held=True)

    assert status_of(ticket) == S.AWAITING_RETURN and Intercept.objects.get().status == "open"


def test_a_clerk_cannot_approve_reject_or_pay(buyer, staff):
    pending_claim = submit(make_order(buyer=buyer), type="return_refund")
    to_pay = advance(submit(make_order(buyer=buyer), type="refund_only"), S.AWAITING_REFUND, staff=staff)
    clerk = staff["warehouse"]

    for attempt in (lambda: tickets.approve_ticket(ticket_id=pending_claim.pk, actor=clerk),
                    lambda: tickets.reject_ticket(ticket_id=pending_claim.pk, actor=clerk, reason="No"),
                    lambda: tickets.compensate_ticket(ticket_id=pending_claim.pk, actor=clerk, amount="1.00", note="x"),
                    lambda: refunds.finance_approve_ticket(ticket_id=to_pay.pk, actor=clerk),
                    lambda: refunds.finance_reject_ticket(ticket_id=to_pay.pk, actor=clerk, reason="No")):
        with pytest.raises(NotAllowed):
            attempt()

    assert (status_of(pending_claim), status_of(to_pay)) == (S.PENDING_REVIEW, S.AWAITING_REFUND)
    assert not to_pay.refunds.exists()


def test_an_inspection_photo_must_be_an_image_the_clerk_uploaded(buyer, staff):
    ticket = returned(buyer, staff)
    with pytest.raises(FieldInvalid) as refused:
        store_upload(actor=staff["warehouse"], file=SimpleUploadedFile("note.png", b"%PDF-1.4 not an image"))
    assert refused.value.field == "file"

    someone_elses = make_upload(buyer.user)
    with pytest.raises(FieldInvalid) as refused:
        services.record_inbound(ticket_id=ticket.pk, actor=staff["warehouse"], photo_ids=[someone_elses.pk],
                                lines=lines_of(ticket, accepted=True))
    assert refused.value.field == "photo_ids"
    assert status_of(ticket) == S.AWAITING_RETURN


# ---------------------------------------------------------------------------------------------- the API


@pytest.fixture
def warehouse_api(warehouse_user):
    return client_for(warehouse_user)


def test_the_api_records_a_rejection_with_its_reason_note_and_photo(buyer, staff, warehouse_api):
    ticket = returned(buyer, staff, lines=(("general", "40.00", 2, None),))
    photo = warehouse_api.post(f"{API}/uploads/", {"file": png()}, format="multipart")
    assert photo.status_code == 201, photo.content
    body = {"ticket_no": ticket.ticket_no, "note": "One used", "photo_ids": [photo.json()["id"]],
            "lines": [{"order_line_id": lines_of(ticket)[0]["order_line_id"], "quantity": 1, "accepted": False,
                       "reject_reason": "used", "note": "Worn sole"}]}

    response = warehouse_api.post(f"{API}/warehouse/inbound/", body, format="json")

    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["refund_amount"]) == ("pending_review", "0.00")
    line = Inbound.objects.get(ticket=ticket).lines.get()
    assert (line.accepted, line.reject_reason, line.note) == (False, "used", "Worn sole")


def test_the_api_refuses_over_receipt_and_an_unknown_reason_by_field(buyer, staff, warehouse_api):
    ticket = returned(buyer, staff, lines=(("general", "40.00", 2, None),))
    line = lines_of(ticket)[0]

    over = warehouse_api.post(f"{API}/warehouse/inbound/", {"ticket_no": ticket.ticket_no,
                              "lines": [{**line, "quantity": 3, "accepted": True}]}, format="json")
    unknown = warehouse_api.post(f"{API}/warehouse/inbound/", {"ticket_no": ticket.ticket_no,
                                 "lines": [{**line, "accepted": False, "reject_reason": "smelly"}]}, format="json")

    assert "claimed 2" in assert_error(over, 400, "invalid", field="lines.0.quantity")["detail"]
    assert_error(unknown, 400, "invalid", field="lines.0.reject_reason")
    assert status_of(ticket) == S.AWAITING_RETURN


@pytest.mark.parametrize("role", ["ops", "finance"])
def test_the_warehouse_endpoints_are_the_warehouse_s(buyer, staff, role):
    ticket = returned(buyer, staff)

    response = client_for(staff[role]).post(f"{API}/warehouse/inbound/", {
        "ticket_no": ticket.ticket_no, "lines": lines_of(ticket, accepted=True)}, format="json")

    assert_error(response, 403, "not_allowed")
    assert status_of(ticket) == S.AWAITING_RETURN
