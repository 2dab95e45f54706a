"""Staff logins that resist guessing (django-axes, counted in the database so Redis down changes nothing).

Two limits (settings: LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURES_PER_ADDRESS, LOGIN_LOCKOUT_MINUTES):
the Nth wrong password for one account from one address locks that account at that address; failures
from one address over all accounts together (a spray) lock the address. The admin login and the API's
token endpoint authenticate through the same backend, so both count and both are refused.
"""

import ipaddress
import math

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.db.models import Q, Sum
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aftersales.api import error_body
from aftersales.errors import LockedOut, NotAllowed


def lockout_minutes() -> int:
    cool_off = get_cool_off()
    return math.ceil(cool_off.total_seconds() / 60) if cool_off else 0


class LockoutHandler(AxesDatabaseHandler):
    """Axes compares one count with one limit (AXES_FAILURE_LIMIT, the per-account one): the address's
    count over every account is scaled into the same units, so it reaches that limit exactly when it
    reaches LOGIN_FAILURES_PER_ADDRESS."""

    def get_failures(self, request, credentials=None) -> int:
        recent = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
        cool_off = get_cool_off(request)
        if cool_off:
            recent = recent.filter(attempt_time__gte=request.axes_attempt_time - cool_off)
        username = get_client_username(request, credentials)
        counts = recent.aggregate(address=Sum("failures_since_start"),
                                  account=Sum("failures_since_start", filter=Q(username=username)))
        per_account, per_address = settings.AXES_FAILURE_LIMIT, max(1, settings.LOGIN_FAILURES_PER_ADDRESS)
        return max(counts["account"] or 0, (counts["address"] or 0) * per_account // per_address)

    def user_logged_in(self, sender, request, user, **kwargs):
        """Whoever knew the password forgets their own slips at this address; the address keeps
        counting the other accounts' failures (a spray is not wiped by one account that works)."""
        super().user_logged_in(sender, request, user, **kwargs)
        AccessAttempt.objects.filter(username=user.get_username(), ip_address=request.axes_ip_address).delete()


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a locked-out login before the password is checked (axes). Without a request (the test
    client's ``login()``, a shell) there is no address to count from: the next backend decides alone.
    Every login over HTTP (the admin's form, the API's token endpoint) passes its request."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_address(request) -> str | None:
    """The client's address as the deployment sees it: the peer (REMOTE_ADDR), or behind
    LOGIN_TRUSTED_PROXIES reverse proxies the address the outermost one saw, read from the right of
    X-Forwarded-For (what a client writes further left is not believed). Never something that is not an
    address: the attempt is stored in an address column."""
    peer = request.META.get("REMOTE_ADDR")
    proxies = settings.LOGIN_TRUSTED_PROXIES
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= proxies and forwarded[-proxies]:
            peer = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(peer))
    except ValueError:
        return None


def attempted_username(request, credentials=None) -> str | None:
    """The account name as typed, made storable whatever was sent: at most the column's 255 characters,
    no NUL (PostgreSQL refuses it), no lone surrogate."""
    if credentials:
        username = credentials.get("username")
    else:
        username = getattr(request, "data", request.POST).get("username")
    if username is None:
        return None
    text = str(username).encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    return text[:255]


def locked_out_message() -> str:
    minutes = lockout_minutes()
    return ngettext(
        "Too many failed logins: this login is locked. Try again in %(minutes)d minute, or ask an administrator"
        " to unlock it.",
        "Too many failed logins: this login is locked. Try again in %(minutes)d minutes, or ask an administrator"
        " to unlock it.", minutes) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out login gets: under /api/ the API's error shape, elsewhere a page in the admin's look
    saying what happened and what to do. 429 with Retry-After either way."""
    minutes = lockout_minutes()
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(LockedOut.code, locked_out_message()), status=LockedOut.status)
    else:
        context = {**admin.site.each_context(request), "title": _("Too many failed logins"), "minutes": minutes,
                   "username": attempted_username(request, credentials) or ""}
        response = render(request, "admin/locked_out.html", context, status=LockedOut.status)
    if minutes:
        response["Retry-After"] = str(minutes * 60)
    return response


def can_unlock(user) -> bool:
    return user.is_active and (user.is_superuser or user.has_perm("axes.delete_accessattempt"))


def unlock_logins(*, usernames: list[str], actor) -> int:
    """Lift the lockout of these accounts at every address (their failed attempts are forgotten).
    Returns how many attempt records were removed."""
    if not can_unlock(actor):
        raise NotAllowed(_("Only an administrator may unlock logins."))
    removed, _by_model = AccessAttempt.objects.filter(username__in=list(usernames)).delete()
    return removed
