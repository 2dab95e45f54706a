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
