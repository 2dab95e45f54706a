"""The demo without Redis runs its deadlines: `runserver` starts celery beat's own scheduler in a thread
(aftersales.scheduler), on the schedules in django-celery-beat's tables, and the tasks run in-process."""

import datetime as dt
import threading
import time

import pytest
import time_machine
from celery.signals import task_postrun
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from aftersales import clock, scheduler
from demo import journeys
from tests.factories import make_order, submit
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)
S = Ticket.Status


def wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def status_of(ticket: Ticket) -> str:
    return Ticket.objects.values_list("status", flat=True).get(pk=ticket.pk)


def test_a_ticket_a_minute_from_its_deadline_is_closed_by_the_in_process_scheduler(staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_RETURN, staff=staff)
    deadline = clock.now() + dt.timedelta(minutes=1)
    Ticket.objects.filter(pk=ticket.pk).update(return_deadline=deadline, next_deadline_at=deadline)
    # The sweep's schedule is a row (the admin's Periodic tasks), here every second.
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update_or_create(name="Deadline sweep (close, auto-confirm, escalate)", defaults={
        "task": "tickets.tasks.run_deadlines_task", "interval": every_second, "enabled": True})
    PeriodicTask.objects.exclude(task="tickets.tasks.run_deadlines_task").update(enabled=False)

    sweeps = []

    def count_sweeps(sender=None, **kwargs):
        if sender is not None and sender.name == "tickets.tasks.run_deadlines_task":
            sweeps.append(threading.current_thread().name)

    task_postrun.connect(count_sweeps, weak=False)
    beat = scheduler.InProcessBeat(max_interval=0.5)
    beat.start()
    try:
        # It ticks and the sweep runs, in the scheduler's thread; a minute early it leaves the ticket alone.
        assert wait_for(lambda: len(sweeps) >= 2, 20)
        assert set(sweeps) == {"in-process-beat"}
        assert status_of(ticket) == S.AWAITING_RETURN

        with time_machine.travel(deadline + dt.timedelta(seconds=5)):  # the minute passes, nobody runs anything
            assert wait_for(lambda: status_of(ticket) == S.CLOSED, 20)
    finally:
        beat.stop()
        task_postrun.disconnect(count_sweeps)
        connection.close()
    assert not beat.is_alive()
    close = Ticket.objects.get(pk=ticket.pk).events.get(transition="close")
    assert close.actor is None and close.actor_role == "system"


def test_runserver_starts_it_only_in_the_serving_process_and_only_without_redis(monkeypatch, settings):
    monkeypatch.delenv("RUN_MAIN", raising=False)
    assert not scheduler.serving_with_runserver(["manage.py", "runserver"])  # the reloader's parent
    assert scheduler.serving_with_runserver(["manage.py", "runserver", "--noreload"])
    assert not scheduler.serving_with_runserver(["manage.py", "migrate"])
    monkeypatch.setenv("RUN_MAIN", "true")
    assert scheduler.serving_with_runserver(["manage.py", "runserver", "0.0.0.0:8000"])

    settings.IN_PROCESS_BEAT = False  # with Redis: worker and `celery beat` do it (docker-compose.yml)
    assert scheduler.start_for_runserver(["manage.py", "runserver"]) is None
