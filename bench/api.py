"""API throughput benchmark: ticket submission, detail and list against a trivial authenticated endpoint.

    .venv/bin/python bench/api.py [--duration 10] [--warmup 2] [--clients 8] [--with-idempotency]

What it does (see docs/benchmarks.md):
1. creates a scratch PostgreSQL database of its own (``aftersales_bench_<pid>``), migrates it and loads
   orders, tickets and API tokens with bench/seed.py (a Django script run as a subprocess);
2. starts the app under gunicorn with gunicorn.conf.py (sync workers, 2 x cores + 1 unless --workers;
   DEBUG off, throttles set out of the way);
3. drives it from this process with a pool of keep-alive HTTP clients (stdlib http.client), only on
   127.0.0.1, each scenario bounded in time and in count, after a short warm-up;
4. prints requests/s, p50/p99 latency, errors and the throughput ratio to GET /api/v1/ping/;
5. always stops gunicorn and drops the database, even when something fails.

The server to use is BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres, a maintenance
database on a local trust-auth server). DATABASE_URL is not used: the bench never touches another database.
"""

import argparse
import http.client
import itertools
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from scratch import drop_database, parse_arguments, pg_urls, recreate_database

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"
GOAL = 0.40  # the issue: submission at least 40 % of the trivial endpoint's throughput


# --------------------------------------------------------------------------------------------- database


def django_env(db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": db_url,
        "SECRET_KEY": "bench-only-secret", "DEBUG": "0", "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "0", "SECURE_HSTS_SECONDS": "0",
        "THROTTLE_USER": "1000000/min", "THROTTLE_IP": "1000000/min",
        "CONN_MAX_AGE": "60", "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1", "GUNICORN_ACCESS_LOG": "",
    })
    return env


def run_step(title: str, cmd: list[str], env: dict[str, str], timeout: float) -> str:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise RuntimeError(f"{title} failed (exit {proc.returncode})")
    print(f"  {title}: {time.perf_counter() - started:.1f} s", flush=True)
    return proc.stdout


# --------------------------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, workers: int, log_path: Path) -> subprocess.Popen:
    # The production settings (gunicorn.conf.py, read from ROOT) with this address and worker count.
    cmd = [str(VENV_BIN / "gunicorn"), "config.wsgi:application", "--bind", f"{HOST}:{port}",
           "--graceful-timeout", "5", "--log-level", "warning", "--workers", str(workers)]
    with open(log_path, "w") as log:  # the child keeps its own descriptor
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def wait_until_up(proc: subprocess.Popen, port: int, token: str, log_path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/api/v1/ping/", headers={"Authorization": f"Token {token}"})
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
            raise RuntimeError(f"GET /api/v1/ping/ answered {status}:\n{log_path.read_text()[-3000:]}")
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{log_path.read_text()[-3000:]}")


def stop_gunicorn(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # the master stops its workers
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the session started with it: master and its workers
        proc.wait(timeout=5)


# --------------------------------------------------------------------------------------------- CPU


def _cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process, from /proc (Linux); None if it is gone or not visible."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(ppid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == ppid:
                pids.append(int(entry.name))
    return pids


class CpuMeter:
    """CPU time used by the app (gunicorn master and workers) and by the PostgreSQL backends serving
    the bench database, between two snapshots: a cost per request that other load on the machine does
    not distort the way it distorts throughput. Backends are only visible when the server is local."""

    def __init__(self, server: subprocess.Popen, admin_url: str, db_name: str):
        self.server, self.db_name = server, db_name
        self.conn = psycopg.connect(admin_url, autocommit=True)

    def _backends(self) -> list[int]:
        rows = self.conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.db_name]).fetchall()
        return [r[0] for r in rows]

    def snapshot(self) -> dict[str, dict[int, float]]:
        app = [self.server.pid, *_children(self.server.pid)]
        return {"app": {p: c for p in app if (c := _cpu_seconds(p)) is not None},
                "db": {p: c for p in self._backends() if (c := _cpu_seconds(p)) is not None},
                "client": {os.getpid(): time.process_time()}}

    @staticmethod
    def used(before: dict, after: dict) -> dict[str, float | None]:
        """Seconds per kind; a process first seen in ``after`` counts from zero. None: not measurable."""
        return {kind: (sum(c - before[kind].get(p, 0.0) for p, c in after[kind].items())
                       if after[kind] else None) for kind in after}

    def close(self) -> None:
        self.conn.close()


# --------------------------------------------------------------------------------------------- load



@dataclass
class Request:
    method: str
    path: str
    token: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    name: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)
    cpu: dict[str, float | None] = field(default_factory=dict)  # seconds used during the phase

    def cpu_ms(self, kind: str) -> float | None:
        used = self.cpu.get(kind)
        return used * 1000 / self.requests if used is not None and self.requests else None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: int) -> float:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else float("nan")
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[p - 1]


class Source:
    """Hands out the requests of one phase to the client threads; None when exhausted (thread-safe)."""

    def __init__(self, make: Callable[[int], Request | None]):
        self._make, self._counter, self._lock = make, itertools.count(), threading.Lock()

    def next(self) -> Request | None:
        with self._lock:
            return self._make(next(self._counter))


