"""The top of the house: settings, urls, wsgi, asgi and the Celery app compose the parts below."""

from config.celery_app import app as celery_app

__all__ = ["celery_app"]
