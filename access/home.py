"""The back office's home page: the queues of the user's roles first, each with what waits in it, what is due
today and what is overdue; Django's list of everything else below.

The home is the site's (access), but the queues are the parts' (tickets, refunds, warehouse, all above
access in the house): each part registers its tiles from its AppConfig.ready through ``register_home_queue``,
as it adds to tickets' screens through tickets' doors. The page reads the registry on every request, and each
tile carries its ``order``: what comes first does not depend on the order the apps start in.

Above the tiles stand the notices: something a person must act on that no queue counts (a webhook endpoint
the system disabled, say). A part registers a ``HomeNotices`` source the same way; the source decides who
sees what, and returns nothing when all is well."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aftersales.roles import in_group


@dataclass(frozen=True)
class QueueCounts:
    """What a queue holds now: ``waiting`` in all, of which ``due_today`` (before the day ends, not yet late)
    and ``overdue`` (past its due time). None: the queue has no such time."""

    waiting: int
    due_today: int | None = None
    overdue: int | None = None


@dataclass(frozen=True)
class HomeQueue:
    """A tile on the home page, for the users in one of ``groups`` (a superuser sees them all). ``url()`` is
    where the tile leads, ``counts(request)`` a ``QueueCounts``; ``order`` ranks the tiles (lower first)."""

    name: str
    title: str
    url: Callable
    counts: Callable
    groups: tuple[str, ...]
    order: int = 100
    description: str = ""


_QUEUES: dict[str, HomeQueue] = {}


def register_home_queue(queue: HomeQueue) -> None:
    """Adds a tile to the home page. The same name again replaces the first."""
    _QUEUES[queue.name] = queue


def queues_for(request) -> list[dict]:
    """The tiles ``request.user`` sees, first first, each with its counts."""
    tiles = []
    for queue in sorted(_QUEUES.values(), key=lambda q: (q.order, q.name)):
        if in_group(request.user, *queue.groups):
            tiles.append({"name": queue.name, "title": queue.title, "description": queue.description,
                          "url": queue.url(), "counts": queue.counts(request)})
    return tiles


@dataclass(frozen=True)
class Notice:
    """One line above the tiles: ``title`` links to ``url``; ``since`` (shown in the reader's zone) and
    ``detail`` say when and why."""

    title: str
    url: str
    detail: str = ""
    since: datetime | None = None


@dataclass(frozen=True)
class HomeNotices:
    """A part's source of notices: ``notices(request)`` returns the ``Notice`` list for ``request.user``
    (empty when there is nothing to say, or the user may not act on it); ``order`` ranks the sources."""

    name: str
    notices: Callable
    order: int = 100


_NOTICES: dict[str, HomeNotices] = {}


def register_home_notices(source: HomeNotices) -> None:
    """Adds a source of notices to the home page. The same name again replaces the first."""
    _NOTICES[source.name] = source


def notices_for(request) -> list[Notice]:
    """The notices ``request.user`` sees, source by source in order."""
    return [notice for source in sorted(_NOTICES.values(), key=lambda s: (s.order, s.name))
            for notice in source.notices(request)]
