"""docs/webhooks.md tells the truth: its receiver (run as written) accepts what we sign, refuses a tampered
body and ignores a repeat; its catalogue table names every type with the data fields shapes.DATA gives; its
retry table is events.delivery.schedule()."""

import io
import json
import re
import time
from pathlib import Path
from wsgiref.util import setup_testing_defaults

import pytest

from events import catalogue, signing
from events.delivery import RETRY_WINDOW, body_of, schedule
from events.models import Event
from events.outbox import sequence
from events.shapes import DATA
from tests.factories import make_order, submit

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def section(title: str) -> str:
    text = DOC.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def receiver(secret: str, monkeypatch) -> dict:
    """The doc's receiver, run as written, with its secret in the environment it reads."""
    [code] = re.findall(r"```python\n(.*?)```", section("A receiver in Python"), re.S)
    assert len(code.strip().splitlines()) <= 25
    monkeypatch.setenv("AFTERSALES_WEBHOOK_SECRET", secret)
    namespace = {"__name__": "receiver"}
    exec(compile(code, "docs/webhooks.md", "exec"), namespace)  # noqa: S102 - the doc's own snippet
    return namespace


def post(app, body: bytes, headers: dict[str, str]) -> str:
    environ = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json",
               "wsgi.input": io.BytesIO(body),
               **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}}
    setup_testing_defaults(environ)
    answered = []
    b"".join(app(environ, lambda status, _headers: answered.append(status)))
    return answered[0]


@pytest.fixture
def signed(buyer):
    """A real event's body, as delivery sends it, and a signer for it."""
    ticket = submit(make_order(buyer=buyer))
    sequence()
    event = Event.objects.select_related("shop").get(ticket=ticket)
    body = body_of(event)

    def sign(secrets: list[str], payload: bytes = body) -> dict[str, str]:
        return signing.headers(secrets, msg_id=str(event.uuid), timestamp=int(time.time()), body=payload)

    return event, body, sign


@pytest.mark.django_db
def test_the_receiver_accepts_a_signed_event_refuses_a_tampered_one_and_ignores_a_repeat(signed, monkeypatch):
    event, body, sign = signed
    secret = signing.new_secret()
    snippet = receiver(secret, monkeypatch)

    assert post(snippet["app"], body, sign([secret])).startswith("2")
    assert snippet["inbox"] == [json.loads(body)]
    assert snippet["inbox"][0]["id"] == str(event.uuid)

    tampered = body.replace(b'"ticket.submitted"', b'"ticket.completed"')
    assert tampered != body
    assert post(snippet["app"], tampered, sign([secret])).startswith("400")  # the signature is the body's
    assert post(snippet["app"], body, sign([signing.new_secret()])).startswith("400")  # another secret's
    assert post(snippet["app"], body, {}).startswith("400")  # no headers at all
    assert len(snippet["inbox"]) == 1

    assert post(snippet["app"], body, sign([secret])).startswith("2")  # the same webhook-id again: answered...
    assert len(snippet["inbox"]) == 1  # ... and not done twice


@pytest.mark.django_db
def test_during_a_rotation_the_receiver_verifies_with_the_old_secret_or_the_new(signed, monkeypatch):
    _event, body, sign = signed
    old, new = signing.new_secret(), signing.new_secret()

    for secret in (old, new):
        snippet = receiver(secret, monkeypatch)
        assert post(snippet["app"], body, sign([new, old])).startswith("2")
        assert len(snippet["inbox"]) == 1


@pytest.mark.django_db
def test_a_stale_timestamp_is_refused(signed, monkeypatch):
    event, body, _sign = signed
    secret = signing.new_secret()
    snippet = receiver(secret, monkeypatch)
    stale = signing.headers([secret], msg_id=str(event.uuid), timestamp=int(time.time()) - 3600, body=body)

    assert post(snippet["app"], body, stale).startswith("4")
    assert snippet["inbox"] == []


def test_the_catalogue_table_names_every_type_with_its_data_fields_and_final_flag():
    rows = {}
    for line in section("The catalogue").splitlines():
        found = re.match(r"\| `([a-z_.]+)` \| (.*) \| (.*) \| (\**yes\**|no) \|$", line)
        if found:
            rows[found[1]] = (found[3], "yes" in found[4])
    assert list(rows) == list(catalogue.TYPES)
    for code, (fields, final) in rows.items():
        assert final == catalogue.TYPES[code].final, code
        named = set(re.findall(r"`([a-z_]+)`", re.sub(r"\([^()]*\)", "", fields)))  # not what is in brackets
        assert named == set(DATA[code]().fields) - {"ticket"}, code


def human(delta) -> str:
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "at once"
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "", f"{seconds} s" if seconds else ""]
    return "+" + " ".join(p for p in parts if p)


def test_the_retry_table_is_the_schedule():
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", section("Retries"), re.M)

    assert rows == [(str(n), human(at)) for n, at in enumerate(schedule(), start=1)]
    assert schedule()[-1] == RETRY_WINDOW
    assert "±25 %" in section("Retries")
