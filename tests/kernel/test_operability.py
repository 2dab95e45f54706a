"""Operable in production (issue #14): JSON log lines that carry the request id, into the Celery tasks the
request queues; one access-log line per request without secrets; Prometheus metrics at /metrics for the
bearer of METRICS_TOKEN only; what a management command or a task changes names it in the history."""

import datetime as dt
import io
import json
import logging
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from django.core.cache import cache
from django.core.management import call_command, get_commands, load_command_class
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aftersales import clock, history_context
from aftersales.logs import JsonLogFormatter, RequestContextFilter
from aftersales.management.base import RecordedCommand
from demo import journeys
from refunds.models import Refund
from tests.api_helpers import API, pending
from tests.factories import client_for, make_order, submit
from tickets.models import Ticket
from tickets.tasks import run_deadlines_task

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
TOKEN = "scrape-secret-0123456789"
pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    """What the root logger writes, as JSON objects, through the production formatter and filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    lines = []

    def read() -> list[dict]:
        lines[:] = [json.loads(line) for line in stream.getvalue().splitlines()]
        return lines

    try:
        yield read
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def access_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "aftersales.access"]


# -------------------------------------------------------------------------------------------------- logs


@pytest.mark.parametrize(("debug", "json_expected"), [("0", True), ("1", False)])
def test_log_lines_are_json_in_production_and_text_in_the_demo(debug, json_expected):
    script = ("import django, logging; django.setup(); "
              "from aftersales.logs import REQUEST_ID; REQUEST_ID.set('rid-0123456789'); "
              "logging.getLogger('tickets.deadlines').warning('sweep slow')")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": debug, "SECRET_KEY": "x"}
    env.pop("LOG_FORMAT", None)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=True)

    last = done.stderr.strip().splitlines()[-1]
    if json_expected:
        line = json.loads(last)
        assert {key: line[key] for key in ("level", "logger", "message", "request_id")} == {
            "level": "WARNING", "logger": "tickets.deadlines", "message": "sweep slow",
            "request_id": "rid-0123456789"}
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", line["timestamp"])
    else:
        assert last.endswith("WARNING tickets.deadlines [rid-0123456789] sweep slow"), last


def test_one_access_line_per_request_with_route_status_duration_user_and_request_id(log_lines, buyer, staff):
    ticket = pending(buyer)
    client = client_for(staff["ops"])

    response = client.get(f"{API}/staff/tickets/{ticket.ticket_no}/", HTTP_X_REQUEST_ID="req-access-0001")

    assert response.status_code == 200
    [line] = access_lines(log_lines())
    assert {key: line[key] for key in ("level", "method", "route", "path", "status", "user_id", "request_id")} == {
        "level": "INFO", "method": "GET", "route": "api/v1/staff/tickets/<str:ticket_no>/",
        "path": f"/api/v1/staff/tickets/{ticket.ticket_no}/", "status": 200, "user_id": staff["ops"].pk,
        "request_id": "req-access-0001"}
    assert line["duration_ms"] >= 0 and "timestamp" in line


def test_the_access_log_never_holds_a_password_or_a_token(log_lines, buyer):
    buyer.user.set_password("hunter2-secret")
    buyer.user.save()
    client = Client()

    token = client.post(f"{API}/auth/token/", {"username": buyer.user.username, "password": "hunter2-secret"},
                        content_type="application/json").json()["token"]
    client.get(f"{API}/tickets/?cursor=x", HTTP_AUTHORIZATION=f"Token {token}")

    written = json.dumps(log_lines())
    assert len(access_lines(log_lines())) == 2
    assert "hunter2-secret" not in written and token not in written and "cursor=x" not in written


def test_probes_are_not_in_the_access_log_at_info(log_lines):
    Client().get("/health/live")
    Client().get("/metrics")

    assert access_lines(log_lines()) == []


def test_an_unmatched_path_is_logged_with_the_unmatched_route(log_lines):
    Client().get("/api/v1/no/such/thing/")

    [line] = access_lines(log_lines())
    assert (line["route"], line["status"], line["user_id"]) == ("unmatched", 404, None)


@pytest.mark.django_db(transaction=True)  # the task runs on commit, as in the demo
def test_a_task_run_eagerly_by_a_request_logs_and_records_with_the_requests_id(log_lines, buyer, staff):
    """Eager mode (the tests, the demo) as a worker: the refund task the finance approval queues logs with the
    request's id, its name and its id, and its history rows carry the task and the request id."""
    ticket = journeys.advance(pending(buyer, type="refund_only"), Ticket.Status.AWAITING_REFUND, staff=staff)

    response = client_for(staff["finance"]).post(f"{API}/finance/tickets/{ticket.ticket_no}/approve/", {},
                                                  format="json", HTTP_X_REQUEST_ID="req-finance-0042")

    assert response.status_code == 200
    task_lines = [line for line in log_lines() if line.get("task_name") == "refunds.tasks.execute_refund_task"]
    assert task_lines and all(line["request_id"] == "req-finance-0042" and line["task_id"] for line in task_lines)
    refund = Refund.objects.get(ticket=ticket)
    assert refund.status == Refund.Status.SUCCEEDED
    by_task = refund.history.filter(pgh_context__metadata__task="refunds.tasks.execute_refund_task")
    assert by_task.exists()
    assert {event.pgh_context.metadata["request_id"] for event in by_task} == {"req-finance-0042"}
    # The request's own rows, before and after the task ran, name the finance user.
    assert refund.history.filter(pgh_context__metadata__username="finance1").exists()


