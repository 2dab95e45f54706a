"""Money: Decimal end to end, rounded in one place, discounts split to the cent."""

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.utils.translation import gettext as _

from aftersales.errors import FieldInvalid

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("9999999999.99")  # what a DecimalField(max_digits=12, decimal_places=2) holds
# The sign shown before an amount, per ISO currency code (settings.CURRENCY); a code not here shows itself.
SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "KRW": "₩", "JPY": "¥", "GBP": "£", "HKD": "HK$"}


def money(value: Decimal | str | int) -> Decimal:
    """Quantise to cents, half up. Floats are refused: they are never exact."""
    if isinstance(value, float):
        raise TypeError("Amounts are never floats.")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def currency_symbol() -> str:
    """The sign of the shop's currency (settings.CURRENCY), or its code and a space when it has none here."""
    code = getattr(settings, "CURRENCY", "CNY")
    return SYMBOLS.get(code, f"{code} ")


def format_money(amount: Decimal | str | int | None) -> str:
    """An amount as people read it: the currency's sign, thousands grouped with commas, exactly 2 decimals
    ("¥1,234.50", "-¥3.00"), the same in English and Chinese. None reads as "—". Rounded by ``money``."""
    if amount is None:
        return "—"
    value = money(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}{currency_symbol()}{abs(value):,.2f}"


def parse_amount(value, *, field: str) -> Decimal:
    """An amount someone sent: a decimal string (or an int, or a Decimal from a form), zero or more,
    at most 2 decimals and 10 digits before the point. Floats and booleans are refused."""
    if isinstance(value, (bool, float)) or not isinstance(value, (str, int, Decimal)):
        raise FieldInvalid(_('An amount as a decimal string, e.g. "43.60".'), field=field)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise FieldInvalid(_('An amount as a decimal string, e.g. "43.60".'), field=field) from None
    if not amount.is_finite() or amount < 0:
        raise FieldInvalid(_("Must be zero or more."), field=field)
    # The size check first: quantising a huge value (1e30) raises instead of answering.
    if amount > MAX_AMOUNT or amount != amount.quantize(CENT):
        raise FieldInvalid(_("At most 2 decimals and 10 digits before the point."), field=field)
    return money(amount)


def allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split ``total`` over ``weights`` in proportion, exactly to the cent (largest remainder).

    The parts add up to ``total``; none is negative when total and weights are not; a zero
    weight gets zero unless every weight is zero (then the split is even).
    """
    total = money(total)
    if not weights:
        return []
    if any(w < 0 for w in weights):
        raise ValueError("Weights are never negative.")
    weight_sum = sum(weights, Decimal(0))
    if weight_sum == 0:
        weights, weight_sum = [Decimal(1)] * len(weights), Decimal(len(weights))
    cents = int(total / CENT)
    exact = [Decimal(cents) * w / weight_sum for w in weights]
    floors = [int(x.to_integral_value(rounding=ROUND_DOWN)) for x in exact]
    left = cents - sum(floors)
    # The largest fractional parts get the left-over cents; ties go to the earlier part.
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [(Decimal(c) * CENT).quantize(CENT) for c in floors]


def unit_amount(paid: Decimal, quantity: int) -> Decimal:
    """What one unit of a line cost, rounded down: the last unit absorbs the remainder."""
    return (money(paid) / quantity).quantize(CENT, rounding=ROUND_DOWN)


def amount_for_units(*, paid: Decimal, quantity: int, units: int, already_refunded: Decimal,
                     units_already_claimed: int) -> Decimal:
    """The refund for ``units`` more units of a line that cost ``paid`` for ``quantity`` units.

    Every unit is worth ``unit_amount`` except that a claim taking the last unit gets whatever
    is left, so claiming every unit returns exactly ``paid``; never more than what is left.
    """
    left = money(paid) - money(already_refunded)
    if units_already_claimed + units >= quantity:
        return max(left, ZERO)
    return max(min(unit_amount(paid, quantity) * units, left), ZERO)
