"""Reading policies: defaults where a row is missing; cached (`aftersales.refcache`), dropped on any edit."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from types import MappingProxyType

from aftersales import refcache
from policies.models import DEFAULTS, Policy

CACHE_KEY = "policies:current:1"


@dataclass(frozen=True)
class Policies:
    values: Mapping[str, Decimal]  # read-only: every request of the process shares it

    def __getitem__(self, key: str) -> Decimal:
        return self.values[key]

    def minutes(self, key: str) -> timedelta:
        return timedelta(minutes=float(self.values[key]))

    def hours(self, key: str) -> timedelta:
        return timedelta(hours=float(self.values[key]))

    def days(self, key: str) -> timedelta:
        return timedelta(days=float(self.values[key]))

    def count(self, key: str) -> int:
        return int(self.values[key])


def current() -> Policies:
    return Policies(refcache.cached(CACHE_KEY, _read))


def _read() -> Mapping[str, Decimal]:
    values = {key: default[0] for key, default in DEFAULTS.items()}
    values.update(dict(Policy.objects.values_list("key", "value")))
    return MappingProxyType(values)
