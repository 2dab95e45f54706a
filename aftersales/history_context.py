"""Who made a change, written into every history row (pghistory's context): the user of the request, or
the Celery task; a row without context was written by raw SQL.

pghistory would prefix each SQL statement with its context, which PostgreSQL refuses for the prepared
statements this project uses (server-side binding, settings). Here the context is set once, as session
variables, in a statement of its own when the work starts, and cleared when it ends: the history triggers
read the same variables."""

import json
import logging
import uuid
from contextvars import ContextVar

from django.db import DatabaseError, connection

log = logging.getLogger(__name__)

_metadata: ContextVar[dict | None] = ContextVar("history_context", default=None)
_SET = ("SELECT set_config('pghistory.context_id', %s, false), "
        "set_config('pghistory.context_metadata', %s, false)")


def begin(**metadata) -> None:
    """From now on, history rows of this connection carry ``metadata`` (one new context)."""
    if connection.vendor != "postgresql":
        return
    _metadata.set(metadata)
    with connection.cursor() as cursor:
        cursor.execute(_SET, [str(uuid.uuid4()), json.dumps(metadata, default=str)])


def add(**metadata) -> None:
    """Add to the context begun (the user, once DRF has authenticated the request's token)."""
    current = _metadata.get()
    if current is not None:
        begin(**current, **metadata)


def end() -> None:
    """Clear the context. If the connection is broken (the database went away mid-request), there is
    nothing to clear: the session went with it; the request's own error is the one to report."""
    if connection.vendor != "postgresql" or _metadata.get() is None:
        return
    _metadata.set(None)
    try:
        with connection.cursor() as cursor:
            cursor.execute(_SET, ["", ""])
    except DatabaseError:
        log.warning("history context not cleared: the connection is gone", exc_info=True)
