import logging.config
import os
import uuid

from celery import Celery
from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun
from django.conf import settings

from aftersales import history_context
from aftersales.logs import REQUEST_ID, TASK

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("aftersales")  # the name workers and beat announce; settings: config.settings
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

REQUEST_ID_HEADER = "request_id"


@setup_logging.connect
def _django_logging(**kwargs):
    """Workers and beat log as the web does (settings.LOGGING: JSON lines with the request id), not in
    Celery's own format: with a receiver here, Celery leaves the logging configuration alone."""
    logging.config.dictConfig(settings.LOGGING)


@before_task_publish.connect
def _send_request_id(headers=None, **kwargs):
    """A task queued while a request (or a task, a command) runs carries that request's id to the worker."""
    request_id = REQUEST_ID.get()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


def _request_id_of(task) -> str:
    """The id the task's work belongs to: the one its message carries, the one of the request it runs
    in (eagerly: the tests, the demo), or a new one (beat sent it, or nobody in particular did)."""
    request = task.request
    sent = getattr(request, REQUEST_ID_HEADER, None) or (request.headers or {}).get(REQUEST_ID_HEADER)
    return str(sent or REQUEST_ID.get() or uuid.uuid4().hex)


_tokens: dict[str, tuple] = {}


@task_prerun.connect
def _task_context_begin(task_id=None, task=None, **kwargs):
    """While a task runs, its log lines carry its name, its id and its request id, and what it changes
    carries the same in the history (aftersales.history_context)."""
    request_id = _request_id_of(task)
    _tokens[task_id] = (REQUEST_ID.set(request_id), TASK.set((task.name, task_id)))
    history_context.begin(task=task.name, task_id=task_id, request_id=request_id)


@task_postrun.connect
def _task_context_end(task_id=None, **kwargs):
    history_context.end()
    tokens = _tokens.pop(task_id, None)
    if tokens is not None:
        REQUEST_ID.reset(tokens[0])
        TASK.reset(tokens[1])
