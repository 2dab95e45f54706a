"""Clocks that run only while customer service works (SPEC §6, seed 000: 9:00–24:00 in the shop's time zone).

An SLA "within 1 hour of service time" for a claim submitted at 23:50 ends at 9:50 the next morning: ten
minutes before midnight, fifty after opening. The hours are wall-clock times in a time zone, so a day on
which the clocks change (Europe/Berlin in March and October) is an hour shorter or longer in real time,
and the arithmetic is done on instants (UTC), never on local times."""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

MINUTES_A_DAY = 24 * 60
EVERY_DAY = frozenset(range(7))
WEEKDAYS = frozenset(range(5))  # Monday to Friday


@dataclass(frozen=True)
class ServiceHours:
    """When customer service works: from ``opens`` to ``closes`` minutes after local midnight (1440: midnight
    at the end of the day), on the ``days`` of the week (0 Monday … 6 Sunday), in ``zone``."""

    opens: int
    closes: int
    days: frozenset[int]
    zone: ZoneInfo

    def __post_init__(self):
        if not 0 <= self.opens < self.closes <= MINUTES_A_DAY:
            raise ValueError("Service hours open before they close, within one day (0 to 1440 minutes).")
        if not self.days or not self.days <= EVERY_DAY:
            raise ValueError("Service hours need at least one day of the week (0 Monday … 6 Sunday).")

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """That local day's opening and closing instants (UTC), or None on a day off."""
        if day.weekday() not in self.days:
            return None
        return self._instant(day, self.opens), self._instant(day, self.closes)

    def _instant(self, day: dt.date, minutes: int) -> dt.datetime:
        # The wall-clock time in the zone (24:00 is the next day's 00:00), as an instant.
        wall = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minutes)
        return wall.replace(tzinfo=self.zone).astimezone(dt.UTC)


def add_service_time(start: dt.datetime, duration: dt.timedelta, hours: ServiceHours) -> dt.datetime:
    """The instant at which ``duration`` of service time has passed since ``start`` (aware). Time outside
    the service hours does not count; an SLA that uses up a day exactly ends at that day's closing time."""
    if start.tzinfo is None:
        raise ValueError("Service time starts at an aware time.")
    if duration < dt.timedelta(0):
        raise ValueError("Service time does not run backwards.")
    cursor, remaining = start.astimezone(dt.UTC), duration
    if not remaining:
        return cursor.astimezone(hours.zone)
    day = cursor.astimezone(hours.zone).date()
    while True:
        window = hours.window(day)
        if window is not None and window[1] > cursor:
            begin = max(window[0], cursor)
            available = window[1] - begin
            if remaining <= available:
                return (begin + remaining).astimezone(hours.zone)
            remaining -= available
        day += dt.timedelta(days=1)


def service_time_between(start: dt.datetime, end: dt.datetime, hours: ServiceHours) -> dt.timedelta:
    """How much service time lies between two instants (0 if ``end`` is not after ``start``): a first reply
    or a resolution measured against its SLA."""
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    total = dt.timedelta(0)
    day, last = start.astimezone(hours.zone).date(), end.astimezone(hours.zone).date()
    while start < end and day <= last:
        window = hours.window(day)
        if window is not None:
            begin, finish = max(window[0], start), min(window[1], end)
            if finish > begin:
                total += finish - begin
        day += dt.timedelta(days=1)
    return total
