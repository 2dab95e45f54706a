"""DRF's tokens become knox tokens with the same secret (issue #19, finding 4), so every shop app and
script keeps working with the token it holds; then DRF's rows, which held the secrets in clear, are
deleted.

knox finds a token by its first CONSTANTS.TOKEN_KEY_LENGTH (15) characters and compares the hash of the
whole: a DRF key (40 hex characters) is stored that way. A buyer's token never lapses; a staff member's
(a staff role, or a superuser) lapses after STAFF_TOKEN_IDLE_DAYS unused, counted from now. A moved token's
`created` is the migration's time (DRF's was the first login's).

Backwards: nothing is done. The secrets are gone from DRF's table, so code that reads DRF's tokens
again finds none: each user logs in again (or `issue_token`).
"""

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from knox.crypto import hash_token
from knox.settings import CONSTANTS

# aftersales.roles.STAFF_ROLES when this was written (a migration keeps its own copy).
STAFF_ROLES = ("ops", "finance", "warehouse")
BATCH = 1000


def copy_drf_tokens(apps, schema_editor) -> int:
    """Copy every DRF token into knox, delete it from DRF's table; how many were moved."""
    Token = apps.get_model("authtoken", "Token")
    AuthToken = apps.get_model("knox", "AuthToken")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    staff = set(User.objects.filter(is_superuser=True).values_list("pk", flat=True))
    staff |= set(User.objects.filter(groups__name__in=STAFF_ROLES).values_list("pk", flat=True))
    lapse = timezone.now() + timedelta(days=settings.STAFF_TOKEN_IDLE_DAYS)
    moved = 0
    while keys := list(Token.objects.order_by("key").values_list("key", "user_id")[:BATCH]):
        AuthToken.objects.bulk_create([
            AuthToken(digest=hash_token(key), token_key=key[:CONSTANTS.TOKEN_KEY_LENGTH], user_id=user_id,
                      expiry=lapse if user_id in staff else None)
            for key, user_id in keys], ignore_conflicts=True)  # run twice (a partial first run): same digest
        Token.objects.filter(key__in=[key for key, _user in keys]).delete()
        moved += len(keys)
    return moved


class Migration(migrations.Migration):

    dependencies = [
        ("aftersales", "0005_heartbeat_schedule"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [migrations.RunPython(copy_drf_tokens, migrations.RunPython.noop)]
