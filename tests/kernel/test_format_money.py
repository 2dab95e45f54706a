"""Money as people read it: the shop's currency sign, thousands grouped, exactly two decimals, whatever the
language; a sum the database returns with many decimals (SQLite) reads to the cent."""

from decimal import Decimal

import pytest
from django.utils import translation

from aftersales.money import format_money


@pytest.mark.parametrize(("amount", "shown"), [
    (Decimal("1234.5"), "¥1,234.50"), (Decimal("0"), "¥0.00"), ("272.600000000000", "¥272.60"),
    (144, "¥144.00"), (Decimal("1234567.891"), "¥1,234,567.89"), (Decimal("-3"), "-¥3.00"), (None, "—")])
def test_amounts_read_with_the_sign_grouped_to_the_cent(amount, shown):
    assert format_money(amount) == shown


def test_the_same_in_chinese():
    with translation.override("zh-hans"):
        assert format_money(Decimal("1234.50")) == "¥1,234.50"


@pytest.mark.parametrize(("code", "shown"), [("USD", "$1,234.50"), ("EUR", "€1,234.50"), ("KRW", "₩1,234.50"),
                                             ("CHF", "CHF 1,234.50")])
def test_the_sign_follows_the_currency_setting(settings, code, shown):
    settings.CURRENCY = code
    assert format_money(Decimal("1234.50")) == shown


def test_floats_are_refused():
    with pytest.raises(TypeError):
        format_money(1.5)
