"""A real HTTP receiver for the webhook tests: a ThreadingHTTPServer on 127.0.0.1 in a thread of the test,
answering as the test scripts it and keeping every request (headers and body) it got."""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

OK = b'{"ok":true}'


@dataclass(frozen=True)
class Reply:
    """One answer: its status and body, after ``delay`` seconds; ``stream`` bytes announced and written in
    chunks instead of ``body`` (a huge body the sender must not read whole); ``drip``: the body byte by byte."""

    status: int = 200
    body: bytes = OK
    delay: float = 0.0
    headers: tuple = ()
    stream: int = 0
    drip: float = 0.0  # seconds between the body's bytes, written one at a time (a receiver that stalls us)
    hang_up: bool = False  # close the connection after answering, without saying so (an idle keep-alive expiring)


@dataclass
class Received:
    headers: dict
    body: bytes
    path: str
    at: float
    fully_answered: bool | None = None  # whether the whole answer could be written (None: not yet)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def event(self) -> dict:
        return json.loads(self.body)

    def verify(self, secret: str) -> dict:
        """The event, if the request verifies with ``secret`` (standardwebhooks raises otherwise)."""
        return Webhook(secret).verify(self.body, self.headers)


@dataclass
class Receiver:
    """``answers``: replies used in order, one per request; then ``rule(request)`` if it returns one; then
    ``default`` (``status``: a default of that status, saying no when it is not a 2xx). Serves from the
    start; ``with Receiver() as r:`` stops it at the end, or the ``receiver`` fixture (tests/events/conftest.py)."""

    answers: list = field(default_factory=list)
    rule: Callable[[Received], Reply | None] | None = None
    default: Reply | None = None
    requests: list = field(default_factory=list)
    status: int = 200

    def __post_init__(self):
        if self.default is None:
            self.default = Reply(self.status, OK if self.status < 300 else b"receiver says no")
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/aftersales"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def _take(self, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            if self.answers:
                return self.answers.pop(0)
        return (self.rule(received) if self.rule else None) or self.default

    # what the tests read

    def got(self) -> list[Received]:
        with self._lock:
            return list(self.requests)

    @property
    def received(self) -> list[tuple[dict, bytes]]:
        """(headers, body) of each request, in order."""
        return [(r.headers, r.body) for r in self.got()]

    def ids(self) -> list[str]:
        return [r.webhook_id for r in self.got()]

    def wait_for(self, count: int, *, seconds: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + seconds
        while len(self.got()) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.got()


def _handler_for(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps the connection open between POSTs, as most receivers do

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            received = Received(headers={k.lower(): v for k, v in self.headers.items()}, body=body, path=self.path,
                                at=time.time())
            reply = receiver._take(received)
            if reply.delay:
                time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.send_header("content-length", str(reply.stream or len(reply.body)))
                self.end_headers()
                if reply.drip:
                    for i in range(len(reply.body)):
                        self.wfile.write(reply.body[i:i + 1])
                        self.wfile.flush()
                        time.sleep(reply.drip)
                elif reply.stream:
                    chunk = b"x" * 65536
                    for _ in range(reply.stream // len(chunk)):
                        self.wfile.write(chunk)
                else:
                    self.wfile.write(reply.body)
                self.wfile.flush()
                received.fully_answered = True
                self.close_connection = reply.hang_up
            except OSError:  # the sender hung up: it waited long enough, or read what it wanted
                received.fully_answered = False
                self.close_connection = True

        def log_message(self, *args):
            pass

    return Handler
