"""Reference data read on every claim (policies, the reasons on offer), kept in memory per process.

A claim reads the policies and its reason; building those two ORM queries costs more than all the
rest of the claim's reads. They change a few times a year, through the admin or a service, so each
process keeps what it read, with a generation number held in the shared cache (Redis when
``REDIS_URL`` is set):

- any save or delete of a row (admin, services, data migrations) bumps the generation at once and
  again when its transaction commits (so a process that re-read in between reads again), and every
  process re-reads when it sees another generation than the one it read under;
- what a process holds is also re-read after ``TTL`` seconds: the bound on staleness where a change
  cannot be seen, such as a queryset ``update()`` in a shell, or another process's local-memory
  cache when there is no Redis.

What is cached is shared by every request of the process: treat it as read-only.
"""

import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

TTL = 60.0
T = TypeVar("T")
_held: dict[str, tuple[Any, float, Any]] = {}  # key -> (generation, read at, value)


def _generation_key(key: str) -> str:
    return f"refcache:{key}:generation"


def cached(key: str, load: Callable[[], T]) -> T:
    generation = cache.get(_generation_key(key))
    held = _held.get(key)
    if held is not None and held[0] == generation and time.monotonic() - held[1] < TTL:
        return held[2]
    value = load()
    _held[key] = (generation, time.monotonic(), value)
    return value


def forget(key: str) -> None:
    """Make every process read ``key`` again."""
    _held.pop(key, None)
    try:
        cache.incr(_generation_key(key))
    except ValueError:  # no generation yet (or the cache lost it)
        cache.set(_generation_key(key), time.time_ns(), None)


def forget_all() -> None:
    """Drop what this process holds (tests start from the database, not from an earlier test's rows)."""
    _held.clear()


def drop_on_change(model, key: str) -> None:
    """Forget ``key`` whenever a row of ``model`` is saved or deleted, and again on commit."""

    def dropped(sender, using=None, **kwargs):
        forget(key)
        transaction.on_commit(lambda: forget(key), using=using)

    for signal in (post_save, post_delete):
        signal.connect(dropped, sender=model, weak=False, dispatch_uid=f"refcache:{key}:{id(signal)}")
