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


@pytest.mark.slow
def test_the_demo_server_without_redis_closes_a_ticket_when_its_deadline_passes(staff, buyer, tmp_path):
    """`manage.py runserver` as the demo runs it (no REDIS_URL), in its own process: nobody runs a command."""
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    ticket = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_RETURN, staff=staff)
    deadline = clock.now() + dt.timedelta(seconds=5)
    Ticket.objects.filter(pk=ticket.pk).update(return_deadline=deadline, next_deadline_at=deadline)
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update_or_create(name="Deadline sweep (close, auto-confirm, escalate)", defaults={
        "task": "tickets.tasks.run_deadlines_task", "interval": every_second, "enabled": True})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db = connection.settings_dict
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "IN_PROCESS_BEAT")}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": "demo-test", "DEBUG": "1",
                "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"})
    log = tmp_path / "runserver.log"
    with open(log, "w") as out:
        server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                                  cwd=Path(__file__).resolve().parents[2], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: status_of(ticket) == S.CLOSED or server.poll() is not None, 60), log.read_text()
    finally:
        server.terminate()
        server.wait(timeout=20)
        connection.close()
    assert status_of(ticket) == S.CLOSED, log.read_text()[-3000:]
    close = Ticket.objects.get(pk=ticket.pk).events.get(transition="close")
    assert close.actor is None and close.at > deadline
    assert "in-process beat started" in log.read_text() or "beat: Starting" in log.read_text()
