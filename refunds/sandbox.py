"""A sandbox payment provider that behaves like a real one, and the two adapters that reach it.

The sandbox pays into its ledger (``GatewayPayout``, one row per key: one movement of money), honours
the idempotency key (the same key again answers the first payment and pays nothing; the same key with
another amount is refused) and, when told to, misbehaves the way providers do: it is slow, it declines
some refunds (always the same keys: a declined key stays declined), it fails some calls before doing
anything, and it pays some refunds and then never answers.

- ``InProcessGateway`` calls it in the worker's own process: the default for the demo, a fresh install
  and the tests, with no faults.
- ``HttpGateway`` speaks to it over HTTP with a real socket timeout, the way an adapter for a real
  provider would; ``manage.py run_refund_sandbox`` serves it on 127.0.0.1 (``SandboxServer``).
"""

import hashlib
import http.client
import json
import logging
import random
import threading
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext_noop

from refunds.gateway import GatewayDeclined, GatewayError, GatewayResult, GatewayTimeout
from refunds.models import GatewayPayout

logger = logging.getLogger(__name__)


# Stored in English (in the refund and its attempts), shown translated (refunds.models.gateway_words).
DECLINED = gettext_noop("sandbox: the original payment account refused the refund")
UNAVAILABLE = gettext_noop("sandbox: service temporarily unavailable")


@dataclass(frozen=True)
class Faults:
    """How badly the sandbox behaves. Rates are per call, from 0 to 1."""

    latency_ms: int = 0
    decline_rate: float = 0.0
    error_rate: float = 0.0  # fails before doing anything
    timeout_after_success_rate: float = 0.0  # pays, then gives no answer
    hang_ms: int = 5000  # how long the HTTP sandbox holds a call it will not answer in time


class KeyReused(GatewayDeclined):
    """The same idempotency key with another amount: a caller's bug, refused."""


class PaidButNoAnswer(GatewayTimeout):
    """The money moved and the answer was lost (the in-process form of a timeout after success)."""


class Sandbox:
    def __init__(self, faults: Faults | None = None, *, seed: int | None = None):
        self.faults = faults or Faults()
        self.seed = seed
        self._random = random.Random(seed)

    def refund(self, *, idempotency_key: str, amount: Decimal, order_no: str) -> GatewayResult:
        self._wait()
        if self._random.random() < self.faults.error_rate:
            raise GatewayError(UNAVAILABLE)
        if self._declines(idempotency_key):
            raise GatewayDeclined(DECLINED)
        result = self._pay(idempotency_key, amount, order_no)
        if self._random.random() < self.faults.timeout_after_success_rate:
            raise PaidButNoAnswer("sandbox: paid, then no answer")
        return result

    def status(self, *, idempotency_key: str) -> GatewayResult | None:
        self._wait()
        if self._random.random() < self.faults.error_rate:
            raise GatewayError(UNAVAILABLE)
        payout = GatewayPayout.objects.filter(idempotency_key=idempotency_key).first()
        return None if payout is None else GatewayResult(payout.reference, payout.amount)

    def _wait(self) -> None:
        if self.faults.latency_ms:
            time.sleep(self.faults.latency_ms / 1000)

    def _declines(self, key: str) -> bool:
        """Declines are decided by the key, not drawn per call: asking again gets the same refusal."""
        digest = hashlib.sha256(f"{self.seed}:{key}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < self.faults.decline_rate

    @staticmethod
    def _pay(key: str, amount: Decimal, order_no: str) -> GatewayResult:
        try:
            with transaction.atomic():
                payout = GatewayPayout.objects.create(idempotency_key=key, amount=amount, order_no=order_no,
                                                      reference=f"RF-{key.replace('-', '')[:20].upper()}")
        except IntegrityError:  # the key was paid before (or is being paid right now: we waited for it)
            payout = GatewayPayout.objects.get(idempotency_key=key)
            if payout.amount != amount:
                raise KeyReused(f"sandbox: key {key} was used for {payout.amount}, not {amount}") from None
        return GatewayResult(payout.reference, payout.amount)


# --------------------------------------------------------------------------------------------- adapters


class InProcessGateway:
    """The sandbox in this process, no faults (tests put a faulty sandbox here)."""

    sandbox = Sandbox()

    def refund(self, *, idempotency_key: str, amount: Decimal, order_no: str) -> GatewayResult:
        return self.sandbox.refund(idempotency_key=idempotency_key, amount=amount, order_no=order_no)

    def status(self, *, idempotency_key: str) -> GatewayResult | None:
        return self.sandbox.status(idempotency_key=idempotency_key)


class HttpGateway:
    """The sandbox over HTTP (REFUND_GATEWAY_URL), every call bounded by REFUND_GATEWAY_TIMEOUT seconds.

    One keep-alive connection per thread. A call that could not be sent is a transient error; a call
    sent and not answered (timeout, connection lost, a gateway 5xx other than 503) is a timeout: the
    money may have moved."""

    _local = threading.local()

    def __init__(self):
        url = urlsplit(settings.REFUND_GATEWAY_URL)
        self.address = (url.hostname, url.port or 80)
        self.prefix = url.path.rstrip("/")
        self.timeout = settings.REFUND_GATEWAY_TIMEOUT

    def refund(self, *, idempotency_key: str, amount: Decimal, order_no: str) -> GatewayResult:
        status, body = self._call("POST", "/refunds", {
            "idempotency_key": idempotency_key, "amount": str(amount), "order_no": order_no})
        if status == 200:
            return GatewayResult(body["reference"], Decimal(body["amount"]))
        if status == 409:
            raise KeyReused(body.get("detail", "key reused"))
        if status == 402:
            raise GatewayDeclined(body.get("detail", "declined"))
        return self._error(status, body)

    def status(self, *, idempotency_key: str) -> GatewayResult | None:
        status, body = self._call("GET", f"/refunds/{idempotency_key}", None)
        if status == 200:
            return GatewayResult(body["reference"], Decimal(body["amount"]))
        if status == 404:
            return None
        return self._error(status, body)

    @staticmethod
    def _error(status: int, body: dict):
        detail = f"gateway answered {status}: {body.get('detail', '')}"
        if status == 503:
            raise GatewayError(detail)
        raise GatewayTimeout(detail)

    def _call(self, method: str, path: str, payload: dict | None) -> tuple[int, dict]:
        conn = self._connection()
        data = None if payload is None else json.dumps(payload).encode()
        try:
            conn.request(method, self.prefix + path, body=data, headers={"Content-Type": "application/json"})
        except OSError as exc:
            self._drop()
            raise GatewayError(f"gateway unreachable: {exc}") from exc
        try:
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:  # socket timeout included
            self._drop()
            raise GatewayTimeout(f"no answer from the gateway: {exc!r}") from exc
        try:
            return response.status, json.loads(raw or b"{}")
        except ValueError:
            return response.status, {"detail": raw[:200].decode(errors="replace")}

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "connection", None)
        if conn is None or (conn.host, conn.port) != self.address or conn.timeout != self.timeout:
            conn = http.client.HTTPConnection(*self.address, timeout=self.timeout)
            self._local.connection = conn
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "connection", None)
        if conn is not None:
            conn.close()
        self._local.connection = None


