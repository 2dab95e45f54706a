"""Where events may go: https in production, and no private, loopback or link-local address (checked when an
endpoint is registered, and again when each POST goes, so a name that resolves inside later is refused too)
unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES allows it for a local setup."""

import pytest

from aftersales.errors import FieldInvalid
from events import services
from events.delivery import deliver_endpoint
from events.models import Attempt, Delivery, Endpoint
from events.outbox import sequence
from events.transport import AddressRefused, check_url
from tests.factories import ShopFactory, make_order, submit

pytestmark = pytest.mark.django_db

INSIDE = ["http://127.0.0.1/hooks", "http://10.0.0.1/hooks", "http://localhost:8000/hooks", "http://[::1]/hooks",
          "http://169.254.169.254/latest/meta-data/", "http://192.168.1.20/hooks", "http://100.64.0.1/hooks",
          "http://0.0.0.0:8000/hooks", "http://127.1/hooks", "http://2130706433/hooks",
          "http://[::ffff:127.0.0.1]/hooks", "http://[64:ff9b::7f00:1]/hooks", "http://[2002:7f00:1::1]/hooks",
          "http://[fd00::1]/hooks"]


@pytest.fixture
def production(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    settings.WEBHOOK_REQUIRE_HTTPS = True
    return settings


@pytest.mark.parametrize("url", INSIDE)
def test_a_private_or_local_address_is_refused_when_the_setting_is_off(settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES, settings.WEBHOOK_REQUIRE_HTTPS = False, False

    with pytest.raises(FieldInvalid, match="private or local address") as refused:
        services.register_endpoint(shop=ShopFactory(), url=url)

    assert refused.value.field == "url"
    assert not Endpoint.objects.exists()


def test_a_hostname_is_judged_by_the_addresses_it_resolves_to(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES, settings.WEBHOOK_REQUIRE_HTTPS = False, False

    with pytest.raises(AddressRefused, match="localhost resolves to 127.0.0.1"):
        check_url("http://localhost:8000/hooks")


def test_https_is_required_when_the_setting_says_so(production):
    with pytest.raises(FieldInvalid, match="Only https"):
        services.register_endpoint(shop=ShopFactory(), url="http://93.184.216.34/hooks")
    with pytest.raises(FieldInvalid, match="private or local address"):
        services.register_endpoint(shop=ShopFactory(), url="https://127.0.0.1/hooks")
    for bad in ("ftp://93.184.216.34/hooks", "https:///hooks", "https://user:pw@93.184.216.34/hooks"):
        with pytest.raises(FieldInvalid):
            services.register_endpoint(shop=ShopFactory(), url=bad)

    endpoint, secret = services.register_endpoint(shop=ShopFactory(), url="https://93.184.216.34/hooks")
    assert endpoint.url == "https://93.184.216.34/hooks" and secret.startswith("whsec_")


def test_the_setting_allows_a_local_receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES, settings.WEBHOOK_REQUIRE_HTTPS = True, False

    endpoint, _ = services.register_endpoint(shop=ShopFactory(), url="http://localhost:8000/hooks")

    assert endpoint.url == "http://localhost:8000/hooks"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_delivery_checks_the_address_again_when_it_sends(local_webhooks, receiver, buyer, host):
    order = make_order(buyer=buyer)
    endpoint, _ = services.register_endpoint(shop=order.shop, url=receiver.url.replace("127.0.0.1", host))
    submit(order)
    sequence()
    local_webhooks.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False  # the setting was turned off since

    assert deliver_endpoint(endpoint.pk).delivered == 0

    assert receiver.got() == []
    [attempt] = Attempt.objects.all()
    assert attempt.status_code is None and not attempt.ok
    assert "private or local address" in attempt.error
    assert Delivery.objects.get().status == Delivery.Status.PENDING


def test_delivery_refuses_plain_http_once_https_is_required(local_webhooks, receiver, buyer):
    order = make_order(buyer=buyer)
    endpoint, _ = services.register_endpoint(shop=order.shop, url=receiver.url)
    submit(order)
    sequence()
    local_webhooks.WEBHOOK_REQUIRE_HTTPS = True

    deliver_endpoint(endpoint.pk)

    assert receiver.got() == []
    assert Attempt.objects.get().error == "Only https URLs may receive events."
