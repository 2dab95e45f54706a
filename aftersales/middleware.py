"""Every request carries an id: taken from the proxy's X-Request-ID when it looks like one, made here
otherwise; sent back in the response, written in the logs, quoted by the last-resort error page, and
passed on to the Celery tasks the request queues (aftersales.celery)."""

import re
import uuid
from contextvars import ContextVar

from aftersales import history_context

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="")
_SAFE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str:
    return REQUEST_ID.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request.request_id = given if _SAFE.match(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            REQUEST_ID.reset(token)
        response["X-Request-ID"] = request.request_id
        return response


class HistoryContextMiddleware:
    """A request that may write records its user, path and id in the history rows it causes."""

    WRITES = ("POST", "PUT", "PATCH", "DELETE")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in self.WRITES:
            return self.get_response(request)
        user = getattr(request, "user", None)
        who = {"user": user.pk, "username": user.get_username()} if user is not None and user.is_authenticated else {}
        history_context.begin(**who, url=request.path, request_id=getattr(request, "request_id", ""))
        try:
            return self.get_response(request)
        finally:
            history_context.end()


class PermissionsPolicyMiddleware:
    """The back office uses no camera, microphone, location, payment or USB: browsers are told so, and a
    script slipped into a page could not ask for them either."""

    POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.POLICY)
        return response
