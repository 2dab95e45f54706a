import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

from aftersales import history_context

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")

app = Celery("aftersales")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _history_context_begin(task_id=None, task=None, **kwargs):
    """What a task changes carries its name in the history (aftersales.history_context)."""
    history_context.begin(task=task.name, task_id=task_id)


@task_postrun.connect
def _history_context_end(**kwargs):
    history_context.end()
