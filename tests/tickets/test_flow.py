"""Ops' flow through the queue (issue #21): the queue a ticket was opened from survives every act and confirm
page; after a decision the next ticket of that queue opens; each user keeps named views of the queue and
opens "Tickets" on their own default, else their role's; the home leads with the role's queues."""

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils.http import urlencode

from aftersales import clock, preferences
from aftersales.models import SavedView
from demo import journeys
from refunds import services as refunds
from tests.factories import UserFactory, make_order, submit
from tickets import queue
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
S = Ticket.Status
QUEUE = reverse("admin:tickets_ticket_changelist")


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def due_in(ticket, hours: float) -> Ticket:
    """Sets the ticket's due time (the queue's order) to ``hours`` from now."""
    Ticket.objects.filter(pk=ticket.pk).update(next_deadline_at=clock.now() + dt.timedelta(hours=hours))
    ticket.refresh_from_db()
    return ticket


def pending(buyer, hours: float) -> Ticket:
    return due_in(submit(make_order(buyer=buyer)), hours)


def listed(html: str) -> list[str]:
    return re.findall(r'<th class="field-ticket_no"><a[^>]*>([^<]+)</a>', html)


def change_url(ticket, filters: str = "") -> str:
    url = reverse("admin:tickets_ticket_change", args=[ticket.pk])
    return f"{url}?{urlencode({'_changelist_filters': filters})}" if filters else url


def act_url(ticket, filters: str = "") -> str:
    url = reverse("admin:tickets_ticket_act", args=[ticket.pk])
    return f"{url}?{urlencode({'_changelist_filters': filters})}" if filters else url


def next_of(user, filters: str, after: Ticket):
    request = RequestFactory().get(QUEUE)
    request.user = user
    return queue.next_in_list(admin.site._registry[Ticket], request, filters, after_pk=after.pk)


# ------------------------------------------------------------------------------ the next ticket


def test_the_next_ticket_is_the_first_other_row_of_the_same_filtered_queue(ops_user, buyer, staff):
    first, second, third = pending(buyer, 1), pending(buyer, 2), pending(buyer, 3)
    waiting_for_refund = due_in(journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_REFUND, staff=staff),
                                0.5)  # due before all of them, but not in the filter

    assert next_of(ops_user, "status__exact=pending_review", after=first) == second
    assert next_of(ops_user, "status__exact=pending_review", after=second) == first
    assert next_of(ops_user, "", after=first) == waiting_for_refund  # no filter: the whole queue's top
    assert next_of(ops_user, "status__exact=pending_review&p=3", after=first) == second  # the top, not a page
    assert third not in {next_of(ops_user, "status__exact=pending_review", after=t) for t in (first, second)}


def test_the_next_ticket_follows_the_queues_order_and_search(ops_user, buyer):
    early, late = pending(buyer, 1), pending(buyer, 5)
    # o=-1: the first column (the ticket no, after the checkbox) descending: the newest ticket first.
    assert next_of(ops_user, "status__exact=pending_review&o=-1", after=early) == late
    assert next_of(ops_user, "status__exact=pending_review&o=-1", after=late) == early
    assert next_of(ops_user, f"q={late.ticket_no[-6:]}", after=early) == late
    assert next_of(ops_user, f"q={late.ticket_no[-6:]}", after=late) is None


def test_after_the_last_ticket_of_a_queue_there_is_none(ops_user, buyer):
    only = pending(buyer, 1)

    assert next_of(ops_user, "status__exact=pending_review", after=only) is None
    assert next_of(ops_user, "no_such_field=1", after=only) is None  # filters that no longer make sense


# ---------------------------------------------------------------- the queue through act and confirm


def test_the_ticket_page_keeps_the_queue_in_its_breadcrumb_and_every_form(ops_user, buyer):
    ticket = pending(buyer, 1)
    filters = "status__exact=pending_review&view=open"

    html = client_of(ops_user).get(change_url(ticket, filters)).content.decode()

    back = re.search(r'<a href="([^"]+)" id="back-to-queue">', html).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(back).query) == {"status__exact": ["pending_review"], "view": ["open"]}
    forms = re.findall(r'<form method="post" action="([^"]+)" id="(\w+)-form" class="panel-form">', html)
    assert {name for _url, name in forms} >= {"approve", "reject", "compensate", "note"}
    assert all(url.replace("&amp;", "&") == act_url(ticket, filters) for url, _name in forms)


