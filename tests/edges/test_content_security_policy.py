"""Content-Security-Policy (issue #14): pages run only this site's scripts and those carrying the response's
fresh nonce; what is not a page (the API's JSON, health, the schema) loads nothing; the API docs need no CDN
and no inline script. Styles too (issue #20): ours are files, style-src has no 'unsafe-inline'. The browser
tests (test_*_browser.py) check that every screen works under it."""

import base64
import hashlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from aftersales import clock
from demo import journeys
from tests.edges.test_admin_browser import browser, login  # noqa: F401 - browser is a fixture
from tests.edges.test_deploy import manage
from tests.factories import UserFactory, client_for, make_order, make_upload, submit
from tickets.models import Ticket
from warehouse.models import InboundPhoto

pytestmark = pytest.mark.django_db
S = Ticket.Status

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
    # Styles: our files, a <style> carrying the nonce (rangefilter's), Swagger UI's one <style> by its hash.
    assert rules["style-src"] == {"'self'", f"'nonce-{nonce_of(response)}'", settings.SWAGGER_UI_STYLE}
    assert "'unsafe-inline'" not in rules["style-src"]


def assert_every_inline_style_is_allowed(response) -> None:
    """A <style> element runs only with the response's nonce or a hash the policy names; a style attribute
    would need 'unsafe-inline', which the policy does not give."""
    html, allowed = response.content.decode(), policy(response)["style-src"]
    for attributes, text in re.findall(r"<style([^>]*)>(.*?)</style>", html, re.S):
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f'nonce="{nonce_of(response)}"' in attributes or f"'sha256-{digest}'" in allowed, text[:200]
    assert re.findall(r"""<[^>]+\sstyle=["']""", html) == []


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
    assert_every_inline_style_is_allowed(first)
    assert nonce_of(first) != nonce_of(second)


def test_the_ticket_list_has_the_strict_policy_and_its_date_filter_script_carries_the_nonce(ops_client):
    """rangefilter's date filters are an inline script that reads request.csp_nonce: it runs with this
    response's nonce, the one script of the page without a src."""
    response = ops_client.get("/admin/tickets/ticket/")

    assert response.status_code == 200
    assert_strict_page_policy(response)
    assert_every_inline_style_is_allowed(response)
    assert f'<style nonce="{nonce_of(response)}">' in response.content.decode()  # rangefilter's: why NONCE
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", response.content.decode())
    assert inline and all(f'nonce="{nonce_of(response)}"' in attributes for attributes in inline)


def test_the_ticket_page_has_the_strict_policy_and_no_inline_script(ops_client, buyer):
    ticket = submit(make_order(buyer=buyer))

    response = ops_client.get(f"/admin/tickets/ticket/{ticket.pk}/change/")

    assert response.status_code == 200
    assert_strict_page_policy(response)
    assert_every_inline_style_is_allowed(response)
    html = response.content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert re.findall(r"\son[a-z]+=", html) == []  # no onclick="..." handler either


def test_the_api_docs_load_swagger_ui_from_our_static_files_and_no_inline_script():
    response = Client().get("/api/docs/")

    assert response.status_code == 200
    assert_strict_page_policy(response)
    assert_every_inline_style_is_allowed(response)  # Swagger UI's own <style>, by its hash
    html = response.content.decode()
    sources = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', html)
    assert "/api/docs/?script=" in sources
    assert all(source.startswith("/") for source in sources), sources  # no CDN
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []

    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


def test_the_policy_names_the_hash_of_the_installed_swagger_ui_style():
    """The hash in settings is that of drf-spectacular's template as installed: an upgrade that changes its
    <style> fails here, not silently in a browser."""
    import drf_spectacular

    template = Path(drf_spectacular.__file__).parent / "templates" / "drf_spectacular" / "swagger_ui.html"
    (style,) = re.findall(r"<style>(.*?)</style>", template.read_text(), re.S)

    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert settings.SWAGGER_UI_STYLE == f"'sha256-{digest}'"


INLINE_STYLE = re.compile(r"""<style\b|\sstyle\s*=\s*\\?["']""", re.I)


def test_no_template_script_or_module_outside_the_tests_writes_an_inline_style():
    """Styles are files under <app>/static/<app>/ (issue #20): a <style> block or a style attribute in a
    template, in HTML a module writes (format_html) or in HTML a script inserts would be refused by the
    policy. The pattern itself is checked against what it must catch."""
    for caught in ('<style>', '<div style="a">', "<img style='b'>", 'format_html(\'<b style="c">\')'):
        assert INLINE_STYLE.search(caught), caught
    root = Path(__file__).resolve().parents[2]
    parts = [path.parent for path in root.glob("*/apps.py")] + [root / "config", root / "bench"]
    files = [path for part in parts for suffix in ("*.html", "*.txt", "*.py", "*.js") for path in part.rglob(suffix)
             if "vendor" not in path.parts and "migrations" not in path.parts]
    assert len(files) > 100
    found = [f"{path.relative_to(root)}:{number}: {line.strip()}" for path in files
             for number, line in enumerate(path.read_text().splitlines(), 1) if INLINE_STYLE.search(line)]
    assert found == []


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


