"""Administrators' webhook screens: endpoints added with their secret shown once, bad URLs refused on the
form, rotation, the test event against a real receiver, resending (asked first), the disabled endpoint on
the home page, and nobody else seeing any of it."""

import datetime as dt
import re

import pytest
import standardwebhooks
import time_machine
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from aftersales import clock
from events import services
from events.models import Attempt, Delivery, Endpoint, Event
from tests.events.receiver import Receiver
from tests.factories import ShopFactory, UserFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/events/endpoint/add/"


@pytest.fixture
def local(settings):
    """A local setup: receivers on 127.0.0.1 over plain HTTP may be registered and called."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_REQUIRE_HTTPS = False
    return settings


@pytest.fixture
def shop(db):
    return ShopFactory(code="S1", name="Shop one")


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def change_url(endpoint):
    return reverse("admin:events_endpoint_change", args=[endpoint.pk])


def test_adding_an_endpoint_shows_its_secret_once_and_never_again(admin_client, local, shop):
    response = admin_client.post(ADD, {"shop": shop.pk, "url": "http://127.0.0.1:9/hooks", "description": "the app",
                                       "event_types": ["ticket.approved", "refund.succeeded"]})

    endpoint = Endpoint.objects.get()
    assert response.status_code == 200  # the answer itself is the secret's page: no redirect, no message
    html = response.content.decode()
    assert endpoint.secret.startswith("whsec_") and html.count(endpoint.secret) == 1
    assert "it will not be shown again" in html
    assert "no-store" in response["Cache-Control"]
    assert endpoint.event_types == ["ticket.approved", "refund.succeeded"]
    assert endpoint.description == "the app" and endpoint.shop == shop
    assert endpoint.secret not in str(response.cookies)
    assert endpoint.secret not in str(LogEntry.objects.values_list("change_message", "object_repr"))

    listing = page(admin_client, "/admin/events/endpoint/")
    endpoint_page = page(admin_client, change_url(endpoint))
    assert endpoint.url in listing and "ticket.approved, refund.succeeded" in listing and "delivering" in listing
    assert endpoint.secret not in listing and endpoint.secret not in endpoint_page
    assert "whsec_••••" in endpoint_page
    assert not re.search(r"whsec_[A-Za-z0-9+/=]{8,}", listing + endpoint_page)


def test_no_type_ticked_means_every_type(admin_client, local, shop):
    admin_client.post(ADD, {"shop": shop.pk, "url": "http://127.0.0.1:9/hooks"})

    endpoint = Endpoint.objects.get()
    assert endpoint.event_types == [] and endpoint.wants("deadline.warning")
    assert "every type" in page(admin_client, "/admin/events/endpoint/")


def test_the_add_form_lists_every_type_of_the_catalogue_with_what_it_means(admin_client, shop):
    html = page(admin_client, ADD)

    assert 'type="checkbox" name="event_types" value="ticket.rejected"' in html
    assert "the shop rejected the claim, and why" in html
    assert html.count('name="event_types"') == 15


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://10.0.0.1/"])
def test_a_private_or_loopback_url_is_refused_on_the_url_field_keeping_what_was_typed(admin_client, settings, shop,
                                                                                       url):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    settings.WEBHOOK_REQUIRE_HTTPS = False

    response = admin_client.post(ADD, {"shop": shop.pk, "url": url, "description": "kept, too",
                                       "event_types": ["ticket.closed"]})

    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["url"]
    assert "private or local address" in form.errors["url"][0]
    html = response.content.decode()
    assert f'value="{url}"' in html and 'value="kept, too"' in html
    assert re.search(r'value="ticket.closed"[^>]*checked', html)
    assert "whsec_" not in html
    assert not Endpoint.objects.exists()


def test_plain_http_is_refused_where_https_is_required(admin_client, settings, shop):
    settings.WEBHOOK_REQUIRE_HTTPS = True

    response = admin_client.post(ADD, {"shop": shop.pk, "url": "http://hooks.example.com/in"})

    assert response.context["form"].errors["url"] == ["Only https URLs may receive events."]
    assert not Endpoint.objects.exists()


def test_changing_to_a_private_url_is_refused_and_changes_nothing(admin_client, local, shop):
    endpoint, _secret = services.register_endpoint(shop=shop, url="http://127.0.0.1:9/hooks")
    local.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    response = admin_client.post(change_url(endpoint), {"url": "http://10.0.0.1/", "description": "new",
                                                        "active": "on"})

    assert list(response.context["form"].errors) == ["url"]
    assert 'value="http://10.0.0.1/"' in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.url == "http://127.0.0.1:9/hooks" and endpoint.description == ""


def test_the_change_form_saves_through_the_service(admin_client, local, shop):
    endpoint, secret = services.register_endpoint(shop=shop, url="http://127.0.0.1:9/hooks")

    response = admin_client.post(change_url(endpoint), {"url": "http://127.0.0.1:10/in", "description": "moved",
                                                        "event_types": ["ticket.completed"]})

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.description, endpoint.event_types, endpoint.active) == (
        "http://127.0.0.1:10/in", "moved", ["ticket.completed"], False)
    assert endpoint.secret == secret


def test_rotating_asks_first_then_shows_the_new_secret_once_and_keeps_the_old_one_for_the_grace(admin_client, local,
                                                                                               shop):
    local.WEBHOOK_SECRET_GRACE_HOURS = 24
    endpoint, old = services.register_endpoint(shop=shop, url="http://127.0.0.1:9/hooks")
    rotate = reverse("admin:events_endpoint_rotate", args=[endpoint.pk])

    asked = page(admin_client, rotate)
    endpoint.refresh_from_db()
    assert endpoint.secret == old and "24 hours" in asked

    with time_machine.travel(dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.UTC), tick=False):
        response = admin_client.post(rotate)

    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert endpoint.previous_secret_expires_at == dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC)
    html = response.content.decode()
    assert html.count(endpoint.secret) == 1 and old not in html
    assert "no-store" in response["Cache-Control"]
    assert endpoint.secret not in page(admin_client, change_url(endpoint))


def test_a_test_event_goes_to_a_real_receiver_signed_and_its_attempt_is_kept(admin_client, local, shop):
    with Receiver() as receiver:
        endpoint, secret = services.register_endpoint(shop=shop, url=receiver.url)
        response = admin_client.post(reverse("admin:events_endpoint_test", args=[endpoint.pk]), follow=True)

    [(headers, body)] = receiver.received
    payload = standardwebhooks.Webhook(secret).verify(body, headers)
    assert payload["type"] == "webhook.test" and payload["shop"] == "S1"
    attempt = Attempt.objects.get(endpoint=endpoint)
    assert (attempt.status_code, attempt.ok, attempt.event_type, attempt.by.username) == (
        200, True, "webhook.test", "admin")
    assert attempt.webhook_id == headers["webhook-id"]
    html = response.content.decode()
    assert re.search(r"Test event delivered: HTTP 200 in \d+ ms", html)
    assert attempt.webhook_id in html  # the endpoint's page lists it first among its attempts


def test_a_failing_test_event_says_why(admin_client, local, shop):
    with Receiver(status=500) as receiver:
        endpoint, _secret = services.register_endpoint(shop=shop, url=receiver.url)
        response = admin_client.post(reverse("admin:events_endpoint_test", args=[endpoint.pk]), follow=True)

    assert "Test event not delivered: HTTP 500 (HTTP 500," in response.content.decode()
    attempt = Attempt.objects.get(endpoint=endpoint)
    assert (attempt.status_code, attempt.ok, attempt.response_excerpt) == (500, False, "receiver says no")


def test_the_test_event_is_sent_only_by_a_post(admin_client, local, shop):
    endpoint, _secret = services.register_endpoint(shop=shop, url="http://127.0.0.1:9/hooks")

    assert admin_client.get(reverse("admin:events_endpoint_test", args=[endpoint.pk])).status_code == 405
    assert not Attempt.objects.exists()


def make_events(shop, count: int) -> list[Event]:
    now = clock.now()
    return [Event.objects.create(type="ticket.submitted", shop=shop, ticket_no=f"T{n}", occurred_at=now, position=n,
                                 sequenced_at=now) for n in range(1, count + 1)]


def failed_delivery(endpoint, event) -> Delivery:
    return Delivery.objects.create(endpoint=endpoint, event=event, position=event.position, status="failed",
                                   attempts=7, last_error="HTTP 500", created_at=clock.now())


def test_resend_selected_asks_first_then_puts_the_deliveries_back_to_pending(admin_client, local, shop):
    endpoint, _secret = services.register_endpoint(shop=shop, url="http://127.0.0.1:9/hooks")
    first, second, third = [failed_delivery(endpoint, e) for e in make_events(shop, 3)]
    chosen = {"action": "resend_selected", "_selected_action": [first.pk, third.pk]}

    asked = admin_client.post("/admin/events/delivery/", chosen)

    assert asked.status_code == 200 and "Resend these deliveries?" in asked.content.decode()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"failed"}

    done = admin_client.post("/admin/events/delivery/", {**chosen, "confirmed": "yes"}, follow=True)

    assert "2 deliveries queued again." in done.content.decode()
    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "pending", second.pk: "failed", third.pk: "pending"}
    first.refresh_from_db()
    assert first.next_attempt_at is not None and first.first_attempt_at is None


def test_resending_from_a_position_says_how_many_and_asks_first(admin_client, local, shop):
    endpoint, _secret = services.register_endpoint(shop=shop, url="http://127.0.0.1:9/hooks")
    events = make_events(shop, 3)
    failed_delivery(endpoint, events[2])
    resend_from = reverse("admin:events_endpoint_resend_from", args=[endpoint.pk])

    asked = admin_client.post(resend_from, {"position": 2})

    assert "2 events from position 2 on are sent again" in asked.content.decode()
    assert Delivery.objects.count() == 1

    admin_client.post(resend_from, {"position": 2, "confirmed": "yes"})

    assert sorted(Delivery.objects.values_list("position", "status")) == [(2, "pending"), (3, "pending")]


def test_a_negative_position_is_refused(admin_client, local, shop):
    endpoint, _secret = services.register_endpoint(shop=shop, url="http://127.0.0.1:9/hooks")
    make_events(shop, 1)

    response = admin_client.post(reverse("admin:events_endpoint_resend_from", args=[endpoint.pk]),
                                 {"position": -1, "confirmed": "yes"})

    assert response.context["form"].errors["position"]
    assert not Delivery.objects.exists()


def disabled(shop, url="http://127.0.0.1:9/hooks") -> Endpoint:
    endpoint, _secret = services.register_endpoint(shop=shop, url=url)
    Endpoint.objects.filter(pk=endpoint.pk).update(
        disabled_at=dt.datetime(2026, 12, 4, 2, 30, tzinfo=dt.UTC), failing_since=dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC),
        disabled_reason="Every delivery failed for 24 hours; the last: Connection refused.")
    endpoint.refresh_from_db()
    return endpoint


def test_enable_again_is_offered_for_a_disabled_endpoint_only(admin_client, local, shop):
    endpoint = disabled(shop)
    working, _secret = services.register_endpoint(shop=shop, url="http://127.0.0.1:10/hooks")
    assert 'id="enable-form"' in page(admin_client, change_url(endpoint))
    assert 'id="enable-form"' not in page(admin_client, change_url(working))

    admin_client.post(reverse("admin:events_endpoint_enable", args=[endpoint.pk]))

    endpoint.refresh_from_db()
    assert endpoint.disabled_at is None and endpoint.disabled_reason == "" and endpoint.active


def test_the_home_names_a_disabled_endpoint_since_when_and_why(admin_client, local, shop):
    endpoint = disabled(shop)

    html = page(admin_client, "/admin/")

    notices = html[html.index('id="home-notices"'):html.index("</ul>", html.index('id="home-notices"'))]
    assert f'href="{change_url(endpoint)}"' in notices and endpoint.url in notices and "S1" in notices
    assert "since 2026-12-04 10:30" in notices  # in the reader's zone (Asia/Shanghai)
    assert "the last: Connection refused." in notices


def test_the_home_has_no_notice_while_every_endpoint_delivers(admin_client, local, shop):
    services.register_endpoint(shop=shop, url="http://127.0.0.1:9/hooks")

    assert 'id="home-notices"' not in page(admin_client, "/admin/")


def test_a_user_given_the_endpoint_permissions_administers_webhooks(client, local, shop):
    disabled(shop)
    user = UserFactory(username="hooks", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="events",
                                                         codename__in=["view_endpoint", "change_endpoint"]))
    client.force_login(user)

    assert 'id="home-notices"' in page(client, "/admin/")
    page(client, "/admin/events/endpoint/")
    page(client, "/admin/events/delivery/")
    page(client, "/admin/events/attempt/")
    page(client, "/admin/events/event/")
    assert client.get(ADD).status_code == 403  # no add permission


def test_ops_sees_none_of_the_webhook_screens(ops_user, local, shop):
    endpoint = disabled(shop)
    ops = Client()
    ops.force_login(ops_user)

    home = page(ops, "/admin/")
    assert 'id="home-notices"' not in home and "/admin/events/" not in home
    for url in ["/admin/events/endpoint/", ADD, change_url(endpoint), "/admin/events/delivery/",
                "/admin/events/attempt/", "/admin/events/event/",
                reverse("admin:events_endpoint_rotate", args=[endpoint.pk])]:
        assert ops.get(url).status_code == 403, url
    for name in ["test", "enable", "rotate", "resend_from"]:
        assert ops.post(reverse(f"admin:events_endpoint_{name}", args=[endpoint.pk]), {"position": 0,
                                                                                      "confirmed": "yes"}
                        ).status_code == 403, name
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None and not Attempt.objects.exists()


def test_attempts_deliveries_and_events_are_read_only(admin_client, local, shop):
    with Receiver() as receiver:
        endpoint, _secret = services.register_endpoint(shop=shop, url=receiver.url)
        services.send_test_event(endpoint_id=endpoint.pk, actor=None)
    event = make_events(shop, 1)[0]
    delivery = failed_delivery(endpoint, event)
    attempt = Attempt.objects.get()

    for model in ["attempt", "delivery", "event"]:
        assert admin_client.get(f"/admin/events/{model}/add/").status_code == 403, model
    attempt_page = page(admin_client, f"/admin/events/attempt/{attempt.pk}/change/")
    assert 'name="_save"' not in attempt_page and "Delete" not in attempt_page
    assert 'name="_save"' not in page(admin_client, f"/admin/events/delivery/{delivery.pk}/change/")
    assert 'name="_save"' not in page(admin_client, f"/admin/events/event/{event.pk}/change/")
    assert admin_client.post(f"/admin/events/attempt/{attempt.pk}/delete/").status_code == 403
    assert Attempt.objects.count() == 1


def test_the_lists_filter_and_search_by_ticket_no(admin_client, local, shop):
    endpoint, _secret = services.register_endpoint(shop=shop, url="http://127.0.0.1:9/hooks")
    for event in make_events(shop, 2):
        failed_delivery(endpoint, event)

    deliveries = page(admin_client, "/admin/events/delivery/?q=T2")
    events = page(admin_client, "/admin/events/event/?type=ticket.submitted&q=T1")

    assert ">T2<" in deliveries and ">T1<" not in deliveries
    assert ">T1<" in events and ">T2<" not in events
    page(admin_client, f"/admin/events/delivery/?endpoint__id__exact={endpoint.pk}&status__exact=failed"
                       "&type=ticket.submitted")
    page(admin_client, f"/admin/events/attempt/?endpoint__id__exact={endpoint.pk}&type=webhook.test")
