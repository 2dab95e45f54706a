"""Two-factor for staff (django-otp: an authenticator app's TOTP codes, and backup codes).

Any staff user may set it up (admin: "Two-factor"); with STAFF_2FA_REQUIRED the finance group and
superusers must. Who has set it up gives a code at every login, in the admin and at the API's token
endpoint. Who must but has not is sent to the setup page after the password and can use nothing else.
"""

import math
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.http import HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from aftersales.api import error_body
from aftersales.errors import FieldInvalid, FieldRequired, TwoFactorSetupRequired
from aftersales.roles import FINANCE, in_group

APP_NAME = "Authenticator app"
BACKUP_CODES = 8

# ------------------------------------------------------------------------------------------------ the rules


def required_for(user) -> bool:
    """The setting makes it compulsory for finance and superusers (in_group: superusers hold every role)."""
    return bool(settings.STAFF_2FA_REQUIRED) and in_group(user, FINANCE)


def has_device(user) -> bool:
    return user.is_authenticated and user_has_device(user, confirmed=True)


def _request_has_device(request) -> bool:
    """Asked by the middleware and then the admin site: once per request."""
    if not hasattr(request, "_two_factor_device"):
        request._two_factor_device = has_device(request.user)
    return request._two_factor_device


def needs_setup(request) -> bool:
    user = request.user
    return user.is_authenticated and required_for(user) and not _request_has_device(request)


def satisfied(request) -> bool:
    """The session may act: it gave a code at login, or the account has no second factor to give (and
    needs none yet: who must set one up is sent to do so by the middleware)."""
    user = request.user
    if not user.is_authenticated:
        return True
    verified = getattr(user, "is_verified", None)
    return bool(verified and verified()) or not _request_has_device(request)


def verify_code(user, code) -> object | None:
    """The device that accepts ``code`` (an app's code or an unused backup code), or None. Each device
    throttles its own failures (django-otp: waits that double)."""
    code = str(code or "").strip().replace(" ", "")
    if not code or len(code) > 16:
        return None
    with transaction.atomic():
        for device in devices_for_user(user, for_verify=True):
            if device.verify_token(code):
                return device
    return None


def seconds_to_wait(user) -> int:
    """After a wrong code each device makes the next try wait (1 s, 2 s, 4 s...): while every device
    waits, how long (0: a code may be tried)."""
    waits = []
    devices = list(devices_for_user(user))
    for device in devices:
        allowed, data = device.verify_is_allowed()
        if allowed or not (data and data.get("locked_until")):
            return 0
        waits.append(max(1, math.ceil((data["locked_until"] - timezone.now()).total_seconds())))
    return min(waits) if waits else 0


def check_code(user, code) -> tuple[object | None, str]:
    """The device that accepts ``code`` and no message, or None and what to tell the person."""
    wait = seconds_to_wait(user)
    if wait:
        return None, ngettext("Too many wrong codes: wait %(seconds)d second, then type the code the app shows.",
                              "Too many wrong codes: wait %(seconds)d seconds, then type the code the app shows.",
                              wait) % {"seconds": wait}
    device = verify_code(user, code)
    return device, "" if device else _("That code is not right, or has expired.")


def check_api_login(user, code) -> None:
    """The token endpoint is no way around two-factor: the code is asked for (field ``otp``) from who
    has set it up, and who must set it up is sent to the back office first."""
    if has_device(user):
        if code in (None, ""):
            raise FieldRequired(_("Enter the code from your authenticator app."), field="otp")
        if not isinstance(code, (str, int)):
            raise FieldInvalid(_("That code is not right, or has expired."), field="otp")
        device, problem = check_code(user, code)
        if device is None:
            raise FieldInvalid(problem, field="otp")
    elif required_for(user):
        raise TwoFactorSetupRequired(_("This account must set up two-factor first: log in to the back office"
                                       " with a browser."))


