"""Policies and the reasons on offer are held in memory per process (aftersales.refcache): an edit is
seen by the next claim, in this process, in another transaction, and in another process."""

import datetime as dt
import os
import subprocess
import sys
import threading
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test import override_settings

from aftersales import refcache
from aftersales.errors import FieldInvalid
from policies import services as policies
from policies.models import Policy
from reasons.models import Reason
from reasons.selectors import offered_reason
from tests.factories import make_order, submit

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def fresh_hours() -> Decimal:
    return policies.current()["fresh_claim_hours"]


def set_policy(key: str, value) -> None:
    row = Policy.objects.get(key=key)
    row.value = value
    row.save()


@pytest.mark.django_db
def test_a_read_is_held_and_an_edit_in_this_process_is_seen_at_once(django_assert_num_queries):
    assert fresh_hours() == Decimal("48.00")
    with django_assert_num_queries(0):
        assert fresh_hours() == Decimal("48.00")

    set_policy("fresh_claim_hours", 24)

    assert fresh_hours() == Decimal("24.00")


@pytest.mark.django_db
def test_a_reason_hidden_in_the_admin_is_refused_by_the_next_claim(admin_client):
    reason = Reason.objects.get(code="wrong_item")
    assert offered_reason(reason.pk) == reason
    response = admin_client.post(f"/admin/reasons/reason/{reason.pk}/change/", {
        **{f.name: getattr(reason, f.name) for f in Reason._meta.concrete_fields
           if f.name not in ("id", "retired_at", "is_visible")},
        "is_visible": "",
    })
    assert response.status_code == 302, response.content[:2000]

    with pytest.raises(FieldInvalid) as refused:
        submit(make_order(), type="return_refund", reason_code="wrong_item")
    assert refused.value.field == "reason_id"


@pytest.mark.django_db(transaction=True)
def test_a_value_read_while_another_transaction_edits_is_read_again_when_it_commits():
    """The reader fills the cache between the edit's save and its commit (so with the old value): the
    commit makes it read again."""
    saved, go_on, done = threading.Event(), threading.Event(), threading.Event()

    def edit():
        try:
            with transaction.atomic():
                set_policy("fresh_claim_hours", 24)
                saved.set()
                go_on.wait(10)
        finally:
            connection.close()
            done.set()

    assert fresh_hours() == Decimal("48.00")
    thread = threading.Thread(target=edit)
    thread.start()
    assert saved.wait(10)
    assert fresh_hours() == Decimal("48.00")  # not committed yet: the old value, held again
    go_on.set()
    assert done.wait(10)
    thread.join()

    assert fresh_hours() == Decimal("24.00")


@pytest.mark.django_db
def test_a_change_that_sends_no_signal_is_seen_after_the_ttl(monkeypatch):
    assert fresh_hours() == Decimal("48.00")
    Policy.objects.filter(key="fresh_claim_hours").update(value=24)  # a shell's update(): no signal
    assert fresh_hours() == Decimal("48.00")

    monkeypatch.setattr(refcache, "TTL", 0.0)

    assert fresh_hours() == Decimal("24.00")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_edit_in_another_process_is_seen_through_the_shared_cache():
    """As in production: gunicorn workers and the admin are separate processes sharing Redis."""
    prefix = f"refcache-test-{uuid.uuid4().hex[:8]}"
    redis_cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                               "KEY_PREFIX": prefix}}
    with override_settings(CACHES=redis_cache):
        assert fresh_hours() == Decimal("48.00")
        assert offered_reason(Reason.objects.get(code="wrong_item").pk) is not None

        db = connection.settings_dict
        script = ("import django; django.setup()\n"
                  "from django.conf import settings\n"
                  f"settings.CACHES['default']['KEY_PREFIX'] = {prefix!r}\n"
                  "from policies.models import Policy\nfrom reasons.models import Reason\n"
                  "row = Policy.objects.get(key='fresh_claim_hours'); row.value = 24; row.save()\n"
                  "row = Reason.objects.get(code='wrong_item'); row.is_visible = False; row.save()\n")
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "REDIS_URL": REDIS_URL,
               "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
               "SECRET_KEY": "refcache-test"}
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr[-3000:]

        assert fresh_hours() == Decimal("24.00")
        assert offered_reason(Reason.objects.get(code="wrong_item").pk) is None


@pytest.mark.django_db
def test_without_an_edit_the_held_reasons_serve_claims_without_a_query(django_assert_max_num_queries, buyer):
    order = make_order(buyer=buyer, delivered_ago=dt.timedelta(days=1))
    submit(order, type="return_refund", reason_code="no_reason_7d")
    reason = Reason.objects.get(code="no_reason_7d")

    with django_assert_max_num_queries(0):
        assert offered_reason(reason.pk) == reason
        assert offered_reason(10**12) is None
        assert offered_reason(True) is None