def drive(name: str, port: int, source: Source, expected: int, *, clients: int, seconds: float,
          max_requests: int) -> Result:
    """``clients`` threads, each on its own keep-alive connection, until ``seconds`` have passed,
    ``max_requests`` have been sent or the source is exhausted. Every response is read and checked."""
    result, lock = Result(name), threading.Lock()
    budget = itertools.count()
    started = time.perf_counter()
    deadline = started + seconds

    def client() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        latencies, errors, samples = [], 0, []
        try:
            while time.perf_counter() < deadline and next(budget) < max_requests:
                req = source.next()
                if req is None:
                    break
                headers = {"Authorization": f"Token {req.token}", "Accept": "application/json", **req.headers}
                if req.body is not None:
                    headers["Content-Type"] = "application/json"
                t0 = time.perf_counter()
                try:
                    conn.request(req.method, req.path, body=req.body, headers=headers)
                    response = conn.getresponse()
                    payload = response.read()
                    status = response.status
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()  # http.client reconnects on the next request
                    status, payload = None, repr(exc).encode()
                latencies.append((time.perf_counter() - t0) * 1000)
                if status != expected:
                    errors += 1
                    if len(samples) < 3:
                        samples.append(f"{req.method} {req.path} -> {status}: {payload[:300]!r}")
        finally:
            conn.close()
            with lock:
                result.latencies_ms.extend(latencies)
                result.errors += errors
                result.error_samples.extend(samples[: max(0, 3 - len(result.error_samples))])

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    result.seconds = time.perf_counter() - started
    result.requests = len(result.latencies_ms)
    return result


def interleave(groups: list[list]) -> list:
    """Round-robin over the groups: a, b, c, a, b, c, ..."""
    return [x for row in itertools.zip_longest(*groups) for x in row if x is not None]


@dataclass
class Scenario:
    name: str
    expected: int
    source: Callable[[], Source]  # a new request source per phase (warm-up, measure)
    baseline: bool = False
    goal: bool = False


def scenarios(data: dict, *, with_idempotency: bool) -> list[Scenario]:
    """The scenarios, in order. Requests rotate over the buyers."""
    buyers, reason_id = data["buyers"], data["reason_id"]

    def ping() -> Source:
        return Source(lambda i: Request("GET", "/api/v1/ping/", buyers[i % len(buyers)]["token"]))

    # One fresh order line per submission, 1 unit of it, shared by every submitting phase: none is refused.
    fresh = iter(interleave([[(b["token"], order, line) for order, line in b["fresh_lines"]] for b in buyers]))
    keys = itertools.count()

    def submission(idempotency: bool) -> Callable[[], Source]:
        def make(i: int) -> Request | None:
            item = next(fresh, None)
            if item is None:
                return None
            token, order_no, line_id = item
            body = json.dumps({"order_no": order_no, "type": "return_refund", "reason_id": reason_id,
                               "description": "bench", "lines": [{"order_line_id": line_id, "quantity": 1}]})
            headers = {"Idempotency-Key": f"bench-{next(keys)}"} if idempotency else {}
            return Request("POST", "/api/v1/tickets/", token, body.encode(), headers)

        return lambda: Source(make)

    tickets = interleave([[(b["token"], no) for no in b["tickets"]] for b in buyers])

    def detail() -> Source:
        def make(i: int) -> Request:
            token, no = tickets[i % len(tickets)]
            return Request("GET", f"/api/v1/tickets/{no}/", token)

        return Source(make)

    def listing() -> Source:
        return Source(lambda i: Request("GET", "/api/v1/tickets/", buyers[i % len(buyers)]["token"]))

    result = [
        Scenario("GET /ping/ (baseline)", 200, ping, baseline=True),
        Scenario("POST /tickets/ (submit)", 201, submission(False), goal=True),
    ]
    if with_idempotency:
        result.append(Scenario("POST /tickets/ + Idempotency-Key", 201, submission(True)))
    result += [
        Scenario("GET /tickets/{no}/ (detail)", 200, detail),
        Scenario("GET /tickets/ (list)", 200, listing),
    ]
    return result


# --------------------------------------------------------------------------------------------- report


