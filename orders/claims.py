"""What is claimed on order lines, as far as the order mirror needs to know.

The order import must never shrink a line below what claims already take from it, but orders is
reference data and knows nothing of tickets. So the part that claims lines registers a reader here
when it starts (tickets does, in its AppConfig.ready): the arrow points from tickets to orders."""

from collections.abc import Callable, Iterable
from decimal import Decimal

from aftersales.money import ZERO

# order line pks -> {order line pk: (units claimed, goods amount claimed)}
ClaimReader = Callable[[list[int]], dict[int, tuple[int, Decimal]]]
_readers: list[ClaimReader] = []


def register(reader: ClaimReader) -> None:
    if reader not in _readers:
        _readers.append(reader)


def claimed_by_line(order_line_ids: Iterable[int]) -> dict[int, tuple[int, Decimal]]:
    """Per order line: units and amount that claims (of every registered part) still hold on it."""
    ids = list(order_line_ids)
    totals: dict[int, tuple[int, Decimal]] = {}
    for reader in _readers:
        for line_id, (units, amount) in reader(ids).items():
            before_units, before_amount = totals.get(line_id, (0, ZERO))
            totals[line_id] = (before_units + units, before_amount + amount)
    return totals
