"""Service-hours arithmetic (aftersales.service_hours): an SLA that counts only customer-service hours."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aftersales.service_hours import EVERY_DAY, WEEKDAYS, ServiceHours, add_service_time, service_time_between

SHANGHAI, BERLIN = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")
NINE_TO_MIDNIGHT = ServiceHours(opens=9 * 60, closes=24 * 60, days=EVERY_DAY, zone=SHANGHAI)  # seed 000
H, M = dt.timedelta(hours=1), dt.timedelta(minutes=1)


def at(zone, *parts) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=zone)


def test_a_claim_at_23_50_with_a_one_hour_sla_is_due_at_9_50_next_morning():
    assert add_service_time(at(SHANGHAI, 2026, 11, 30, 23, 50), H, NINE_TO_MIDNIGHT) == at(SHANGHAI, 2026, 12, 1, 9, 50)


def test_before_opening_the_clock_starts_at_opening_and_an_sla_that_fills_the_day_ends_at_midnight():
    assert add_service_time(at(SHANGHAI, 2026, 12, 1, 3, 0), H, NINE_TO_MIDNIGHT) == at(SHANGHAI, 2026, 12, 1, 10, 0)
    assert add_service_time(at(SHANGHAI, 2026, 12, 1, 9, 0), 15 * H, NINE_TO_MIDNIGHT) == at(SHANGHAI, 2026, 12, 2, 0, 0)
    assert add_service_time(at(SHANGHAI, 2026, 12, 1, 9, 0), 15 * H + M, NINE_TO_MIDNIGHT) == \
        at(SHANGHAI, 2026, 12, 2, 9, 1)


def test_48_service_hours_span_more_than_three_days():
    # 9:00 Monday: 15 h a day, so 48 h are three full days and 3 h of the fourth.
    assert add_service_time(at(SHANGHAI, 2026, 11, 30, 9, 0), 48 * H, NINE_TO_MIDNIGHT) == at(SHANGHAI, 2026, 12, 3, 12, 0)


def test_a_policy_without_weekends_skips_saturday_and_sunday():
    weekdays = ServiceHours(opens=9 * 60, closes=24 * 60, days=WEEKDAYS, zone=SHANGHAI)
    friday_late = at(SHANGHAI, 2026, 12, 4, 23, 30)  # a Friday
    assert add_service_time(friday_late, H, weekdays) == at(SHANGHAI, 2026, 12, 7, 9, 30)  # Monday
    saturday = at(SHANGHAI, 2026, 12, 5, 12, 0)
    assert add_service_time(saturday, 5 * M, weekdays) == at(SHANGHAI, 2026, 12, 7, 9, 5)
    # With weekends (seed 000 names no day off) Saturday counts.
    assert add_service_time(friday_late, H, NINE_TO_MIDNIGHT) == at(SHANGHAI, 2026, 12, 5, 9, 30)


def test_berlin_across_the_spring_change_counts_wall_clock_hours():
    """The night of 28–29 March 2026 is an hour shorter in Berlin: 9:00 is still 9:00 on the clocks."""
    hours = ServiceHours(opens=9 * 60, closes=24 * 60, days=EVERY_DAY, zone=BERLIN)
    due = add_service_time(at(BERLIN, 2026, 3, 28, 23, 50), H, hours)
    assert due == at(BERLIN, 2026, 3, 29, 9, 50)
    assert due.utcoffset() == dt.timedelta(hours=2) and due.astimezone(dt.UTC).hour == 7
    # Around the clock, 24 hours of service time from Saturday noon end at 13:00 on Sunday's clocks.
    always = ServiceHours(opens=0, closes=24 * 60, days=EVERY_DAY, zone=BERLIN)
    assert add_service_time(at(BERLIN, 2026, 3, 28, 12, 0), 24 * H, always) == at(BERLIN, 2026, 3, 29, 13, 0)


def test_berlin_across_the_autumn_change_counts_the_repeated_hour_once_per_real_hour():
    always = ServiceHours(opens=0, closes=24 * 60, days=EVERY_DAY, zone=BERLIN)
    assert add_service_time(at(BERLIN, 2026, 10, 24, 12, 0), 24 * H, always) == at(BERLIN, 2026, 10, 25, 11, 0)
    hours = ServiceHours(opens=9 * 60, closes=24 * 60, days=EVERY_DAY, zone=BERLIN)
    due = add_service_time(at(BERLIN, 2026, 10, 24, 23, 0), 2 * H, hours)
    assert due == at(BERLIN, 2026, 10, 25, 10, 0) and due.utcoffset() == dt.timedelta(hours=1)


def test_nonsense_hours_are_refused():
    with pytest.raises(ValueError):
        ServiceHours(opens=10 * 60, closes=9 * 60, days=EVERY_DAY, zone=SHANGHAI)
    with pytest.raises(ValueError):
        ServiceHours(opens=9 * 60, closes=25 * 60, days=EVERY_DAY, zone=SHANGHAI)
    with pytest.raises(ValueError):
        ServiceHours(opens=9 * 60, closes=24 * 60, days=frozenset(), zone=SHANGHAI)
    with pytest.raises(ValueError):
        add_service_time(dt.datetime(2026, 1, 1), H, NINE_TO_MIDNIGHT)


# --------------------------------------------------------------------------------------------- properties

ZONES = [SHANGHAI, BERLIN, ZoneInfo("America/New_York"), ZoneInfo("Australia/Lord_Howe"), ZoneInfo("UTC")]
# Around the dates the clocks change in Berlin and New York, and any other time in two years.
starts = st.one_of(
    st.datetimes(min_value=dt.datetime(2026, 3, 6), max_value=dt.datetime(2026, 3, 31)),
    st.datetimes(min_value=dt.datetime(2026, 10, 20), max_value=dt.datetime(2026, 11, 5)),
    st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 1, 1)),
).map(lambda moment: moment.replace(second=0, microsecond=0, tzinfo=dt.UTC))


@st.composite
def service_hours(draw) -> ServiceHours:
    # Shop hours: opening 6:00–12:00 and closing 16:00–24:00, never inside a night-time clock change.
    opens = draw(st.integers(6 * 4, 12 * 4)) * 15
    closes = draw(st.integers(16 * 4, 24 * 4)) * 15
    days = draw(st.sampled_from([EVERY_DAY, WEEKDAYS, frozenset({0, 2, 4, 5})]))
    return ServiceHours(opens=opens, closes=closes, days=days, zone=draw(st.sampled_from(ZONES)))


def brute_force(start: dt.datetime, minutes: int, hours: ServiceHours) -> dt.datetime:
    """Walk minute by minute, counting those whose local wall-clock time falls within the hours."""
    moment = start
    while minutes:
        local = moment.astimezone(hours.zone)
        of_day = local.hour * 60 + local.minute
        if local.weekday() in hours.days and hours.opens <= of_day < hours.closes:
            minutes -= 1
        moment += M
    return moment


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(start=starts, minutes=st.integers(1, 40 * 60), hours=service_hours())
@example(start=dt.datetime(2026, 3, 28, 22, 50, tzinfo=dt.UTC), minutes=60,
         hours=ServiceHours(opens=9 * 60, closes=24 * 60, days=EVERY_DAY, zone=BERLIN))
def test_the_due_time_is_where_a_minute_by_minute_count_reaches_the_sla(start, minutes, hours):
    due = add_service_time(start, minutes * M, hours)
    # The due time is the end of the last counted minute.
    assert due == brute_force(start, minutes, hours)
    assert service_time_between(start, due, hours) == minutes * M
    local = due.astimezone(hours.zone)
    minute_of_day = local.hour * 60 + local.minute or 24 * 60
    day = local.date() if local.hour or local.minute else local.date() - dt.timedelta(days=1)
    assert day.weekday() in hours.days and hours.opens < minute_of_day <= hours.closes


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(start=starts, first=st.integers(0, 30 * 60), second=st.integers(1, 30 * 60), hours=service_hours())
def test_service_time_adds_up_and_never_runs_backwards(start, first, second, hours):
    one = add_service_time(start, first * M, hours)
    both = add_service_time(start, (first + second) * M, hours)
    assert start <= one <= both
    assert add_service_time(one, second * M, hours) == both
