"""The periodic tasks without Redis (the demo): Celery beat's own service in a daemon thread of this process.

With no REDIS_URL there is no broker, no worker and no `celery beat`, and tasks run in-process
(CELERY_TASK_ALWAYS_EAGER). The deadline sweep and the other periodic tasks must still run: this thread
ticks the same scheduler `celery beat` uses (django-celery-beat's DatabaseScheduler, CELERY_BEAT_SCHEDULER),
so the schedules are the same rows, editable in the admin (Periodic tasks), and a due task runs right here,
eagerly. `manage.py runserver` starts it (aftersales.apps) when IN_PROCESS_BEAT is on, which it is by default
without Redis; docker-compose runs a worker and `celery beat` on Redis instead.

Only one process should run it (two would run each task twice; every task is safe to run twice, but
there is no point): the development server is one process."""

import logging
import os
import sys
import threading

from celery import current_app
from celery.beat import Service
from django.conf import settings
from django.db import connections

log = logging.getLogger(__name__)
_started: "InProcessBeat | None" = None


class InProcessBeat(threading.Thread):
    """Celery beat's service on a daemon thread: ``max_interval`` seconds at most between two looks at the
    schedule (schedules shorter than that are run late, not skipped)."""

    def __init__(self, *, max_interval: float = 5.0):
        super().__init__(name="in-process-beat", daemon=True)
        self.app = current_app._get_current_object()
        self.service = Service(self.app, max_interval=max_interval, scheduler_cls=settings.CELERY_BEAT_SCHEDULER)

    def run(self) -> None:
        self.app.set_current()
        try:
            # The tasks' modules, as a worker imports them at start: beat runs a task it knows eagerly, and
            # would only send one it does not know to a broker nobody reads.
            self.app.loader.import_default_modules()
            self.service.start()
        except Exception:  # the thread must not die silently: say why the periodic tasks stopped
            log.exception("in-process beat stopped")
        finally:
            connections.close_all()

    def stop(self, timeout: float = 30.0) -> None:
        self.service.stop(wait=False)
        self.join(timeout)


def serving_with_runserver(argv: list[str]) -> bool:
    """True in the process that serves requests for `manage.py runserver` (the autoreloader's child, or
    the one process with --noreload), False in the reloader's watching parent and for any other command."""
    if len(argv) < 2 or argv[1] != "runserver":
        return False
    return os.environ.get("RUN_MAIN") == "true" or "--noreload" in argv


def start_for_runserver(argv: list[str] | None = None) -> "InProcessBeat | None":
    """Start the in-process beat once, if this process serves `runserver` and IN_PROCESS_BEAT is on."""
    global _started
    if _started is not None or not getattr(settings, "IN_PROCESS_BEAT", False):
        return _started
    if not serving_with_runserver(sys.argv if argv is None else argv):
        return None
    _started = InProcessBeat()
    _started.start()
    log.info("in-process beat started: periodic tasks run in this process (no Redis)")
    return _started
