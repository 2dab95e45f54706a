"""Webhooks in a real browser (headless Chromium, 1,440 × 900): an administrator adds an endpoint, copies its
secret from the page that shows it once, sends a test event to a receiver on 127.0.0.1, and finds the
endpoint the system disabled named on the home page; in English, then in Chinese."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from aftersales import clock
from events.delivery import disable
from events.models import Attempt, Delivery, Endpoint, Event
from tests.edges.test_admin_browser import browser, chinese, login, shot  # noqa: F401 (browser: a fixture)
from tests.events.receiver import Receiver
from tests.factories import ShopFactory, UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_an_administrator_adds_an_endpoint_tests_it_and_sees_it_disabled_on_home(browser, live_server,  # noqa: F811
                                                                                  settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_REQUIRE_HTTPS = False
    shop = ShopFactory(code="SH01", name="Harbour Shop")
    UserFactory(username="root", is_staff=True, is_superuser=True)

    with Receiver() as receiver:
        page = login(browser, live_server, "root")
        page.goto(f"{live_server.url}/admin/events/endpoint/add/")
        page.select_option("#id_shop", str(shop.pk))
        page.fill("#id_url", receiver.url)
        page.fill("#id_description", "The shop's app: claims screen")
        page.check("input[name=event_types][value='ticket.approved']")
        page.check("input[name=event_types][value='refund.succeeded']")
        shot(page, "webhooks-add-endpoint")
        page.click("#endpoint-form [type=submit]")

        endpoint = Endpoint.objects.get()
        expect(page.locator("#secret-once")).to_contain_text("it will not be shown again")
        expect(page.locator("#webhook-secret")).to_have_value(endpoint.secret)
        shot(page, "webhooks-secret-shown-once")

        page.click("text=I have copied it: go to the endpoint")
        expect(page.locator("#endpoint-state")).to_contain_text("delivering")
        expect(page.locator("body")).not_to_contain_text(endpoint.secret)
        page.click("#test-form [type=submit]")
        expect(page.locator(".messagelist")).to_contain_text("Test event delivered: HTTP 200")
        expect(page.locator("#endpoint-attempts tbody tr").first).to_contain_text("webhook.test")
        shot(page, "webhooks-endpoint-after-test-event")
        assert len(receiver.received) == 1
        assert Attempt.objects.get().ok

    event = Event.objects.create(type="ticket.approved", shop=shop, ticket_no="RT20261205001", position=1,
                                 occurred_at=clock.now(), sequenced_at=clock.now())
    Delivery.objects.create(endpoint=endpoint, event=event, position=1, status="failed", attempts=9,
                            last_error="HTTP 503", created_at=clock.now())
    page.goto(f"{live_server.url}/admin/events/delivery/")
    page.check("input[name=_selected_action]")
    page.select_option("select[name=action]", "resend_selected")
    page.click("button[name=index]")
    expect(page.locator("#confirm-resend")).to_contain_text("RT20261205001")
    shot(page, "webhooks-resend-selected-confirm")
    page.click("#resend-form [type=submit]")
    expect(page.locator(".messagelist")).to_contain_text("1 delivery queued again.")
    shot(page, "webhooks-deliveries")
    assert Delivery.objects.get().status == "pending"

    endpoint.refresh_from_db()
    endpoint.failing_since = dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC)
    disable(endpoint, now=dt.datetime(2026, 12, 4, 2, 0, tzinfo=dt.UTC),
            reason="Every delivery failed for 24 hours (since 2026-12-03 02:00 UTC); the last: Connection refused.")
    page.goto(f"{live_server.url}/admin/")
    notice = page.locator("#home-notices .home-notice")
    expect(notice).to_contain_text(endpoint.url)
    expect(notice).to_contain_text("since 2026-12-04 10:00")
    expect(notice).to_contain_text("Connection refused.")
    shot(page, "webhooks-home-disabled-notice")

    notice.locator("a").click()
    expect(page.locator("#enable-form")).to_be_visible()
    expect(page.locator("#endpoint-state .state")).to_contain_text("disabled since")
    shot(page, "webhooks-endpoint-disabled")

    chinese(page, live_server)
    expect(page.locator("#home-notices .home-notice")).to_contain_text(endpoint.url)
    shot(page, "webhooks-home-disabled-notice-chinese")
    page.goto(f"{live_server.url}/admin/events/endpoint/{endpoint.pk}/change/")
    shot(page, "webhooks-endpoint-disabled-chinese")
    page.fill("#id_resend_position", "0")
    page.press("#id_resend_position", "Enter")  # Enter in the position resends (after asking), nothing else
    expect(page.locator("#resend-from-confirm-form input[name=confirmed]")).to_have_value("yes")
    shot(page, "webhooks-resend-from-confirm-chinese")
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None and endpoint.url == receiver.url
    page.goto(f"{live_server.url}/admin/events/endpoint/")
    shot(page, "webhooks-endpoint-list-chinese")
    page.goto(f"{live_server.url}/admin/events/endpoint/add/")
    page.fill("#id_url", "ftp://example.com/")
    page.click("#endpoint-form [type=submit]")
    expect(page.locator(".field-url .errorlist")).to_be_visible()
    shot(page, "webhooks-add-endpoint-refused-chinese")
