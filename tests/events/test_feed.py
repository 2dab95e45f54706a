"""The catch-up feed: service accounts only, oldest first after a position, a shop's account sees its shop."""

import pytest

from events.models import Event
from events.outbox import sequence
from orders.models import ShopAccount
from tests.factories import ShopFactory, UserFactory, assert_error, client_for, make_order, submit


@pytest.fixture
def two_shops(buyer):
    """Three claims: two at shop A, one at shop B, sequenced."""
    shop_a, shop_b = ShopFactory(code="SA"), ShopFactory(code="SB")
    tickets = [submit(make_order(buyer=buyer, shop=shop_a)), submit(make_order(buyer=buyer, shop=shop_b)),
               submit(make_order(buyer=buyer, shop=shop_a))]
    sequence()
    return shop_a, shop_b, tickets


@pytest.mark.django_db
def test_the_feed_lists_events_oldest_first_with_the_envelope(two_shops, service_user):
    _a, _b, tickets = two_shops

    body = client_for(service_user).get("/api/v1/events/").json()

    assert [e["ticket_no"] for e in body["results"]] == [t.ticket_no for t in tickets]
    first = body["results"][0]
    assert set(first) == {"id", "position", "type", "ticket_no", "shop", "occurred_at", "data"}
    assert first["shop"] == "SA" and first["type"] == "ticket.submitted"
    assert first["id"] == str(Event.objects.get(position=first["position"]).uuid)
    assert body["next"] is None and body["previous"] is None


@pytest.mark.django_db
def test_a_full_page_links_the_next_one_and_following_it_reads_the_rest(two_shops, service_user):
    _a, _b, tickets = two_shops
    client = client_for(service_user)

    first = client.get("/api/v1/events/", {"page_size": 2}).json()
    rest = client.get(first["next"]).json()

    assert len(first["results"]) == 2 and first["next"].endswith(f"after={first['results'][1]['position']}&page_size=2")
    assert [e["ticket_no"] for e in first["results"] + rest["results"]] == [t.ticket_no for t in tickets]
    assert rest["next"] is None


@pytest.mark.django_db
def test_a_service_account_tied_to_a_shop_sees_that_shops_events_only(two_shops):
    shop_a, _b, tickets = two_shops
    account = UserFactory(username="shop-a-app", groups=["service"])
    ShopAccount.objects.create(user=account, shop=shop_a)

    body = client_for(account).get("/api/v1/events/").json()

    assert [e["ticket_no"] for e in body["results"]] == [tickets[0].ticket_no, tickets[2].ticket_no]
    assert {e["shop"] for e in body["results"]} == {"SA"}


@pytest.mark.django_db
def test_events_committed_but_not_yet_sequenced_are_read_all_the_same(buyer, service_user):
    ticket = submit(make_order(buyer=buyer))  # no commit hook ran: no position yet
    assert Event.objects.get(ticket=ticket).position is None

    body = client_for(service_user).get("/api/v1/events/").json()

    assert [e["ticket_no"] for e in body["results"]] == [ticket.ticket_no]


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "field"), [({"after": "-1"}, "after"), ({"after": "abc"}, "after"),
                                              ({"page_size": "0"}, "page_size"), ({"page_size": "1001"}, "page_size")])
def test_bad_cursors_are_400_naming_the_field(service_user, query, field):
    assert_error(client_for(service_user).get("/api/v1/events/", query), 400, "invalid", field)


@pytest.mark.django_db
def test_only_service_accounts_read_the_feed(ops_user, buyer):
    assert client_for(None).get("/api/v1/events/").status_code == 401
    assert client_for(ops_user).get("/api/v1/events/").status_code == 403
    assert client_for(buyer.user).get("/api/v1/events/").status_code == 403
