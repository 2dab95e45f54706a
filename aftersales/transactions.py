"""Transactions that a busy database may refuse: a deadlock or a serialization failure is tried once
more, then answered in words (409 ``contention``), never as a server error.

Money paths take their locks in one order (order, then ticket, then refund: docs/design.md), so they do
not deadlock with each other; this is the net under what the order cannot foresee (a path not yet
written, a lock PostgreSQL takes on its own, e.g. a unique index waiting on another's insert)."""

import functools
import logging

from django.db import OperationalError, transaction
from django.utils.translation import gettext as _

from aftersales.errors import Contention

log = logging.getLogger(__name__)

# deadlock_detected, serialization_failure: PostgreSQL rolled the transaction back; running it again is safe.
RETRYABLE = frozenset({"40P01", "40001"})


def contended(exc: BaseException) -> bool:
    """Did the database give up on this transaction for another's sake (a deadlock, a serialization
    failure)? Django wraps psycopg's error; the SQLSTATE is on the cause."""
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    return getattr(cause, "sqlstate", None) in RETRYABLE


def contention_error() -> Contention:
    return Contention(_("Someone else was changing the same claim or order at this moment, so nothing was "
                        "changed. Please try again."))


def atomic_retrying(func):
    """``transaction.atomic`` for a service, run once more if the database gave up on it for another's sake,
    then refused with ``Contention`` (409). Only the outermost transaction can run again: inside a caller's
    transaction (an idempotent request, a batch) the refusal goes up at once, and the caller's transaction
    is rolled back with it."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        tries = 2 if not transaction.get_connection().in_atomic_block else 1
        for attempt in range(1, tries + 1):
            try:
                with transaction.atomic():
                    return func(*args, **kwargs)
            except OperationalError as exc:
                if not contended(exc):
                    raise
                log.warning("%s: the database gave up on it (%s), try %s of %s", func.__qualname__,
                            getattr(exc.__cause__, "sqlstate", "?"), attempt, tries)
        raise contention_error()

    return run