@pytest.mark.django_db(transaction=True)  # the sweep's threads read what is committed
def test_a_task_outside_any_request_gets_an_id_of_its_own(buyer, staff):
    """As beat's are: nobody's request id, a new one."""
    ticket = journeys.advance(submit(make_order(buyer=buyer)), Ticket.Status.AWAITING_RETURN, staff=staff)
    passed = clock.now() - dt.timedelta(minutes=1)
    Ticket.objects.filter(pk=ticket.pk).update(return_deadline=passed, next_deadline_at=passed)

    run_deadlines_task.apply()

    event = ticket.history.order_by("-pgh_created_at", "-pgh_id").first()
    metadata = event.pgh_context.metadata
    assert metadata["task"] == "tickets.tasks.run_deadlines_task"
    assert re.fullmatch(r"[0-9a-f]{32}", metadata["request_id"])


# --------------------------------------------------------------------------------------------- history context


def test_a_context_begun_inside_another_gives_way_to_it_when_it_ends(buyer):
    """A task run eagerly inside a request: the request's context is back once the task is done."""
    ticket = pending(buyer)

    def touch(note: str) -> dict | None:
        Ticket.objects.filter(pk=ticket.pk).update(fee_reason=note)
        event = ticket.history.order_by("-pgh_created_at", "-pgh_id").first()
        return event.pgh_context.metadata if event.pgh_context_id else None

    history_context.begin(username="ops1")
    try:
        assert touch("a") == {"username": "ops1"}
        history_context.begin(task="tickets.tasks.run_deadlines_task")
        assert touch("b") == {"task": "tickets.tasks.run_deadlines_task"}
        history_context.end()
        assert touch("c") == {"username": "ops1"}
    finally:
        history_context.end()
    assert touch("d") is None


@pytest.mark.django_db(transaction=True)
def test_a_connection_opened_during_the_work_takes_its_context():
    """Celery closes the database connection before each task: the one the task opens has the context."""
    history_context.begin(task="tickets.tasks.run_deadlines_task")
    try:
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('pghistory.context_metadata', true)")
            assert json.loads(cursor.fetchone()[0]) == {"task": "tickets.tasks.run_deadlines_task"}
    finally:
        history_context.end()


# --------------------------------------------------------------------------------------------- commands


def our_commands() -> dict[str, str]:
    parts = {"aftersales", "orders", "reasons", "policies", "tickets", "refunds", "warehouse", "events", "demo"}
    return {name: app for name, app in get_commands().items() if app in parts}


