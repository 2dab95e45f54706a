"""Reading policies: defaults where a row is missing; cached (`aftersales.refcache`), dropped on any edit."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from types import MappingProxyType
from zoneinfo import ZoneInfo

from django.conf import settings

from aftersales import refcache
from aftersales.service_hours import EVERY_DAY, MINUTES_A_DAY, WEEKDAYS, ServiceHours
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

    def switch(self, key: str) -> bool:
        return self.values[key] != 0

    def service_hours(self) -> ServiceHours:
        """Customer-service hours (seed 000: 9:00–24:00, every day) in the shops' time zone (TIME_ZONE: the
        shops have no zone of their own). Hours that make no sense (opening after closing) count every hour
        rather than stop the clocks."""
        opens = round(float(self.values["service_hours_start"]) * 60)
        closes = min(round(float(self.values["service_hours_end"]) * 60), MINUTES_A_DAY)
        days = EVERY_DAY if self.switch("service_hours_weekends") else WEEKDAYS
        if not 0 <= opens < closes:
            opens, closes = 0, MINUTES_A_DAY
        return ServiceHours(opens=opens, closes=closes, days=days, zone=ZoneInfo(settings.TIME_ZONE))


def current() -> Policies:
    return Policies(refcache.cached(CACHE_KEY, _read))


def _read() -> Mapping[str, Decimal]:
    values = {key: default[0] for key, default in DEFAULTS.items()}
    values.update(dict(Policy.objects.values_list("key", "value")))
    return MappingProxyType(values)