# --------------------------------------------------------------------------------------------- server


class _Handler(BaseHTTPRequestHandler):
    """POST /refunds {idempotency_key, amount, order_no}; GET /refunds/<key>. JSON in and out."""

    protocol_version = "HTTP/1.1"  # keep-alive: one connection (and one database connection) per client
    server: "SandboxServer"

    def do_POST(self):
        if self.path.rstrip("/") != "/refunds":
            return self._send(404, {"detail": "not found"})
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            key, amount, order_no = str(body["idempotency_key"]), Decimal(body["amount"]), str(body["order_no"])
        except (ValueError, KeyError, TypeError, InvalidOperation):
            return self._send(400, {"detail": "idempotency_key, amount (decimal string) and order_no"})
        try:
            result = self.server.sandbox.refund(idempotency_key=key, amount=amount, order_no=order_no)
        except PaidButNoAnswer:
            time.sleep(self.server.sandbox.faults.hang_ms / 1000)
            return self._send(504, {"detail": "paid, answered too late"})
        except KeyReused as exc:
            return self._send(409, {"detail": str(exc)})
        except GatewayDeclined as exc:
            return self._send(402, {"detail": str(exc)})
        except GatewayError as exc:
            return self._send(503, {"detail": str(exc)})
        self._send(200, {"reference": result.reference, "amount": str(result.amount)})

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != "refunds":
            return self._send(404, {"detail": "not found"})
        try:
            result = self.server.sandbox.status(idempotency_key=parts[1])
        except GatewayError as exc:
            return self._send(503, {"detail": str(exc)})
        except ValueError:  # not a uuid
            return self._send(404, {"detail": "no such refund"})
        if result is None:
            return self._send(404, {"detail": "no such refund"})
        self._send(200, {"reference": result.reference, "amount": str(result.amount)})

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the caller gave up waiting (a timeout it asked for): nothing to answer
            self.close_connection = True

    def finish(self):
        super().finish()
        connection.close()  # this thread's database connection, held for the client's connection

    def log_message(self, format, *args):
        logger.debug("%s " + format, self.address_string(), *args)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], sandbox: Sandbox):
        super().__init__(address, _Handler)
        self.sandbox = sandbox