def check_api_token(user) -> None:
    """A token is no way around two-factor either, whatever its age: who must set it up and has not is
    refused at every endpoint (access.authentication). A token issued before a device was set up was
    revoked then (access.tokens), so a live token of a user with a device was issued for a code."""
    if required_for(user) and not has_device(user):
        raise TwoFactorSetupRequired(_("This account must set up two-factor first: log in to the back office"
                                       " with a browser."))


def pending_device(user) -> TOTPDevice:
    """The authenticator app being set up: the same secret until it is confirmed (reloading the page
    does not invalidate what was scanned)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=APP_NAME, confirmed=False)


@transaction.atomic
def confirm_device(*, user, code) -> tuple[TOTPDevice, list[str]]:
    """The first code from the app proves it holds the secret: the device counts from now on, with a
    fresh set of backup codes (returned once, to be written down)."""
    device = pending_device(user)
    if not str(code or "").strip():
        raise FieldRequired(_("Enter the code your app shows."), field="otp_token")
    if not device.verify_token(str(code).strip().replace(" ", "")[:16]):
        raise FieldInvalid(_("That code is not right: check the app shows this account, and type the code it"
                             " shows now."), field="otp_token")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    StaticDevice.objects.filter(user=user).delete()
    backup = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = [get_random_string(8, "abcdefghjkmnpqrstuvwxyz23456789") for _i in range(BACKUP_CODES)]
    for code_ in codes:
        backup.token_set.create(token=code_)
    return device, codes


# ------------------------------------------------------------------------------------------- the screens


def qr_svg(text: str) -> str:
    """A QR code as inline SVG, drawn here: no image service sees the secret, no script draws it."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return image.to_string(encoding="unicode")


def grouped(secret: bytes) -> str:
    text = b32encode(secret).decode("ascii").rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


class SetupForm(forms.Form):
    otp_token = forms.CharField(label=gettext_lazy("Code from the app"), max_length=16,
                                widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                                              "autofocus": True, "size": 10}))


def setup_view(request):
    """Set up an authenticator app: a QR code and the secret in text, then the first code to confirm."""
    user = request.user
    site = admin.site
    context = {**site.each_context(request), "title": _("Two-factor login"), "required": required_for(user)}
    if has_device(user):
        return TemplateResponse(request, "admin/two_factor_setup.html", {**context, "enabled": True})
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = confirm_device(user=user, code=form.cleaned_data["otp_token"])
        except (FieldInvalid, FieldRequired) as error:
            form.add_error("otp_token", error.detail)
        else:
            otp_login(request, device)  # this session gave a code
            return TemplateResponse(request, "admin/two_factor_setup.html",
                                    {**context, "enabled": True, "backup_codes": codes})
    device = pending_device(user)
    return TemplateResponse(request, "admin/two_factor_setup.html", {
        **context, "form": form, "qr": mark_safe(qr_svg(device.config_url)),  # noqa: S308 - our own SVG
        "secret": grouped(device.bin_key), "issuer": settings.OTP_TOTP_ISSUER, "account": user.get_username()})


class TwoFactorMiddleware:
    """After the password, who must set up two-factor can reach only the setup page (and log out); a
    session that still owes its code is refused by the API as by the admin (BackOfficeSite.has_permission)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith(reverse("admin:index")) and not path.startswith(self._open_paths()) and needs_setup(request):
            return HttpResponseRedirect(reverse("admin:two_factor_setup"))
        if path.startswith("/api/") and request.user.is_authenticated:
            if needs_setup(request):
                error = TwoFactorSetupRequired(_("This account must set up two-factor first."))
                return JsonResponse(error_body(error.code, error.detail), status=error.status)
            if not satisfied(request):
                return JsonResponse(error_body("two_factor_required", _("This session has not given its code.")),
                                    status=403)
        return self.get_response(request)

    @staticmethod
    def _open_paths() -> tuple[str, ...]:
        return tuple(reverse(name) for name in ("admin:two_factor_setup", "admin:logout", "admin:login",
                                                "admin:jsi18n"))