def _ms(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "-"


def print_table(results: list[tuple[Scenario, Result]]) -> bool:
    """The table, then the goal. Returns whether the goal is met."""
    baseline = next(r for s, r in results if s.baseline)
    header = (f"{'scenario':<33} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
              f"{'vs ping':>7} {'app cpu':>8} {'db cpu':>7} {'client':>7}")
    print()
    print(header)
    print(f"{'':<33} {'':>8} {'':>7} {'':>7} {'':>7} {'':>6} {'':>7} {'ms/req':>8} {'ms/req':>7} {'ms/req':>7}")
    print("-" * len(header))
    for scenario, r in results:
        ratio = r.rps / baseline.rps if baseline.rps else float("nan")
        print(f"{scenario.name:<33} {r.requests:>8} {r.rps:>7.1f} {r.percentile(50):>7.1f} {r.percentile(99):>7.1f} "
              f"{r.errors:>6} {ratio:>7.0%} {_ms(r.cpu_ms('app')):>8} {_ms(r.cpu_ms('db')):>7} "
              f"{_ms(r.cpu_ms('client')):>7}")
    print()
    print("req/s and latencies: measured phase only (after warm-up); vs ping: throughput / the baseline's.")
    print("cpu ms/req: CPU time per request of the gunicorn processes (app), of the PostgreSQL backends of the")
    print("bench database (db) and of this driver (client), all on the same machine.")
    goal_met = True
    for scenario, r in results:
        if not scenario.goal:
            continue
        ratio = r.rps / baseline.rps if baseline.rps else 0.0
        met = ratio >= GOAL and r.errors == 0
        goal_met &= met
        cost, base = _server_cost(r), _server_cost(baseline)
        if cost and base:
            print(f"Server CPU per request (app + db): ping {base:.2f} ms, submission {cost:.2f} ms -> on CPU alone "
                  f"submission could reach {base / cost:.0%} of the baseline's throughput.")
        print(f"Goal: submission >= {GOAL:.0%} of the baseline's throughput: {ratio:.0%} -> "
              f"{'MET' if met else 'NOT MET'}" + ("" if r.errors == 0 else f" ({r.errors} errors)"))
    for _, r in results:
        for sample in r.error_samples:
            print(f"  error sample [{r.name}]: {sample}")
    return goal_met


def _server_cost(r: Result) -> float | None:
    app, db = r.cpu_ms("app"), r.cpu_ms("db")
    return app + db if app is not None and db is not None else None


# --------------------------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per scenario")
    parser.add_argument("--max-requests", type=int, default=20000, help="cap per measured phase")
    parser.add_argument("--clients", type=int, default=8, help="concurrent keep-alive clients")
    parser.add_argument("--workers", type=int, default=0,
                        help="gunicorn workers (default: gunicorn.conf.py's, 2 x cores + 1)")
    parser.add_argument("--buyers", type=int, default=10)
    parser.add_argument("--orders", type=int, default=4000, help="orders in total (3 lines each)")
    parser.add_argument("--tickets", type=int, default=2000, help="existing tickets, in total")
    parser.add_argument("--with-idempotency", action="store_true",
                        help="also measure submissions that send an Idempotency-Key header")
    args = parse_arguments(parser, "aftersales_bench")

    admin_url, db_url = pg_urls(args.db_name)
    env = django_env(db_url)
    tmp = Path(tempfile.mkdtemp(prefix="aftersales-bench-"))
    log_path = tmp / "gunicorn.log"
    server: subprocess.Popen | None = None
    created = False
    try:
        print(f"Setting up {args.db_name} on {urlsplit(admin_url).netloc} ...", flush=True)
        recreate_database(admin_url, args.db_name)
        created = True
        run_step("migrate", [sys.executable, "manage.py", "migrate", "--noinput"], env, timeout=300)
        data_path = tmp / "data.json"
        seeded = run_step("seed (bench/seed.py)", [
            sys.executable, str(ROOT / "bench" / "seed.py"), str(data_path), "--buyers", str(args.buyers),
            "--orders", str(args.orders), "--tickets", str(args.tickets)], env, timeout=600)
        print(f"  {seeded.strip().splitlines()[-1]}")
        data = json.loads(data_path.read_text())

        args.workers = args.workers or (os.cpu_count() or 1) * 2 + 1  # gunicorn.conf.py's default
        port = free_port()
        server = start_gunicorn(env, port, args.workers, log_path)
        wait_until_up(server, port, data["buyers"][0]["token"], log_path)
        print(f"gunicorn: {args.workers} workers on {HOST}:{port}; {args.clients} clients, "
              f"{args.warmup:g} s warm-up + {args.duration:g} s per scenario", flush=True)

        meter = CpuMeter(server, admin_url, args.db_name)
        results = []
        try:
            for scenario in scenarios(data, with_idempotency=args.with_idempotency):
                drive(scenario.name, port, scenario.source(), scenario.expected, clients=args.clients,
                      seconds=args.warmup, max_requests=args.max_requests)
                before = meter.snapshot()
                r = drive(scenario.name, port, scenario.source(), scenario.expected, clients=args.clients,
                          seconds=args.duration, max_requests=args.max_requests)
                r.cpu = CpuMeter.used(before, meter.snapshot())
                print(f"  {scenario.name}: {r.requests} requests, {r.rps:.1f}/s, {r.errors} errors", flush=True)
                results.append((scenario, r))
        finally:
            meter.close()
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn died during the run:\n{log_path.read_text()[-3000:]}")
        print_table(results)
        if any(r.errors for _, r in results):
            print(f"gunicorn log (tail):\n{log_path.read_text()[-2000:]}")
            return 1  # figures with failed requests are not to be trusted
        return 0
    finally:
        if server is not None:
            stop_gunicorn(server)
        if created and not args.keep_db:
            try:
                drop_database(admin_url, args.db_name)
            except psycopg.Error as exc:
                print(f"could not drop {args.db_name}: {exc}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
