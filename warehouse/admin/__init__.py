"""The warehouse in the admin (SPEC §8, issue #12), one module per screen: the arrivals queue with its scan
box and receive form, the dispatch queue with its ship form, the shipments to hold, the stock ledger, the
registers, and the inbound and outbound records. Every button calls the same service as the API.

Importing the modules registers their admins (admin.autodiscover imports this package)."""

from warehouse.admin import arrivals, couriers, dispatch, intercepts, ledger, records, registers  # noqa: F401
