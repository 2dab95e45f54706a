"""Every request carries an id: taken from the proxy's X-Request-ID when it looks like one, made here
otherwise; sent back in the response, written in the logs, quoted by the last-resort error page, and
passed on to the Celery tasks the request queues (config.celery_app)."""

import logging
import re
import time
import uuid

from csp.constants import NONE, UNSAFE_INLINE
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.utils.functional import empty

from aftersales import history_context, metrics
from aftersales.logs import REQUEST_ID

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


access_log = logging.getLogger("aftersales.access")


class AccessMiddleware:
    """One line in the access log and one observation in the metrics per request: method, route (the URL
    pattern, so /metrics has a bounded number of series), path, status, duration, the user's id if any
    (aftersales.logs adds the request id). Never a header, a body or a query string: they may hold
    passwords and tokens. Probes (/health/..., /metrics) are logged at DEBUG: at INFO they would drown the
    rest."""

    QUIET = ("/health/", "/metrics")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        route = metrics.route_of(request)
        metrics.observe_request(method=request.method, route=route, status=response.status_code, seconds=seconds)
        level = logging.DEBUG if request.path.startswith(self.QUIET) else logging.INFO
        if access_log.isEnabledFor(level):
            duration_ms = round(seconds * 1000, 1)
            access_log.log(level, "%s %s %s %.1f ms", request.method, request.path, response.status_code,
                           duration_ms, extra={"method": request.method, "route": route, "path": request.path,
                                               "status": response.status_code, "duration_ms": duration_ms,
                                               "user_id": _user_id(request)})
        return response


def _user_id(request) -> int | None:
    """The id of the user the request was served for; the session is not read only to say so."""
    user = getattr(request, "user", None)
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if user.is_authenticated else None


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


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware (the policy is in settings: CONTENT_SECURITY_POLICY, or
    CONTENT_SECURITY_POLICY_REPORT_ONLY when only reported), with two rules of ours.

    A page (HTML) gets the settings' policy, always with a fresh nonce: every page's policy reads the same
    whether or not something on it (rangefilter's inline script) asked for the nonce, and a nonce no tag
    carries allows nothing. Anything else (JSON, photos, the schema, scripts) is never meant to be a
    page of ours, so it may load nothing and nobody may frame it; only the browser's own viewer of a photo
    or of JSON opened in a tab styles it inline (GitHub's raw files are served the same way)."""

    NOT_A_PAGE = {"default-src": [NONE], "style-src": [UNSAFE_INLINE], "frame-ancestors": [NONE]}

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY",
                         None)
        if not policy:
            return parts
        if response.get("Content-Type", "").startswith("text/html"):
            parts.nonce = self._make_nonce(request)
        elif parts.config is None:  # a view's own policy (django-csp's @csp) is kept
            report_uri = policy.get("DIRECTIVES", {}).get("report-uri")
            parts.config = {**self.NOT_A_PAGE, "report-uri": report_uri}
            parts.update = parts.replace = None
        return parts
