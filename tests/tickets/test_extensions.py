"""The ticket page and the queue are extended through tickets' doors (tickets.panel, tickets.queue), never
by re-registering TicketAdmin: what another part registers shows and works; refunds' and warehouse's
contributions stand on the page and the list of the one TicketAdmin."""

import pytest
from django import forms
from django.contrib import admin
from django.template import Template
from django.test import Client
from django.urls import reverse

from refunds.services import finance_reject_ticket
from tests.factories import make_order, submit
from tickets import panel, queue, services
from tickets.admin import TicketAdmin
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def a_claim(buyer) -> Ticket:
    return submit(make_order(buyer=buyer, lines=(("general", "30.00", 1, None),)), type="refund_only",
                  reason_code="missing_parts", photos=1)


@pytest.fixture
def doors(monkeypatch):
    """Registrations made by a test end with it: the registries start from a copy of the real ones."""
    for module, name in ((panel, "_ACTIONS"), (panel, "_SECTIONS"), (queue, "_ACTIONS"), (queue, "_MARKERS")):
        monkeypatch.setattr(module, name, dict(getattr(module, name)))


class FlagForm(panel.PanelForm):
    """A form of the test's own, as a third part would bring."""

    word = forms.CharField(max_length=20)


def test_a_third_part_adds_an_action_and_a_section_and_the_page_shows_and_runs_them(doors, ops_user, buyer):
    ticket = a_claim(buyer)
    panel.register_panel_action("flag", panel.PanelAction(
        FlagForm, done="Flagged.",
        call=lambda request, ticket, data: services.add_note(ticket_id=ticket.pk, actor=request.user,
                                                             text=f"flag: {data['word']}")))
    panel.register_panel_section(panel.PanelSection("flags", Template(
        '<div id="flag-section">{{ section.greeting }}'
        '{% include "admin/tickets/ticket/panel_form.html" with form=panel_forms.flag action="flag" button="Flag" %}'
        "</div>"), where="side", context=lambda request, ticket: {"greeting": f"Hello {ticket.ticket_no}"}))
    ops = client_of(ops_user)

    html = ops.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    done = ops.post(reverse("admin:tickets_ticket_act", args=[ticket.pk]), {"action": "flag", "word": "urgent"})

    assert f'<div id="flag-section">Hello {ticket.ticket_no}' in html
    assert 'id="flag-form"' in html and 'id="flag_word"' in html
    assert done.status_code == 302
    assert ticket.notes.get().text == "flag: urgent"


def test_a_registered_action_refused_by_its_form_keeps_the_ticket_unchanged(doors, ops_user, buyer):
    ticket = a_claim(buyer)
    panel.register_panel_action("flag", panel.PanelAction(FlagForm, done="Flagged.", call=lambda *args: None))

    client_of(ops_user).post(reverse("admin:tickets_ticket_act", args=[ticket.pk]), {"action": "flag", "word": ""})

    assert not ticket.notes.exists()


def test_the_page_s_own_actions_cannot_be_taken_over_and_a_section_stands_in_a_known_place(doors):
    with pytest.raises(ValueError):
        panel.register_panel_action("approve", panel.PanelAction(FlagForm, done="", call=lambda *args: None))
    with pytest.raises(ValueError):
        panel.register_panel_section(panel.PanelSection("x", "x.html", where="footer"))


def test_a_third_part_adds_a_bulk_action_for_those_it_allows_and_a_marker_in_its_order(doors, staff, buyer):
    ticket = a_claim(buyer)
    services.assign_ticket(ticket_id=ticket.pk, actor=staff["ops"], assignee=staff["ops"])

    @admin.action(description="Note them all")
    def note_them(modeladmin, request, queryset):
        queue.each(modeladmin, request, queryset, lambda pk: services.add_note(ticket_id=pk, actor=request.user,
                                                                             text="bulk note"))

    queue.register_list_action(queue.ListAction("note_them", note_them,
                                                allowed=lambda request: request.user.username == "ops1"))
    queue.register_list_marker(queue.ListMarker("first", "①", "first of all", lambda t: True, order=1))
    queue.register_list_marker(queue.ListMarker("last", "⑨", "last of all", lambda t: True, order=999))
    changelist = reverse("admin:tickets_ticket_changelist")

    ops_list = client_of(staff["ops"]).get(changelist).content.decode()
    finance_list = client_of(staff["finance"]).get(changelist).content.decode()
    client_of(staff["ops"]).post(changelist, {"action": "note_them", "_selected_action": [ticket.pk], "index": "0"})

    assert 'value="note_them"' in ops_list and 'value="note_them"' not in finance_list
    assert ticket.notes.get().text == "bulk note"
    assert ops_list.index('title="first of all">①') < ops_list.index('title="last of all">⑨')


def test_refunds_and_warehouse_extend_the_one_ticket_admin_without_re_registering_it(staff, buyer):
    ticket = a_claim(buyer)
    services.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"])
    finance = client_of(staff["finance"])

    html = finance.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    queue_page = finance.get(reverse("admin:tickets_ticket_changelist")).content.decode()

    assert admin.site._registry[Ticket].__class__ is TicketAdmin
    assert {"finance_approve", "finance_reject"} <= set(panel.actions())
    assert 'id="finance-form"' in html and 'id="finance_approve-form"' in html
    assert 'value="finance_approve_selected"' in queue_page
    assert [marker.name for marker in sorted(queue._MARKERS.values(), key=lambda m: m.order)] == [
        "sent_back_by_finance", "inspection_rejected", "escalated", "intercept_failed"]


def test_a_ticket_finance_sent_back_is_marked_in_the_queue_by_refunds_marker(staff, buyer):
    ticket = a_claim(buyer)
    services.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"])

    finance_reject_ticket(ticket_id=ticket.pk, actor=staff["finance"], reason="The fee is not explained.")

    queue_page = client_of(staff["ops"]).get(reverse("admin:tickets_ticket_changelist")).content.decode()
    assert 'title="sent back by finance">⟲' in queue_page
