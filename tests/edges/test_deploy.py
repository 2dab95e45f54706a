"""Production settings: `check --deploy` is clean with a production-like environment, and the settings
refuse to start without a SECRET_KEY when DEBUG is off."""

import os
import secrets
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aftersales")


def strong_secret_key() -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(60))


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh process with only the environment given (plus what Python needs)."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    base["DJANGO_SETTINGS_MODULE"] = "config.settings"  # the real settings, not the test run's
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env={**base, **env},
                          capture_output=True, text=True, timeout=120, check=False)


def production_env(**overrides: str) -> dict[str, str]:
    env = {"DEBUG": "0", "SECRET_KEY": strong_secret_key(), "ALLOWED_HOSTS": "example.com",
           "DATABASE_URL": DATABASE_URL}
    env.update(overrides)
    return env


def test_check_deploy_is_clean_in_a_production_like_environment():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_on_a_weak_secret_key():
    """The check above can fail: a short key is a warning, and warnings fail it."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_env(SECRET_KEY="short"))

    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_check_deploy_fails_with_debug_on():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_env(DEBUG="1"))

    assert result.returncode != 0
    assert "security.W018" in result.stderr


def test_settings_refuse_to_start_without_a_secret_key_when_debug_is_unset():
    env = production_env()
    del env["SECRET_KEY"], env["DEBUG"]

    result = manage("check", **env)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_debug_alone_starts_with_the_development_key():
    """The other side of the refusal: a developer with DEBUG=1 needs no key (and gets a dev-only one)."""
    result = manage("shell", "-c", "from django.conf import settings; print(settings.SECRET_KEY)",
                    DEBUG="1", DATABASE_URL=DATABASE_URL)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("dev-only")


def test_gunicorn_reads_its_settings_file_and_loads_the_app():
    """What the compose file's web service runs: `gunicorn config.wsgi:application`, configured by
    gunicorn.conf.py (workers from WEB_CONCURRENCY)."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "gunicorn"), "--check-config", "--print-config", "config.wsgi:application"],
        cwd=BASE_DIR, env={**base, **production_env(), "DJANGO_SETTINGS_MODULE": "config.settings",
                           "WEB_CONCURRENCY": "3"},
        capture_output=True, text=True, timeout=120, check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    settings = {key.strip(): value.strip() for key, value in
                (line.split(" = ", 1) for line in result.stdout.splitlines() if " = " in line)}
    assert settings["workers"] == "3"
    assert settings["bind"] == "['0.0.0.0:8000']"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_gunicorn_workers_count_their_requests_into_one_scrape(tmp_path):
    """Multiprocess metrics (README "Production"): gunicorn empties PROMETHEUS_MULTIPROC_DIR when it starts,
    every worker writes its counts there, and a scrape answered by any worker reports them all."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"an earlier run's counts")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db = connection.settings_dict
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env = {**base, **production_env(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}", ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0", METRICS_TOKEN="scrape-0123456789", PROMETHEUS_MULTIPROC_DIR=str(folder),
        WEB_CONCURRENCY="3", GUNICORN_BIND=f"127.0.0.1:{port}", LOG_LEVEL="WARNING"),
        "DJANGO_SETTINGS_MODULE": "config.settings"}
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application"],
                              cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"

    def get(path: str, **headers) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(urllib.request.Request(url + path, headers=headers), timeout=10) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as refused:
            return refused.code, ""

    try:
        for _ in range(300):
            try:
                if get("/health/live")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        with ThreadPoolExecutor(8) as pool:  # at once, so that several workers answer
            statuses = list(pool.map(lambda _: get("/api/v1/ping/")[0], range(30)))
        scrapes = [get("/metrics", Authorization="Bearer scrape-0123456789") for _ in range(6)]
    finally:
        server.terminate()
        log = server.communicate(timeout=30)[1]

    assert statuses == [401] * 30, log[-2000:]
    assert not (folder / "counter_999999.db").exists()
    line = 'aftersales_http_requests_total{method="GET",route="api/v1/ping/",status="401"} 30.0'
    assert all(status == 200 and line in text.splitlines() for status, text in scrapes), scrapes[0][1][-1500:]
