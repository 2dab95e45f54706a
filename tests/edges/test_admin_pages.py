"""Every admin page a superuser can open answers without a server error, on the demo's data: each
model's list (with its search, every filter choice it offers, and every sortable column), its add page,
and the change page of its first row. On PostgreSQL with the settings' prepared statements."""

import re
from io import StringIO
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(admin_client):
    call_command("seed_demo", stdout=StringIO())
    return admin_client


def filter_links(html: str) -> set[str]:
    """The query strings of the filter sidebar's links ("?status__exact=..."), as the browser follows them."""
    return {link.replace("&amp;", "&") for link in re.findall(r'href="(\?[^"]*)"', html)}


def test_every_admin_page_opens(demo):
    """One seeding for all the models (it takes seconds); every page that fails is reported."""
    failures = []
    for model_admin in admin.site._registry.values():
        failures += pages_failing(demo, model_admin)
    assert not failures, "\n".join(failures)


def pages_failing(client, model_admin) -> list[str]:
    meta = model_admin.model._meta
    name = f"{meta.app_label}_{meta.model_name}"
    changelist = reverse(f"admin:{name}_changelist")
    listing = client.get(changelist)
    if listing.status_code != 200:
        return [f"{changelist}: {listing.status_code}"]
    request = listing.wsgi_request
    asked = [("list", changelist, {})]
    links = filter_links(listing.content.decode())
    if model_admin.list_filter and not links:
        return [f"{changelist}: no filter links found"]
    asked += [("filter", changelist, dict(parse_qsl(urlsplit(q).query, keep_blank_values=True)))
              for q in sorted(links)]
    if model_admin.search_fields:
        asked.append(("search", changelist, {"q": "AS2026"}))
    asked += [("sort", changelist, {"o": str(column)})
              for column in range(1, len(model_admin.get_list_display(request)) + 1)]
    if model_admin.has_add_permission(request):
        asked.append(("add", reverse(f"admin:{name}_add"), {}))
    first = model_admin.get_queryset(request).order_by("pk").first()
    if first is not None:
        asked.append(("change", reverse(f"admin:{name}_change", args=[first.pk]), {}))
        asked.append(("history", reverse(f"admin:{name}_history", args=[first.pk]), {}))
    failures = []
    for what, url, params in asked:
        status = client.get(url, params).status_code
        if status not in (200, 302):  # 302: the admin resets a filter it does not know
            failures.append(f"{what} {url} {params}: {status}")
    return failures
