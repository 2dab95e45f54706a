"""What administrators do with endpoints, one function per action (the admin and any future API call these).

Registering an endpoint checks its URL (events.transport.check_url) and makes its secret, which the caller
shows once. Rotating makes a new secret and keeps the old one signing beside it for
WEBHOOK_SECRET_GRACE_HOURS, so receivers can switch without losing an event. Resending puts deliveries back
in the queue with a fresh 24-hour window; resending from a position also queues the events the endpoint
never had (it was added later, disabled, or not subscribed to them).
"""

import json
import uuid
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from aftersales import clock
from aftersales.errors import FieldInvalid, NotFound
from events import catalogue, signing, tasks
from events.delivery import _attempt, signing_secrets
from events.models import Delivery, Endpoint, Event
from events.transport import AddressRefused, Answer, Sender, check_url


def _checked_url(url: str) -> str:
    url = (url or "").strip()
    try:
        check_url(url)
    except AddressRefused as exc:
        raise FieldInvalid(str(exc), field="url") from None
    return url


def _checked_types(event_types) -> list[str]:
    chosen = list(dict.fromkeys(event_types or []))
    unknown = [t for t in chosen if t not in catalogue.TYPES]
    if unknown:
        raise FieldInvalid(_("Not an event type: %(types)s.") % {"types": ", ".join(unknown)}, field="event_types")
    return chosen


@transaction.atomic
def register_endpoint(*, shop, url: str, event_types=(), description: str = "") -> tuple[Endpoint, str]:
    """A new endpoint and its secret (shown once by the caller, never again)."""
    secret = signing.new_secret()
    endpoint = Endpoint.objects.create(shop=shop, url=_checked_url(url), event_types=_checked_types(event_types),
                                       description=description.strip(), secret=secret, created_at=clock.now())
    return endpoint, secret


@transaction.atomic
def change_endpoint(*, endpoint_id: int, url: str, event_types=(), description: str = "", active: bool = True) -> Endpoint:
    endpoint = _locked(endpoint_id)
    endpoint.url, endpoint.event_types = _checked_url(url), _checked_types(event_types)
    endpoint.description, endpoint.active = description.strip(), active
    endpoint.save(update_fields=["url", "event_types", "description", "active"])
    return endpoint


@transaction.atomic
def rotate_secret(*, endpoint_id: int) -> tuple[Endpoint, str]:
    """A new secret; the old one keeps signing beside it for the grace period. Returns the new secret."""
    endpoint = _locked(endpoint_id)
    secret = signing.new_secret()
    endpoint.previous_secret, endpoint.secret = endpoint.secret, secret
    endpoint.previous_secret_expires_at = clock.now() + timedelta(hours=settings.WEBHOOK_SECRET_GRACE_HOURS)
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return endpoint, secret


@transaction.atomic
def enable_endpoint(*, endpoint_id: int) -> Endpoint:
    """Deliver again to an endpoint the system disabled (its failed deliveries stay failed: resend them)."""
    endpoint = _locked(endpoint_id)
    endpoint.active, endpoint.disabled_at, endpoint.disabled_reason, endpoint.failing_since = True, None, "", None
    endpoint.save(update_fields=["active", "disabled_at", "disabled_reason", "failing_since"])
    return endpoint


def send_test_event(*, endpoint_id: int, actor) -> Answer:
    """POST a ``webhook.test`` event to one endpoint now, signed as every event is; the attempt is kept."""
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("No such endpoint.", field="endpoint")
    now = clock.now()
    msg_id = f"test_{uuid.uuid4()}"
    body = json.dumps({"id": msg_id, "position": None, "type": catalogue.TEST_TYPE, "ticket_no": "",
                       "shop": endpoint.shop.code, "occurred_at": now.isoformat(),
                       "data": {"message": "A test event from the after-sales back office."}},
                      separators=(",", ":")).encode()
    headers = signing.headers(signing_secrets(endpoint, now=now), msg_id=msg_id, timestamp=int(now.timestamp()),
                              body=body)
    with Sender(endpoint.url) as sender:
        answer = sender.post(body, headers)
    attempt = _attempt(endpoint, None, answer, now, by=actor)
    attempt.event_type, attempt.webhook_id = catalogue.TEST_TYPE, msg_id
    attempt.save()
    return answer


def resend(*, delivery_ids) -> int:
    """Queue these deliveries again (a new 24-hour window); returns how many."""
    now = clock.now()
    with transaction.atomic():
        queued = Delivery.objects.filter(pk__in=list(delivery_ids))
        endpoints = set(queued.values_list("endpoint_id", flat=True))
        count = queued.update(status=Delivery.Status.PENDING, next_attempt_at=now, first_attempt_at=None)
        for endpoint_id in sorted(endpoints):
            transaction.on_commit(partial(tasks.start, endpoint_id))
    return count


def resend_from(*, endpoint_id: int, position: int) -> int:
    """Queue every event of the endpoint's shop from ``position`` on that it wants, sent before or not."""
    if position < 0:
        raise FieldInvalid(_("A position is a whole number from 0."), field="position")
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("No such endpoint.", field="endpoint")
    now = clock.now()
    with transaction.atomic():
        events = Event.objects.filter(shop_id=endpoint.shop_id, position__gte=position)
        if endpoint.event_types:
            events = events.filter(type__in=endpoint.event_types)
        rows = list(events.values_list("pk", "position", "ticket_id"))
        Delivery.objects.bulk_create(
            [Delivery(endpoint=endpoint, event_id=pk, position=pos, ticket_id=ticket_id, next_attempt_at=now,
                      created_at=now) for pk, pos, ticket_id in rows], ignore_conflicts=True, batch_size=1000)
        Delivery.objects.filter(endpoint=endpoint, event_id__in=events.values("pk")).update(
            status=Delivery.Status.PENDING, next_attempt_at=now, first_attempt_at=None)
        transaction.on_commit(partial(tasks.start, endpoint.pk))
    return len(rows)


def _locked(endpoint_id: int) -> Endpoint:
    endpoint = Endpoint.objects.select_for_update().filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("No such endpoint.", field="endpoint")
    return endpoint