def test_every_command_of_ours_records_its_name_in_the_history():
    commands = our_commands()
    assert {"reconcile_refunds", "run_deadlines", "seed_demo", "import_orders"} <= set(commands)
    for name, app in commands.items():
        command = load_command_class(app, name)
        assert isinstance(command, RecordedCommand), name
        assert command.command_name() == name


def test_a_change_by_a_command_names_the_command_in_the_history_and_on_the_ticket_page(buyer, staff):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), Ticket.Status.AWAITING_RETURN, staff=staff)

    call_command("run_deadlines", "--now", (ticket.return_deadline + dt.timedelta(minutes=1)).isoformat(),
                 stdout=io.StringIO())

    event = ticket.history.order_by("-pgh_created_at", "-pgh_id").first()
    assert event.status == Ticket.Status.CLOSED
    assert event.pgh_context.metadata["command"] == "run_deadlines"
    browser = Client()
    browser.force_login(staff["ops"])
    html = browser.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    assert "command run_deadlines · changed" in html
    # Times in what changed are in the zone the rows' own times are shown in (Asia/Shanghai), not UTC.
    local = timezone.localtime(ticket.return_deadline).strftime("%Y-%m-%d %H:%M")
    assert f"return deadline: — → {local}" in html


@pytest.mark.django_db(transaction=True)
def test_the_sweeps_threads_record_the_command_too(buyer, staff):
    """run_deadlines --workers 2: each thread has its own connection, and the command's context."""
    tickets = [journeys.advance(submit(make_order(buyer=buyer)), Ticket.Status.AWAITING_RETURN, staff=staff)
               for _ in range(4)]
    passed = clock.now() - dt.timedelta(minutes=1)
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(return_deadline=passed, next_deadline_at=passed)

    call_command("run_deadlines", "--workers", "2", stdout=io.StringIO())

    for ticket in tickets:
        event = ticket.history.order_by("-pgh_created_at", "-pgh_id").first()
        assert event.status == Ticket.Status.CLOSED
        assert event.pgh_context is not None and event.pgh_context.metadata["command"] == "run_deadlines"


# --------------------------------------------------------------------------------------------- metrics


def scrape(client=None, token=TOKEN) -> str:
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def sample(text: str, name: str, **labels) -> float | None:
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN
    cache.delete_many(["metrics:tickets", "metrics:refunds", "metrics:webhooks"])
    yield
    cache.delete_many(["metrics:tickets", "metrics:refunds", "metrics:webhooks"])


def test_metrics_answer_404_without_a_token_set_and_to_a_missing_or_wrong_token(settings):
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404

    settings.METRICS_TOKEN = TOKEN
    assert Client().get("/metrics").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Token {TOKEN}").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer \u00e9t\u00e9").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_requests_are_counted_by_route_pattern_and_status_with_their_latency(metrics_on, buyer, staff):
    tickets = [pending(buyer), pending(buyer)]
    client = client_for(staff["ops"])
    route = "api/v1/staff/tickets/<str:ticket_no>/"
    before = scrape()
    count_before = sample(before, "aftersales_http_requests_total", method="GET", route=route, status="200") or 0
    missing_before = sample(before, "aftersales_http_requests_total", method="GET", route=route, status="404") or 0
    latency_before = sample(before, "aftersales_http_request_duration_seconds_count", method="GET", route=route) or 0

    for ticket in tickets:
        client.get(f"{API}/staff/tickets/{ticket.ticket_no}/")
    client.get(f"{API}/staff/tickets/AS-NO-SUCH-TICKET/")

    after = scrape()
    assert sample(after, "aftersales_http_requests_total", method="GET", route=route, status="200") == count_before + 2
    assert sample(after, "aftersales_http_requests_total", method="GET", route=route, status="404") == missing_before + 1
    assert sample(after, "aftersales_http_request_duration_seconds_count", method="GET", route=route) == latency_before + 3
    assert tickets[0].ticket_no not in after and "AS-NO-SUCH-TICKET" not in after  # the pattern, never the path


