"""Logs operators can search: one JSON object per line in production (LOG_FORMAT=json, the default with DEBUG
off), short text lines in the demo (LOG_FORMAT=text). Every line carries the request id of the work it
belongs to; a line written inside a Celery task also carries the task's name and id, and the id of the
request that queued it (config.celery_app), so one search finds a request and everything it set off.

Imported by the logging configuration at startup, before the apps are loaded: this module imports no app
and nothing that does."""

import logging
from contextvars import ContextVar

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

# The id of the request being served, or of the task's originating request (aftersales.middleware,
# config.celery_app). Empty outside both.
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="")
# (task name, task id) while a Celery task runs, in a worker or eagerly.
TASK: ContextVar[tuple[str, str] | None] = ContextVar("task", default=None)


class RequestContextFilter(logging.Filter):
    """Puts the request id, and inside a task its name and id, on every record (on the handler, so records
    of every logger, Django's and Celery's too, pass through it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a response's error (django.request) once the middleware has handed the response back,
        # and names the request on the record.
        record.request_id = REQUEST_ID.get() or getattr(getattr(record, "request", None), "request_id", None)
        task = TASK.get()
        if task is not None:
            record.task_name, record.task_id = task
        return True


class JsonLogFormatter(JsonFormatter):
    """One JSON object per record: timestamp (UTC, ISO 8601), level, logger, message, request_id, and
    task_name/task_id in a task; any `extra` given to the call comes along (the access log's fields), but
    not the request object Django's own lines carry: its text holds the query string."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request"])
        kwargs.setdefault("fmt", ["levelname", "name", "message"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", True)
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)


class TextLogFormatter(logging.Formatter):
    """For people reading a terminal (the demo): time, level, logger, [request id], message."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(context)s%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = [getattr(record, "request_id", None), getattr(record, "task_name", None)]
        record.context = "".join(f"[{part}] " for part in ids if part)
        return super().format(record)


def logging_config(*, log_format: str, level: str) -> dict:
    """The LOGGING setting: one console handler with the format asked for."""
    formatter = {"()": JsonLogFormatter} if log_format == "json" else {"()": TextLogFormatter}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": RequestContextFilter}},
        "formatters": {"default": formatter},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "default",
                                 "filters": ["request_context"]}},
        "root": {"handlers": ["console"], "level": level},
        # runserver's own line per request (the demo) would repeat the access log's: its warnings only.
        "loggers": {"django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False}},
    }
