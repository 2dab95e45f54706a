"""Who made a change, written into every history row (pghistory's context): the user of the request, the
Celery task, the management command; a row without context was written by raw SQL.

pghistory would prefix each SQL statement with its context, which PostgreSQL refuses for the prepared
statements this project uses (server-side binding, settings). Here the context is set as session
variables, in a statement of its own, when the work starts, and cleared when it ends: the history triggers
read the same variables. A connection opened while the work runs (Celery closes its connection before each
task; a thread of the deadline sweep opens its own) gets the context as it opens.

Contexts nest: a task run eagerly inside a request (the tests, the demo), or by a command, writes its own
context, and the request's or the command's comes back when the task ends."""

import json
import logging
import uuid
from contextvars import ContextVar

from django.db import DatabaseError, connection
from django.db.backends.signals import connection_created

log = logging.getLogger(__name__)

# The contexts begun and not yet ended, innermost last: (context id, metadata).
_stack: ContextVar[tuple[tuple[str, dict], ...]] = ContextVar("history_context", default=())
_SET = ("SELECT set_config('pghistory.context_id', %s, false), "
        "set_config('pghistory.context_metadata', %s, false)")


def begin(**metadata) -> None:
    """From now on, history rows of this thread's connection carry ``metadata`` (one new context), until
    ``end()``."""
    _stack.set((*_stack.get(), (str(uuid.uuid4()), metadata)))
    _apply(connection)


def add(**metadata) -> None:
    """Add to the context begun (the user, once DRF has authenticated the request's token)."""
    stack = _stack.get()
    if stack:
        _stack.set((*stack[:-1], (str(uuid.uuid4()), {**stack[-1][1], **metadata})))
        _apply(connection)


def current() -> dict | None:
    """The metadata history rows written now would carry, or None (raw SQL)."""
    stack = _stack.get()
    return stack[-1][1] if stack else None


def end() -> None:
    """End the innermost context: the one around it, if any, applies again; else none. If the connection is
    broken (the database went away mid-request), there is nothing to clear: the session went with it; the
    request's own error is the one to report."""
    stack = _stack.get()
    if not stack:
        return
    _stack.set(stack[:-1])
    try:
        _apply(connection)
    except DatabaseError:
        log.warning("history context not cleared: the connection is gone", exc_info=True)


def _apply(conn) -> None:
    """Write the current context into the session of ``conn`` if it is open. One not open yet takes it when
    it opens (_on_connect): a read-only request is not given a connection it would not use."""
    if conn.vendor != "postgresql" or conn.connection is None:
        return
    stack = _stack.get()
    values = [stack[-1][0], json.dumps(stack[-1][1], default=str)] if stack else ["", ""]
    with conn.cursor() as cursor:
        cursor.execute(_SET, values)


def _on_connect(sender, connection, **kwargs) -> None:
    """A connection opened while work with a context runs (in this thread) takes the context at once."""
    if _stack.get():
        _apply(connection)


connection_created.connect(_on_connect, dispatch_uid="aftersales.history_context")
