"""The buyer sees when the money arrives (issue #11, seed 000: 1–3 business days after the refund is paid):
the ticket detail names the refund's status, when it was paid and the latest day the money arrives."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales import clock
from demo.journeys import advance
from tests.api_helpers import API, pending
from tickets.models import Ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.django_db
def test_the_detail_says_paid_when_and_arriving_by_when(buyer, alice, staff):
    friday_evening = dt.datetime(2026, 11, 27, 20, 0, tzinfo=SHANGHAI)
    with clock.frozen_at(friday_evening - dt.timedelta(hours=1)):
        ticket = pending(buyer)
    waiting = alice.get(f"{API}/tickets/{ticket.ticket_no}/").json()
    assert (waiting["refund_status"], waiting["refund_paid_at"], waiting["refund_expected_by"]) == (None, None, None)

    with clock.frozen_at(friday_evening):
        advance(ticket, Ticket.Status.COMPLETED, staff=staff)
    data = alice.get(f"{API}/tickets/{ticket.ticket_no}/").json()

    assert data["refund_status"] == "succeeded"
    assert dt.datetime.fromisoformat(data["refund_paid_at"]) == friday_evening
    assert dt.datetime.fromisoformat(data["refund_expected_by"]) == dt.datetime(2026, 12, 2, 20, 0, tzinfo=SHANGHAI)


@given(start=st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1),
                          timezones=st.just(SHANGHAI)),
       days=st.integers(min_value=0, max_value=30))
def test_business_days_skip_weekends_and_count_each_working_day_once(start, days):
    end = clock.add_business_days(start, days)

    assert end.time() == start.time() and end >= start
    calendar = [start.date() + dt.timedelta(days=n) for n in range(1, (end.date() - start.date()).days + 1)]
    assert sum(1 for day in calendar if day.weekday() < 5) == days
    assert days == 0 or end.weekday() < 5