def test_no_admin_list_gets_djangos_own_inline_style():
    """Django's change_list.html writes a style element (no nonce) when a ModelAdmin turns off both action
    bars: none of ours does, so no list needs 'unsafe-inline'."""
    from django.contrib import admin

    assert len(admin.site._registry) > 10
    assert [model for model, model_admin in admin.site._registry.items()
            if not (model_admin.actions_on_top or model_admin.actions_on_bottom)] == []


# The main screens in a browser: each loads its part's stylesheet (served, its rules read) and looks styled by
# it, and the browser refuses nothing on any of them (the `browser` fixture of the browser tests listens for
# securitypolicyviolation events and console reports on every page).
STYLESHEETS = """() => [...document.styleSheets].filter((sheet) => sheet.href && sheet.cssRules.length)
    .map((sheet) => new URL(sheet.href).pathname)"""


def computed(page, selector: str, prop: str) -> str:
    page.locator(selector).first.wait_for(state="attached")
    return page.eval_on_selector(selector, f"(element) => getComputedStyle(element).{prop}")


def assert_styled(page, url: str, sheets: list[str], selector: str, prop: str, value: str) -> None:
    page.goto(url)
    loaded = page.evaluate(STYLESHEETS)
    assert all(any(sheet in path for path in loaded) for sheet in sheets), (url, loaded)
    assert computed(page, selector, prop) == value, (url, selector, prop)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_main_screens_load_their_stylesheets_and_the_browser_refuses_nothing(
        browser, live_server, staff, buyer):  # noqa: F811 - browser is a fixture
    overdue = submit(make_order(buyer=buyer), type="refund_only", photos=1)
    Ticket.objects.filter(pk=overdue.pk).update(next_deadline_at=clock.now() - timedelta(hours=3))
    returned = journeys.advance(submit(make_order(buyer=buyer), type="return_refund"), S.AWAITING_RETURN, staff=staff)
    journeys.ship_back(returned, staff)
    exchange = journeys.advance(submit(make_order(buyer=buyer), type="exchange"), S.AWAITING_EXCHANGE, staff=staff)
    InboundPhoto.objects.create(inbound=exchange.inbounds.get(), upload=make_upload(staff["warehouse"]))
    journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_REFUND, staff=staff)
    server, red, header = live_server.url, "rgb(185, 28, 28)", ["access/header"]

    anonymous = browser.new_page(viewport={"width": 1440, "height": 900})
    assert_styled(anonymous, f"{server}/admin/login/", header, "#login-form", "display", "block")
    assert_styled(anonymous, f"{server}/api/docs/", [], "html", "overflowY", "scroll")  # Swagger UI's style, hashed
    expect(anonymous.locator("#swagger-ui .info")).to_be_visible()

    ops = login(browser, live_server, "ops1")
    assert_styled(ops, f"{server}/admin/tickets/ticket/", [*header, "tickets/queue", "tickets/presenters"],
                  "#result_list .overdue", "color", red)
    assert computed(ops, "#result_list .status-badge.status-pending_review", "color") == "rgb(180, 83, 9)"
    assert computed(ops, "#language-switcher", "marginRight") != "0px"
    assert computed(ops, "#queue-views ul", "display") == "flex"  # the queue's views, as tabs
    assert_styled(ops, f"{server}/admin/", ["access/home"], "#home-queues", "display", "flex")
    assert_styled(ops, f"{server}/admin/tickets/ticket/{overdue.pk}/change/", ["tickets/ticket"], "#review-panel",
                  "display", "grid")
    ops.click("#approve-form [type=submit]")
    assert computed(ops, "#confirm-action .confirm-buttons", "display") == "flex"
    assert_styled(ops, f"{server}/admin/two-factor/", ["access/two_factor"], "#two-factor .steps", "display", "grid")

    finance = login(browser, live_server, "finance1")
    assert_styled(finance, f"{server}/admin/refunds/refundqueueticket/", ["refunds/queue", "tickets/presenters"],
                  "#result_list td", "verticalAlign", "top")

    clerk = login(browser, live_server, "warehouse1")
    assert_styled(clerk, f"{server}/admin/warehouse/arrivalticket/", ["warehouse/queue"], "#scan-form", "display",
                  "flex")
    assert_styled(clerk, f"{server}/admin/warehouse/arrivalticket/{returned.pk}/receive/", ["warehouse/forms"],
                  "#warehouse-form .facts", "display", "grid")
    assert_styled(clerk, f"{server}/admin/warehouse/outboundrequest/{exchange.outbound_requests.get().pk}/ship/",
                  ["warehouse/forms"], "#warehouse-form .facts", "display", "grid")
    UserFactory(username="root", is_staff=True, is_superuser=True)  # no role is given the inspection's photos
    root = login(browser, live_server, "root")
    assert_styled(root, f"{server}/admin/warehouse/inbound/{exchange.inbounds.get().pk}/change/",
                  ["warehouse/records"], "img.thumbnail", "height", "96px")

    browser.settle()
    assert browser.violations == []
