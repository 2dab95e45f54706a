import pytest

from tests.events.receiver import Receiver


@pytest.fixture
def local_webhooks(settings):
    """A receiver on 127.0.0.1 over plain HTTP may be registered and called (a local setup)."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_REQUIRE_HTTPS = False
    return settings


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.stop()
