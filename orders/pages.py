"""What an order's page in the back office links to beyond the order itself (its after-sales tickets).

Orders is reference data and knows nothing of tickets, so the part that keeps something about orders
registers a reader here when it starts (tickets does, in its AppConfig.ready), as orders.claims is filled:
the arrow points from tickets to orders."""

from collections.abc import Callable

# order -> [(text, url)], the links that part shows on the order's page
LinkReader = Callable[[object], list[tuple[str, str]]]
_readers: list[LinkReader] = []


def register(reader: LinkReader) -> None:
    if reader not in _readers:
        _readers.append(reader)


def links_for(order) -> list[tuple[str, str]]:
    """Every registered part's links for ``order``, in the order the parts registered."""
    return [link for reader in _readers for link in reader(order)]
