"""API tokens (django-rest-knox): what the database keeps is a hash of each token, never the token.

A staff member's token (any staff role, superusers) lapses after STAFF_TOKEN_IDLE_DAYS unused: each use
pushes its own expiry out again (knox's renewal, per token: a token without an expiry is never renewed). A
buyer's token, or an integration account's (role ``service``), never lapses: shop apps keep theirs.

A user's tokens are revoked (deleted) when their second factor changes, a two-factor device confirmed or
removed, and when their password changes: a token issued before that moment proves only what was true
before it. The doors to those changes are many and mostly not ours: the setup page
(access.two_factor.confirm_device), django-otp's admin pages for devices (add, edit, delete, bulk
delete), the admin's "change password" form and a user's own, the ``changepassword`` and
``createsuperuser`` commands, and ``set_password()`` in any code or shell. A revoke call at each door would
miss the ones we do not own, so the revocation hangs on the models (connect_revocation, called once at
start-up): a device saved or deleted, a user saved after ``set_password()`` or ``set_unusable_password()``.
The handlers decide nothing but "this user's tokens are stale"; what is allowed stays in the services.

Not seen: a queryset ``update()`` of a device's ``confirmed`` flag or of a password hash, and a hash
assigned by hand (``user.password = ...``); nothing in the project does that. A stored hash upgraded by
Django at login (a newer hasher, the same password) is rightly not a change.
"""

from datetime import timedelta
from hmac import compare_digest

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models.signals import post_delete, post_init, post_save, pre_save
from django.utils import timezone
from django_otp.models import Device
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS, knox_settings

from aftersales import clock
from aftersales.roles import is_staff_member

# ----------------------------------------------------------------------------------------------- issuing


def lifetime_for(user) -> timedelta | None:
    """How long a new token of ``user`` lasts unused: staff the idle period (settings REST_KNOX TOKEN_TTL,
    from STAFF_TOKEN_IDLE_DAYS), anyone else for ever (None)."""
    return knox_settings.TOKEN_TTL if is_staff_member(user) else None


def issue_token(user) -> tuple[AuthToken, str]:
    """A new token for ``user``: the row and the token itself, which is shown this once (only its hash is
    kept). The user's lapsed tokens are swept away on the way."""
    AuthToken.objects.filter(user=user, expiry__lt=clock.now()).delete()
    return AuthToken.objects.create(user=user, expiry=lifetime_for(user))


def find_token(secret: str) -> AuthToken | None:
    """The live token whose hash is ``secret``'s, with its user (one query), or None. A lapsed one is
    deleted on the way."""
    digest = hash_token(secret)
    for token in AuthToken.objects.filter(token_key=secret[:CONSTANTS.TOKEN_KEY_LENGTH]).select_related("user"):
        if not compare_digest(digest, token.digest):
            continue
        if token.expiry is not None and token.expiry <= clock.now():
            token.delete()
            return None
        return token
    return None


def renew(token: AuthToken) -> None:
    """A staff token was used: it lapses an idle period from now. Written at most once per knox's
    MIN_REFRESH_INTERVAL (60 s), not at every request."""
    if token.expiry is None:
        return
    expiry = timezone.now() + knox_settings.TOKEN_TTL
    if (expiry - token.expiry).total_seconds() > knox_settings.MIN_REFRESH_INTERVAL:
        token.expiry = expiry
        AuthToken.objects.filter(digest=token.digest).update(expiry=expiry)


def revoke_tokens(user_id: int) -> int:
    """Delete every token of the user; how many there were."""
    deleted, _ = AuthToken.objects.filter(user_id=user_id).delete()
    return deleted


# ------------------------------------------------------------------------------- revocation (see above)


def connect_revocation() -> None:
    """Hang revoke_tokens on every django-otp device model and on the user model (access.apps)."""
    for model in apps.get_models():
        if issubclass(model, Device):
            uid = f"tokens-{model._meta.label_lower}"
            post_init.connect(_device_loaded, sender=model, dispatch_uid=f"{uid}-init")
            post_save.connect(_device_saved, sender=model, dispatch_uid=f"{uid}-save")
            post_delete.connect(_device_deleted, sender=model, dispatch_uid=f"{uid}-delete")
    pre_save.connect(_user_saving, sender=get_user_model(), dispatch_uid="tokens-user-password")


def _device_state(device) -> tuple[int | None, bool]:
    return device.user_id, bool(device.confirmed)


def _device_loaded(sender, instance, **kwargs) -> None:
    instance._tokens_state = _device_state(instance)


def _device_saved(sender, instance, created, raw=False, **kwargs) -> None:
    """A device confirmed (at the setup page, or added confirmed in the admin), unconfirmed or moved to
    another user. Saves that change neither (a code checked: its counters) revoke nothing."""
    before = None if created else getattr(instance, "_tokens_state", None)
    after = _device_state(instance)
    instance._tokens_state = after
    if raw or before == after:
        return
    for user_id, confirmed in {before, after} - {None}:
        if confirmed and user_id is not None:
            revoke_tokens(user_id)


def _device_deleted(sender, instance, **kwargs) -> None:
    if instance.confirmed:
        revoke_tokens(instance.user_id)


def _user_saving(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """``set_password()`` leaves the new password in ``_password`` until the save (Django's own sign that the
    password changed: it calls the validators' password_changed then); ``set_unusable_password()`` leaves
    an unusable hash, a change if the stored one was usable."""
    if raw or instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    if instance._password is not None:
        revoke_tokens(instance.pk)
    elif not instance.has_usable_password() and sender.objects.filter(pk=instance.pk).exclude(
            password__startswith=UNUSABLE_PASSWORD_PREFIX).exists():
        revoke_tokens(instance.pk)