def test_tickets_by_status_and_due_match_the_database(metrics_on, buyer, staff):
    now = clock.now()
    overdue, soon, later = pending(buyer), pending(buyer), pending(buyer)
    journeys.advance(pending(buyer), Ticket.Status.REJECTED, staff=staff)
    hour = dt.timedelta(hours=1)
    Ticket.objects.filter(pk=overdue.pk).update(next_deadline_at=now - hour)
    Ticket.objects.filter(pk=soon.pk).update(next_deadline_at=now + hour / 2)
    Ticket.objects.filter(pk=later.pk).update(next_deadline_at=now + hour * 2)

    text = scrape()

    for status in Ticket.Status.values:
        assert sample(text, "aftersales_tickets", status=status) == Ticket.objects.filter(status=status).count()
    assert sample(text, "aftersales_tickets", status="pending_review") == 3
    assert sample(text, "aftersales_tickets", status="rejected") == 1
    assert sample(text, "aftersales_tickets_due", when="overdue") == 1
    assert sample(text, "aftersales_tickets_due", when="next_hour") == 1
    for status in Refund.Status.values:
        assert sample(text, "aftersales_refunds", status=status) == 0


def test_refunds_by_status_match_the_database(metrics_on, buyer, staff):
    journeys.advance(pending(buyer, type="refund_only"), Ticket.Status.COMPLETED, staff=staff)

    text = scrape()

    assert sample(text, "aftersales_refunds", status="succeeded") == 1 == Refund.objects.count()
    assert sample(text, "aftersales_refunds", status="pending") == 0


def test_webhook_figures_match_the_database(metrics_on, buyer, staff):
    from events.models import Delivery
    from events.outbox import sequence
    from events.services import register_endpoint

    shop = pending(buyer).shop  # one event, not yet sequenced (no commit ran its hook)
    text = scrape()
    assert sample(text, "aftersales_webhooks_unsequenced") == 1
    assert sample(text, "aftersales_webhooks_pending") == 0

    cache.delete("metrics:webhooks")
    register_endpoint(shop=shop, url="https://93.184.215.14/hooks")  # a public address; nothing is sent here
    sequence()
    Delivery.objects.update(created_at=clock.now() - dt.timedelta(minutes=10))
    text = scrape()

    assert sample(text, "aftersales_webhooks_unsequenced") == 0
    assert sample(text, "aftersales_webhooks_pending") == 1
    assert 590 <= sample(text, "aftersales_webhooks_oldest_pending_seconds") <= 700
    assert sample(text, "aftersales_webhooks_disabled") == 0


def test_database_figures_are_read_once_per_cache_period(metrics_on, buyer, django_assert_num_queries):
    pending(buyer)
    scrape()
    pending(buyer)

    with django_assert_num_queries(0):
        text = scrape()

    assert sample(text, "aftersales_tickets", status="pending_review") == 1  # the figure of the first scrape


def test_queue_length_is_read_from_redis(metrics_on, settings):
    queue = f"test-metrics-{uuid.uuid4().hex[:8]}"
    settings.CELERY_BROKER_URL, settings.CELERY_TASK_DEFAULT_QUEUE = REDIS_URL, queue
    client = redis.Redis.from_url(REDIS_URL)
    client.rpush(queue, "a", "b", "c")
    client.rpush(f"{queue}\x06\x163", "d")  # a message sent with priority 3
    try:
        text = scrape()
    finally:
        client.delete(queue, f"{queue}\x06\x163")

    assert sample(text, "aftersales_celery_queue_length", queue=queue) == 4


def test_redis_down_leaves_the_queue_length_out_and_the_scrape_answers(metrics_on, settings, buyer):
    pending(buyer)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there

    text = scrape()

    assert "aftersales_celery_queue_length" not in text
    assert sample(text, "aftersales_tickets", status="pending_review") == 1
