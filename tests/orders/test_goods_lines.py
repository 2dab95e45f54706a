"""The lines that name some units of an order line share one abstract base (orders.models.GoodsLine), and
the refund's line the same reference to the order line; sharing it changed no table."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError, models

from orders.models import GoodsLine, OrderLine
from refunds.models import RefundLine
from tests.factories import make_order, submit
from tickets.models import TicketLine
from warehouse.models import InboundLine, OutboundLine, OutboundRequestLine

GOODS_LINES = [TicketLine, InboundLine, OutboundLine, OutboundRequestLine]


@pytest.mark.parametrize("model", [*GOODS_LINES, RefundLine])
def test_every_line_protects_the_order_line_it_names(model):
    field = model._meta.get_field("order_line")

    assert field.related_model is OrderLine
    assert field.remote_field.on_delete is models.PROTECT
    assert str(field.verbose_name) == "order line"


@pytest.mark.parametrize("model", GOODS_LINES)
def test_every_goods_line_checks_its_quantity_in_the_database(model):
    assert issubclass(model, GoodsLine)
    checks = [c for c in model._meta.constraints if isinstance(c, models.CheckConstraint)]
    assert any(str(c.condition) == "(AND: ('quantity__gt', 0))" for c in checks)


@pytest.mark.django_db
def test_a_goods_line_reads_as_units_of_a_product_and_refuses_no_units():
    line = submit(make_order()).lines.select_related("order_line").first()

    assert str(line) == f"{line.quantity} × {line.order_line.product_name}"
    with pytest.raises(IntegrityError):
        TicketLine.objects.filter(pk=line.pk).update(quantity=0)


@pytest.mark.django_db
def test_the_models_and_their_migrations_agree():
    call_command("makemigrations", check=True, dry_run=True, verbosity=0)
