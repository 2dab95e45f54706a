"""Content-Security-Policy (issue #14): pages run only this site's scripts and those carrying the response's
fresh nonce; what is not a page (the API's JSON, health, the schema) loads nothing; the API docs need no CDN
and no inline script. The browser tests (test_*_browser.py) check that every screen works under it."""

import re

import pytest
from django.test import Client

from tests.edges.test_deploy import manage
from tests.factories import client_for, make_order, submit

pytestmark = pytest.mark.django_db

# The browser's own viewer of a photo or of JSON opened in a tab styles it inline: style-src allows that.
NOT_A_PAGE = {"default-src": {"'none'"}, "style-src": {"'unsafe-inline'"}, "frame-ancestors": {"'none'"}}
PAGE_RULES = {"default-src": {"'self'"}, "object-src": {"'none'"}, "base-uri": {"'self'"},
              "form-action": {"'self'"}, "frame-ancestors": {"'none'"}, "img-src": {"'self'", "data:"}}


def policy(response, header="Content-Security-Policy") -> dict[str, set[str]]:
    directives = (part.split() for part in response[header].split(";") if part.strip())
    return {name: set(sources) for name, *sources in directives}


def nonce_of(response) -> str:
    (nonce,) = [s[len("'nonce-"):-1] for s in policy(response)["script-src"] if s.startswith("'nonce-")]
    return nonce


def assert_strict_page_policy(response) -> None:
    rules = policy(response)
    assert {name: rules.get(name) for name in PAGE_RULES} == PAGE_RULES
    assert rules["script-src"] - {f"'nonce-{nonce_of(response)}'"} == {"'self'"}  # no inline, no eval, no host
    assert "'nonce-" not in " ".join(rules["style-src"])  # a nonce there would switch 'unsafe-inline' off


@pytest.fixture
def ops_client(ops_user):
    client = Client()
    client.force_login(ops_user)
    return client


def test_the_admin_login_page_has_the_strict_policy_with_a_fresh_nonce_each_time():
    first, second = Client().get("/admin/login/"), Client().get("/admin/login/")

    assert first.status_code == second.status_code == 200
    assert_strict_page_policy(first)
    assert_strict_page_policy(second)
    assert nonce_of(first) != nonce_of(second)


def test_the_ticket_list_has_the_strict_policy_and_its_date_filter_script_carries_the_nonce(ops_client):
    """rangefilter's date filters are an inline script that reads request.csp_nonce: it runs with this
    response's nonce, the one script of the page without a src."""
    response = ops_client.get("/admin/tickets/ticket/")

    assert response.status_code == 200
    assert_strict_page_policy(response)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", response.content.decode())
    assert inline and all(f'nonce="{nonce_of(response)}"' in attributes for attributes in inline)


def test_the_ticket_page_has_the_strict_policy_and_no_inline_script(ops_client, buyer):
    ticket = submit(make_order(buyer=buyer))

    response = ops_client.get(f"/admin/tickets/ticket/{ticket.pk}/change/")

    assert response.status_code == 200
    assert_strict_page_policy(response)
    html = response.content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert re.findall(r"\son[a-z]+=", html) == []  # no onclick="..." handler either


def test_the_api_docs_load_swagger_ui_from_our_static_files_and_no_inline_script():
    response = Client().get("/api/docs/")

    assert response.status_code == 200
    assert_strict_page_policy(response)
    html = response.content.decode()
    sources = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', html)
    assert "/api/docs/?script=" in sources
    assert all(source.startswith("/") for source in sources), sources  # no CDN
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []

    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


@pytest.mark.parametrize("path", ["/api/v1/reasons/", "/api/v1/no-such-thing/", "/api/schema/", "/health/live",
                                  "/health/ready", "/health/", "/api/docs/?script="])
def test_what_is_not_a_page_loads_nothing_and_is_framed_by_nobody(path):
    """JSON (answers and errors), the schema, health and scripts are never documents: a browser shown one by
    mistake (or tricked into it) runs nothing from it, loads nothing for it, frames it nowhere."""
    response = Client().get(path)

    assert not response["Content-Type"].startswith("text/html")
    assert policy(response) == NOT_A_PAGE


def test_a_claim_photo_loads_nothing_either(ops_client, buyer):
    photo = submit(make_order(buyer=buyer), type="exchange", photos=1).photos.get()

    response = ops_client.get(f"/api/v1/uploads/{photo.pk}/file/")

    assert response.status_code == 200 and response["Content-Type"].startswith("image/")
    assert policy(response) == NOT_A_PAGE


def test_an_api_answer_to_a_signed_in_user_loads_nothing(buyer):
    response = client_for(buyer.user).get("/api/v1/reasons/")

    assert response.status_code == 200
    assert policy(response) == NOT_A_PAGE


PRINT_HEADERS = ("from django.test import Client; r = Client().get('/admin/login/');"
                 "print(r.get('Content-Security-Policy')); print(r.get('Content-Security-Policy-Report-Only'))")


def test_csp_report_only_reports_to_the_given_uri_and_blocks_nothing():
    """CSP_REPORT_ONLY=1 (to try a policy first) sends the same policy as Content-Security-Policy-Report-Only,
    with CSP_REPORT_URI; by default the policy is enforced and reports nowhere."""
    env = {"DEBUG": "1", "SECRET_KEY": "x", "ALLOWED_HOSTS": "testserver"}
    enforced = manage("shell", "-c", PRINT_HEADERS, **env)
    reporting = {**env, "CSP_REPORT_ONLY": "1", "CSP_REPORT_URI": "https://reports.example.com/csp"}
    reported = manage("shell", "-c", PRINT_HEADERS, **reporting)
    checked = manage("check", "--fail-level", "WARNING", **reporting)  # django-csp's own checks agree

    assert checked.returncode == 0, checked.stdout + checked.stderr
    enforcing, report_only = enforced.stdout.splitlines()[-2:]
    assert "script-src 'self' 'nonce-" in enforcing and "report-uri" not in enforcing
    assert report_only == "None"
    enforcing, report_only = reported.stdout.splitlines()[-2:]
    assert enforcing == "None"
    assert "script-src 'self' 'nonce-" in report_only
    assert "report-uri https://reports.example.com/csp" in report_only
