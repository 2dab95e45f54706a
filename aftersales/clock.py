"""The one clock. Code calls clock.now(); tests freeze it with time_machine; run_deadlines --now sets it."""

import contextlib
import datetime as dt
from contextvars import ContextVar

from django.utils import timezone

_override: ContextVar[dt.datetime | None] = ContextVar("clock_override", default=None)


def now() -> dt.datetime:
    return _override.get() or timezone.now()


@contextlib.contextmanager
def frozen_at(moment: dt.datetime):
    """Run a block as if it were ``moment`` (aware)."""
    if timezone.is_naive(moment):
        raise ValueError("The clock takes aware times only.")
    token = _override.set(moment)
    try:
        yield moment
    finally:
        _override.reset(token)


def parse_moment(text: str | None) -> dt.datetime:
    """A command's ``--now``: an ISO 8601 time with its offset; None or empty means the clock's now.
    Raises ValueError naming the format otherwise."""
    if not text:
        return now()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError("--now takes an ISO 8601 time with its offset, e.g. 2026-11-30T09:00:00+08:00")
    return moment


def add_business_days(moment: dt.datetime, days: int) -> dt.datetime:
    """``moment`` plus ``days`` working days (Monday to Friday), in the moment's own time zone: a refund
    paid on Friday evening with 3 business days arrives by Wednesday evening. Public holidays are not
    known here."""
    moment = timezone.localtime(moment)
    while days > 0:
        moment += dt.timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment
