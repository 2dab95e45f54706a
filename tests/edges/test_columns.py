"""Per-user columns on the ticket list: hide, reorder, freeze; remembered in the database for that user."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from aftersales import preferences
from aftersales.errors import FieldInvalid
from tests.factories import UserFactory, make_order, submit

pytestmark = pytest.mark.django_db
LIST = "/admin/tickets/ticket/"


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def header(client) -> list[str]:
    html = client.get(LIST).content.decode()
    return re.findall(r'<th scope="col" class="[^"]*column-(\w+)', html)


def frozen_of(client) -> int:
    return int(re.search(r'id="columns-panel" data-frozen="(\d+)"', client.get(LIST).content.decode()).group(1))


def test_a_user_hides_reorders_and_freezes_columns_and_finds_them_so_in_a_new_session(buyer):
    submit(make_order(buyer=buyer))
    olga, other = UserFactory(username="olga", groups=["ops"]), UserFactory(username="oscar", groups=["ops"])
    default = header(client_of(olga))
    assert default[:3] == ["ticket_no", "order_no", "shop_name"]

    client_of(olga).post(reverse("admin:tickets_ticket_columns"), {
        "columns": ["ticket_no", "due", "status_badge", "order_no", "refund"], "frozen": "2", "next": LIST})

    later = client_of(olga)  # another browser, another session
    assert header(later) == ["ticket_no", "due", "status_badge", "order_no", "refund"]
    assert frozen_of(later) == 2
    assert header(client_of(other)) == default  # a choice is the user's own


def test_the_ticket_no_always_shows_and_unknown_columns_are_refused(buyer):
    submit(make_order(buyer=buyer))
    olga = UserFactory(username="olga", groups=["ops"])

    with pytest.raises(FieldInvalid) as unknown:
        preferences.save_columns(user=olga, list_name="tickets.ticket", columns=["buyer_password"], frozen=0,
                                 available=["ticket_no", "due"], fixed=("ticket_no",))
    assert unknown.value.field == "columns"
    with pytest.raises(FieldInvalid) as too_many:
        preferences.save_columns(user=olga, list_name="tickets.ticket", columns=["due"], frozen=3,
                                 available=["ticket_no", "due"], fixed=("ticket_no",))
    assert too_many.value.field == "frozen"

    client_of(olga).post(reverse("admin:tickets_ticket_columns"), {"columns": ["due"], "frozen": "0", "next": LIST})
    assert header(client_of(olga)) == ["ticket_no", "due"]


def test_back_to_the_default_forgets_the_choice(buyer):
    submit(make_order(buyer=buyer))
    olga = UserFactory(username="olga", groups=["ops"])
    client = client_of(olga)
    default = header(client)
    client.post(reverse("admin:tickets_ticket_columns"), {"columns": ["ticket_no", "due"], "frozen": "1"})

    client.post(reverse("admin:tickets_ticket_columns"), {"reset": "1"})

    assert header(client) == default and frozen_of(client) == 0


def test_a_redirect_after_saving_stays_on_this_site(buyer):
    olga = UserFactory(username="olga", groups=["ops"])

    answer = client_of(olga).post(reverse("admin:tickets_ticket_columns"),
                                  {"columns": ["ticket_no"], "frozen": "0", "next": "https://evil.example/"})

    assert answer["Location"] == LIST