def test_approve_confirm_and_land_on_the_next_ticket_of_the_same_queue(ops_user, buyer):
    first, second = pending(buyer, 1), pending(buyer, 2)
    other = due_in(submit(make_order(buyer=buyer), type="refund_only", reason_code="missing_parts", photos=1), 0.5)
    Ticket.objects.filter(pk=other.pk).update(status=S.CANCELLED)  # not in the queue's filter
    filters = "status__exact=pending_review&view=open"
    ops = client_of(ops_user)

    asked = ops.post(act_url(first, filters), {"action": "approve"})
    html = asked.content.decode()
    assert asked.status_code == 200 and 'id="confirm-form"' in html
    confirm_to = re.search(r'<form method="post" action="([^"]+)" id="confirm-form">', html).group(1)
    assert confirm_to.replace("&amp;", "&") == act_url(first, filters)  # the confirmation posts with the queue
    back = re.search(r'<a href="([^"]+)" id="back-to-queue">', html).group(1).replace("&amp;", "&")
    assert back == f"{QUEUE}?{filters}"

    done = ops.post(confirm_to.replace("&amp;", "&"), {"action": "approve", "confirmed": "yes"}, follow=True)

    first.refresh_from_db()
    assert first.status == S.AWAITING_RETURN
    assert done.redirect_chain[0][0] == change_url(second, filters)
    said = [str(m) for m in done.context["messages"]]
    assert said == [f"{first.ticket_no}: Approved. Next in the queue: {second.ticket_no}."]


def test_after_the_last_decision_the_queue_opens_filtered_with_a_word(ops_user, buyer):
    only = pending(buyer, 1)
    filters = "status__exact=pending_review&view=open"

    done = client_of(ops_user).post(act_url(only, filters), {"action": "reject", "reason": "Worn by use."},
                                    follow=True)

    assert done.redirect_chain[0][0] == f"{QUEUE}?{filters}"
    assert [str(m) for m in done.context["messages"]] == [
        f"{only.ticket_no}: Rejected; the buyer sees the reason. Nothing else is left in this queue."]
    only.refresh_from_db()
    assert only.status == S.REJECTED


def test_refusals_going_back_and_notes_stay_on_the_ticket_with_the_queue(ops_user, buyer):
    ticket, _later = pending(buyer, 1), pending(buyer, 2)
    filters = "status__exact=pending_review"
    ops = client_of(ops_user)

    refused = ops.post(act_url(ticket, filters), {"action": "reject", "reason": ""})
    went_back = ops.post(act_url(ticket, filters), {"action": "approve", "back": "yes"})
    noted = ops.post(act_url(ticket, filters), {"action": "note", "text": "Called the buyer."})

    assert refused.url == went_back.url == noted.url == change_url(ticket, filters)
    ticket.refresh_from_db()
    assert ticket.status == S.PENDING_REVIEW and ticket.notes.count() == 1


def test_a_decision_without_a_queue_stays_on_the_ticket(ops_user, buyer):
    ticket, _later = pending(buyer, 1), pending(buyer, 2)

    done = client_of(ops_user).post(act_url(ticket), {"action": "reject", "reason": "Worn by use."})

    assert done.url == change_url(ticket)


# ---------------------------------------------------------------------- saved views, role defaults


