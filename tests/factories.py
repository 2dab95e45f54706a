"""Factories: build only what a test needs. Tickets are made through the services (see `submit`)."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from aftersales import clock
from orders.models import Buyer, Order, OrderLine, Shop
from reasons.models import Reason
from tickets import services
from tickets.models import Ticket


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pass-1234")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            for name in extracted:
                self.groups.add(Group.objects.get(name=name))
        if create:
            self.save()


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"S{n}")
    name = factory.Sequence(lambda n: f"Shop {n}")
    return_address = "Returns desk, 1 Depot Road"
    return_contact = "Returns team"
    return_phone = "400-000-0000"


class BuyerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Buyer

    account = factory.Sequence(lambda n: f"buyer{n}")
    user = factory.SubFactory(UserFactory, username=factory.SelfAttribute("..account"))
    level = 1
    address = "8 Garden Lane"


class OrderFactory(factory.django.DjangoModelFactory):
    """A delivered order, one day ago, unless told otherwise. Amounts follow its lines (see make_order)."""

    class Meta:
        model = Order

    order_no = factory.Sequence(lambda n: f"SO{n:06d}")
    shop = factory.SubFactory(ShopFactory)
    buyer = factory.SubFactory(BuyerFactory)
    status = Order.Status.DELIVERED
    placed_at = factory.LazyFunction(lambda: clock.now() - dt.timedelta(days=3))
    paid_at = factory.LazyAttribute(lambda o: o.placed_at)
    shipped_at = factory.LazyFunction(lambda: clock.now() - dt.timedelta(days=2))
    delivered_at = factory.LazyFunction(lambda: clock.now() - dt.timedelta(days=1))
    goods_amount = Decimal("0.00")
    amount_paid = Decimal("0.00")


def make_order(*, lines=(("general", "10.00", 2, None),), status="delivered", delivered_ago=dt.timedelta(days=1),
               shipping_fee="0.00", coupon="0.00", virtual_currency="0.00", buyer=None, shop=None) -> Order:
    """An order with lines given as (category, unit_price, quantity, paid_amount or None = full price).

    Coupon and virtual currency are taken off the lines in proportion (the import's allocation)."""
    from aftersales.money import allocate

    now = clock.now()
    kwargs = {"status": status, "shipping_fee": Decimal(shipping_fee), "coupon_discount": Decimal(coupon),
              "virtual_currency": Decimal(virtual_currency)}
    if status == "unshipped":
        kwargs.update(shipped_at=None, delivered_at=None)
    elif status == "shipped":
        kwargs.update(shipped_at=now - dt.timedelta(hours=6), delivered_at=None)
    else:
        kwargs.update(delivered_at=now - delivered_ago, shipped_at=now - delivered_ago - dt.timedelta(days=1))
    if buyer is not None:
        kwargs["buyer"] = buyer
    if shop is not None:
        kwargs["shop"] = shop
    order = OrderFactory(**kwargs)
    goods = [Decimal(price) * qty for _, price, qty, _ in lines]
    discount_shares = allocate(Decimal(coupon) + Decimal(virtual_currency), goods)
    paid_total = Decimal("0.00")
    for i, ((category, price, qty, paid), value, share) in enumerate(zip(lines, goods, discount_shares, strict=True)):
        paid_amount = Decimal(paid) if paid is not None else value - share
        paid_total += paid_amount
        OrderLine.objects.create(order=order, line_id=f"{order.order_no}-{i + 1}", sku=f"SKU-{i + 1}",
                                 product_name=f"Product {i + 1}", product_code=f"P-{i + 1}", category=category,
                                 unit_price=Decimal(price), quantity=qty, paid_amount=paid_amount)
    order.goods_amount = sum(goods, Decimal("0.00"))
    order.amount_paid = paid_total + Decimal(shipping_fee)
    order.save()
    return order


def reason(code: str) -> Reason:
    return Reason.objects.get(code=code)


def submit(order: Order, *, type="return_refund", reason_code="quality_issue", lines=None, photos=None,
           description="") -> Ticket:
    """Submit a claim as the order's buyer, through the service. ``lines``: [(line index, quantity)]."""

    order_lines = list(order.lines.all())
    lines = lines if lines is not None else [(i, ol.quantity) for i, ol in enumerate(order_lines)]
    if photos is None:
        photos = 1 if type == "exchange" or order_lines[0].category == "fresh" or reason(reason_code).requires_photos else 0
    photo_ids = [make_upload(order.buyer.user).pk for _ in range(photos)] if isinstance(photos, int) else photos
    return services.submit_ticket(
        actor=order.buyer.user, order_no=order.order_no, type=type, reason_id=reason(reason_code).pk,
        description=description, photo_ids=photo_ids,
        lines=[{"order_line_id": order_lines[i].line_id, "quantity": q} for i, q in lines])


def order_with_tickets(buyer, count: int) -> Order:
    """An order of ``count`` one-unit lines, each claimed by a ticket of its own (list-size tests)."""
    order = make_order(buyer=buyer, lines=tuple(("general", "10.00", 1, None) for _ in range(count)))
    for i in range(count):
        submit(order, type="return_refund", reason_code="no_reason_7d", lines=[(i, 1)])
    return order


def make_upload(user) -> "Upload":  # noqa: F821
    """A stored photo owned by ``user`` (bytes are a real 1×1 PNG)."""
    import uuid

    from django.core.files.base import ContentFile

    from tickets.models import Upload

    token = uuid.uuid4()
    upload = Upload(token=token, owner=user, extension="png", content_type="image/png", width=1, height=1, size=len(PNG_1PX))
    upload.file.save(f"{token}.png", ContentFile(PNG_1PX), save=False)
    upload.save()
    return upload


PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082")


def client_for(user):
    """An API client that sends ``user``'s token (anonymous when ``user`` is None)."""
    from rest_framework.test import APIClient

    from access.tokens import issue_token

    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user)[1]}")
    return client


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    """The one error shape: {"code", "detail"} and, for validation errors, "fields" naming the field."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    if field is not None:
        assert field in body["fields"], body
        assert all(isinstance(m, str) for m in body["fields"][field])
    return body
