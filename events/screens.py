"""Who administers webhooks, and what the back office's home says about them (access.home's notices).

Administrators are superusers and the users given the endpoint permissions (events.view_endpoint,
change_endpoint, add_endpoint): the webhook screens, deliveries, attempts and the outbox are theirs alone.
No staff role has them by default: ops, finance and the warehouse see none of it."""

from django.urls import reverse
from django.utils.translation import gettext as _

from access.home import HomeNotices, Notice, register_home_notices
from events.models import Endpoint

ENDPOINT_PERMISSIONS = ("events.view_endpoint", "events.change_endpoint", "events.add_endpoint")


def is_webhook_admin(user) -> bool:
    if user is None or not user.is_active or not user.is_authenticated:
        return False
    return user.is_superuser or any(user.has_perm(p) for p in ENDPOINT_PERMISSIONS)


def disabled_endpoints(request) -> list[Notice]:
    """Each endpoint the system disabled (every delivery failing for 24 hours): which, since when and why,
    leading to its page, where "Enable again" is."""
    if not is_webhook_admin(request.user):
        return []
    return [Notice(title=_("Webhook endpoint %(url)s of %(shop)s is disabled") % {"url": e.url, "shop": e.shop.code},
                   url=reverse("admin:events_endpoint_change", args=[e.pk]), detail=e.disabled_reason,
                   since=e.disabled_at)
            for e in Endpoint.objects.filter(disabled_at__isnull=False).select_related("shop").order_by("disabled_at")]


def register() -> None:
    register_home_notices(HomeNotices("webhooks_disabled", disabled_endpoints, order=10))