def test_ops_opens_tickets_on_their_open_work(ops_user, buyer, staff):
    new = pending(buyer, 1)
    sent_back = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_REFUND, staff=staff)
    refunds.finance_reject_ticket(ticket_id=sent_back.pk, actor=staff["finance"], reason="Fee?")
    refused_goods = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_RETURN, staff=staff)
    journeys.receive_damaged(refused_goods, staff)
    hidden = [journeys.advance(submit(make_order(buyer=buyer)), status, staff=staff)
              for status in (S.AWAITING_REFUND, S.COMPLETED, S.REJECTED, S.CANCELLED, S.CLOSED)]

    html = client_of(UserFactory(username="newops", groups=["ops"])).get(QUEUE).content.decode()

    assert sorted(listed(html)) == sorted([new.ticket_no, sent_back.ticket_no, refused_goods.ticket_no])
    assert not set(listed(html)) & {t.ticket_no for t in hidden}
    assert re.search(r'<li class="active"><a href="\?[^"]*view=open"', html)  # the view is named, one click away
    everything = client_of(ops_user).get(QUEUE, {"view": "all"}).content.decode()
    assert {t.ticket_no for t in hidden} <= set(listed(everything))  # hidden unless asked


def test_finance_and_warehouse_open_tickets_on_their_own_work(staff, buyer):
    review = pending(buyer, 1)
    to_pay = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_REFUND, staff=staff)
    coming_back = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_RETURN, staff=staff)

    assert listed(client_of(staff["finance"]).get(QUEUE).content.decode()) == [to_pay.ticket_no]
    assert listed(client_of(staff["warehouse"]).get(QUEUE).content.decode()) == [coming_back.ticket_no]
    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert sorted(listed(client_of(superuser).get(QUEUE).content.decode())) == sorted(
        t.ticket_no for t in (review, to_pay, coming_back))


def test_a_saved_view_keeps_filters_order_and_columns_and_can_become_the_default(ops_user, buyer, staff):
    mine, other = pending(buyer, 1), pending(buyer, 2)
    finished = journeys.advance(submit(make_order(buyer=buyer)), S.REJECTED, staff=staff)
    ops = client_of(ops_user)
    preferences.save_columns(user=ops_user, list_name="tickets.ticket", columns=["ticket_no", "due"], frozen=0,
                             available=admin.site._registry[Ticket].list_display)
    views = reverse("admin:tickets_ticket_views")

    saved = ops.post(views, {"do": "save", "name": "Rejected, newest first", "query": "status__exact=rejected&o=-1",
                             "next": QUEUE, "make_default": "1"})

    view = SavedView.objects.get(user=ops_user)
    assert (view.name, view.query, view.columns, view.is_default) == (
        "Rejected, newest first", "o=-1&status__exact=rejected", ["ticket_no", "due"], True)
    assert saved.url == f"{QUEUE}?o=-1&status__exact=rejected&view={view.pk}"
    opened = ops.get(QUEUE).content.decode()  # bare: the user's own default now
    assert listed(opened) == [finished.ticket_no]
    assert 'class="column-shop_name' not in opened and 'class="sortable column-due' in opened
    assert f'data-view="{view.pk}"' in opened and "★" in opened

    ops.post(views, {"do": "default", "view": "", "next": QUEUE})  # back to the role's view
    assert sorted(listed(ops.get(QUEUE).content.decode())) == sorted([mine.ticket_no, other.ticket_no])
    ops.post(views, {"do": "delete", "view": str(view.pk), "next": QUEUE})
    assert not SavedView.objects.exists()


def test_saved_views_are_each_users_own(ops_user, buyer):
    pending(buyer, 1)
    view = preferences.save_view(user=ops_user, list_name="tickets.ticket", name="Everything", query="",
                                 columns=["ticket_no"], frozen=0, make_default=True,
                                 available=admin.site._registry[Ticket].list_display)
    colleague = UserFactory(username="ops2", groups=["ops"])
    theirs = client_of(colleague)

    page = theirs.get(QUEUE).content.decode()
    assert "Everything" not in page and 'data-view="open"' in page  # the role's view, not the colleague's
    assert preferences.find_view(colleague, "tickets.ticket", str(view.pk), queue.QUEUE_VIEWS) is None
    forged = theirs.get(QUEUE, {"view": view.pk}).content.decode()
    assert 'class="sortable column-due' in forged  # another's columns do not apply either
    theirs.post(reverse("admin:tickets_ticket_views"), {"do": "delete", "view": str(view.pk), "next": QUEUE})
    theirs.post(reverse("admin:tickets_ticket_views"), {"do": "default", "view": str(view.pk), "next": QUEUE})
    view.refresh_from_db()
    assert view.is_default and view.user == ops_user


