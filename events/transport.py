"""One POST to a receiver, safely: the address checked when it is sent, not only when it was registered.

- The host is resolved now and every address it resolves to must be public (no private, loopback,
  link-local, multicast, reserved or unspecified address) unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES is on (a
  local setup). The connection goes to the address that was checked, never to a second lookup (a DNS answer
  that changes between check and connect cannot send us inside); TLS still verifies the host's name.
- 5 s to connect and 5 s in all for the answer (WEBHOOK_TIMEOUT_SECONDS): a watchdog cuts the connection
  at the limit, however slowly the receiver drips its answer; redirects are never followed (a 3xx is a
  failure); at most WEBHOOK_RESPONSE_EXCERPT bytes of the body are read.
- A connection is reused for the next POST to the same endpoint while the receiver keeps it open.
"""

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

USER_AGENT = "aftersales-webhooks/1"


class AddressRefused(Exception):
    """The URL may not be called: a scheme, host or address the settings refuse."""


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer at all (see error)
    latency_ms: int
    error: str
    excerpt: str
    stale: bool = False  # the connection was closed before any answer: a kept-open one may simply have expired

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def check_url(url: str, *, resolve: bool = True) -> None:
    """Raise AddressRefused if ``url`` may not receive events under the settings (https in production;
    public addresses only unless allowed). Resolving is what delivery does; registration does it too."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise AddressRefused(_("Not an http(s) URL."))
    if parts.scheme != "https" and settings.WEBHOOK_REQUIRE_HTTPS:
        raise AddressRefused(_("Only https URLs may receive events."))
    if parts.username or parts.password:
        raise AddressRefused(_("No user or password in the URL: the signature is how a receiver knows us."))
    if resolve:
        addresses(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))


def addresses(host: str, port: int) -> list[str]:
    """The host's addresses, each allowed, or AddressRefused naming the first that is not."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(_("The host %(host)s does not resolve (%(error)s).") % {"host": host, "error": exc}) from None
    ips = list(dict.fromkeys(info[4][0] for info in found))
    if not settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        for ip in ips:
            if not _public(ipaddress.ip_address(ip.split("%")[0])):
                raise AddressRefused(_("The host %(host)s resolves to %(address)s, a private or local address.") % {
                    "host": host, "address": ip})
    if not ips:
        raise AddressRefused(_("The host %(host)s does not resolve.") % {"host": host})
    return ips


NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known prefix: the IPv4 address is the last 32 bits


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A global address, and so is any IPv4 address carried inside an IPv6 one (6to4, Teredo, NAT64 and
    mapped addresses are routed to that IPv4 address: 2002:7f00:1:: reaches 127.0.0.1 through a relay)."""
    if not ip.is_global:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        inside = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
        if ip in NAT64:
            inside.append(ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF))
        return all(v4.is_global for v4 in inside if v4 is not None)
    return True


class _Pinned:
    """Connect to the address already checked; speak TLS to the host's name."""

    def __init__(self, *args, ip: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._ip = ip

    def connect(self):
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if isinstance(self, http.client.HTTPSConnection):
            sock = self._context.wrap_socket(sock, server_hostname=self.host)
        self.sock = sock


class _PinnedHTTP(_Pinned, http.client.HTTPConnection):
    pass


class _PinnedHTTPS(_Pinned, http.client.HTTPSConnection):
    pass


class Sender:
    """POSTs to one URL; keeps the connection between POSTs. Use as a context manager."""

    def __init__(self, url: str):
        self.url = url
        parts = urlsplit(url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._https else 80)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._conn: http.client.HTTPConnection | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            check_url(self.url, resolve=False)
            ip = addresses(self._host, self._port)[0]
            timeout = settings.WEBHOOK_TIMEOUT_SECONDS
            if self._https:
                self._conn = _PinnedHTTPS(self._host, self._port, timeout=timeout, ip=ip,
                                          context=ssl.create_default_context())
            else:
                self._conn = _PinnedHTTP(self._host, self._port, timeout=timeout, ip=ip)
        return self._conn

    def post(self, body: bytes, headers: dict[str, str]) -> Answer:
        """POST once; if a kept-open connection turns out closed by the receiver meanwhile (it may close an idle
        one at any time), once more on a new connection, as any HTTP client does."""
        reused = self._conn is not None and self._conn.sock is not None
        answer = self._post(body, headers)
        if reused and answer.stale:
            answer = self._post(body, headers)
        return answer

    def _post(self, body: bytes, headers: dict[str, str]) -> Answer:
        started = time.monotonic()
        try:
            conn = self._connection()
        except AddressRefused as exc:
            return Answer(None, 0, str(exc), "")
        limit = settings.WEBHOOK_TIMEOUT_SECONDS
        try:
            if conn.sock is None:
                conn.connect()  # within the limit (the socket's timeout)
        except OSError as exc:
            self.close()
            return Answer(None, _ms(started), _error(exc), "")
        # Then the limit for the answer in all. A socket timeout bounds each read, not the answer: a receiver
        # sending a byte now and then would hold the worker as long as it liked. At the limit the watchdog cuts
        # the connection, whatever it is doing.
        asked = time.monotonic()
        expired = threading.Event()
        watchdog = threading.Timer(limit, _cut, args=(conn, expired))
        watchdog.daemon = True
        watchdog.start()
        try:
            conn.request("POST", self._path, body=body, headers={
                **headers, "content-type": "application/json", "user-agent": USER_AGENT})
            response = conn.getresponse()
            excerpt = response.read(settings.WEBHOOK_RESPONSE_EXCERPT)
            if not response.isclosed():  # more than we read: the connection cannot carry the next POST
                self.close()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            if expired.is_set():
                return Answer(None, _ms(started), "Timed out.", "")
            stale = isinstance(exc, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError)
            return Answer(None, _ms(started), _error(exc), "", stale=stale)
        finally:
            watchdog.cancel()
        if response.will_close or expired.is_set():
            self.close()
        latency = _ms(started)
        if expired.is_set() or time.monotonic() - asked > limit:
            return Answer(None, latency, "Timed out: the answer took longer than the limit.", "")
        error = "" if 200 <= status < 300 else (
            f"HTTP {status}: redirects are not followed" if 300 <= status < 400 else f"HTTP {status}")
        return Answer(status, latency, error, excerpt.decode("utf-8", "replace"))


def _cut(conn: http.client.HTTPConnection, expired: threading.Event) -> None:
    expired.set()
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _error(exc: Exception) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "Timed out."
    if isinstance(exc, ConnectionRefusedError):
        return "Connection refused."
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"[:300]
    return f"{type(exc).__name__}: {exc}"[:300]