def test_a_view_needs_a_name_and_one_default_per_user(ops_user):
    available = admin.site._registry[Ticket].list_display
    with pytest.raises(preferences.FieldInvalid):
        preferences.save_view(user=ops_user, list_name="tickets.ticket", name="  ", query="", columns=["ticket_no"],
                              frozen=0, available=available)
    first = preferences.save_view(user=ops_user, list_name="tickets.ticket", name="A", query="status__exact=rejected",
                                  columns=["ticket_no"], frozen=0, available=available, make_default=True)
    second = preferences.save_view(user=ops_user, list_name="tickets.ticket", name="B", query="p=2&view=3&q=x",
                                   columns=["ticket_no"], frozen=0, available=available, make_default=True)

    first.refresh_from_db()
    assert (first.is_default, second.is_default, second.query) == (False, True, "q=x")
    assert preferences.default_view(ops_user, "tickets.ticket", queue.QUEUE_VIEWS).name == "B"


def test_columns_chosen_in_a_saved_view_are_that_views(ops_user):
    available = admin.site._registry[Ticket].list_display
    view = preferences.save_view(user=ops_user, list_name="tickets.ticket", name="Mine", query="",
                                 columns=["ticket_no", "due"], frozen=0, available=available)

    client_of(ops_user).post(reverse("admin:tickets_ticket_columns"), {
        "columns": ["ticket_no", "status_badge"], "frozen": "1", "next": f"{QUEUE}?view={view.pk}"})

    view.refresh_from_db()
    assert (view.columns, view.frozen) == (["ticket_no", "status_badge"], 1)
    assert preferences.get_columns(ops_user, "tickets.ticket", available) == (list(available), 0)  # untouched


# ------------------------------------------------------------------------------------------ home


def tiles(html: str) -> list[str]:
    return re.findall(r'class="queue-tile" id="queue-(\w+)"', html)


def test_the_home_leads_with_the_roles_queues_and_their_counts(staff, buyer):
    pending(buyer, -2), pending(buyer, 24 * 3)  # overdue; waiting, neither overdue nor due today
    today = pending(buyer, 0)
    Ticket.objects.filter(pk=today.pk).update(next_deadline_at=clock.now() + dt.timedelta(seconds=5))
    journeys.advance(submit(make_order(buyer=buyer)), S.COMPLETED, staff=staff)  # not ops' work
    journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_REFUND, staff=staff)  # finance's
    journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_RETURN, staff=staff)  # the warehouse's
    home = reverse("admin:index")

    ops_home = client_of(UserFactory(username="newops", groups=["ops"])).get(home).content.decode()
    finance_home = client_of(staff["finance"]).get(home).content.decode()
    warehouse_home = client_of(staff["warehouse"]).get(home).content.decode()

    assert tiles(ops_home) == ["tickets_open"]
    tile = re.search(r'id="queue-tickets_open" href="([^"]+)">(.*?)</a>', ops_home, re.S)
    assert tile.group(1).replace("&amp;", "&") == f"{QUEUE}?status__exact=pending_review&view=open"
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", tile.group(2)))
    assert "3 waiting" in words and "1 due today" in words and "1 overdue" in words
    assert ops_home.index('id="home-queues"') < ops_home.index('class="app-tickets')  # before the app list
    assert tiles(finance_home) == ["refunds_to_approve"]
    assert re.search(r'id="queue-refunds_to_approve".*?<strong>1</strong>', finance_home, re.S)
    assert tiles(warehouse_home) == ["arrivals", "dispatch"]
    assert re.search(r'id="queue-arrivals".*?<strong>1</strong>', warehouse_home, re.S)


def test_the_counts_of_a_queue_are_its_rows_due_today_and_overdue(buyer):
    pending(buyer, -1)
    pending(buyer, 24 * 5)
    counts = queue.queue_counts(Ticket.objects.filter(status=S.PENDING_REVIEW))
    assert (counts.waiting, counts.overdue) == (2, 1)
    assert counts.due_today == 0
