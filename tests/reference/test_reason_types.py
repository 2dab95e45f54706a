"""Which ticket types a reason fits: one field (``Reason.ticket_types``), checked against ``TicketType``, edited
as checkboxes in the admin, and carried over from the three columns it replaced (reasons 0006)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from reasons.defaults import DEFAULT_REASONS
from reasons.models import Reason
from reasons.selectors import list_reasons_for

BEFORE, AFTER = ("reasons", "0005_history_append_only"), ("reasons", "0006_ticket_types_in_one_field")
ORDER = ["refund_only", "return_refund", "exchange"]


def new_reason(**fields) -> Reason:
    return Reason.objects.create(**{"code": "faulty_switch", "name": "Switch does not work", "group": "product",
                                    "responsible": "shop", **fields})


# --- the field ------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_defaults_fit_the_types_their_rows_name():
    by_code = {r.code: r for r in Reason.objects.all()}

    for code, *_, types, _fresh, _general, _photos in DEFAULT_REASONS:
        assert by_code[code].ticket_types == [t for t in ORDER if t in types]


@pytest.mark.django_db
def test_a_new_reason_fits_the_refunds_unless_told_otherwise():
    assert new_reason().ticket_types == ["refund_only", "return_refund"]


@pytest.mark.django_db
def test_the_types_are_stored_once_each_in_the_order_of_the_types():
    reason = new_reason(ticket_types=["exchange", "refund_only", "exchange"])

    reason.refresh_from_db()
    assert reason.ticket_types == ["refund_only", "exchange"]


@pytest.mark.django_db
@pytest.mark.parametrize("value", [["repair"], "exchange", [1], None])
def test_an_unknown_type_is_refused_and_nothing_is_saved(value):
    with pytest.raises(ValidationError):
        new_reason(ticket_types=value)

    assert not Reason.objects.filter(code="faulty_switch").exists()


@pytest.mark.django_db
def test_a_reason_is_listed_for_exactly_the_types_it_fits():
    new_reason(ticket_types=["exchange"], display_order=1)

    assert "faulty_switch" in [r.code for r in list_reasons_for(ticket_type="exchange")]
    assert "faulty_switch" not in [r.code for r in list_reasons_for(ticket_type="refund_only")]
    assert "faulty_switch" not in [r.code for r in list_reasons_for(ticket_type="return_refund")]


# --- the admin ------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_admin_form_offers_the_types_as_checkboxes_in_words(admin_client):
    reason = Reason.objects.get(code="missing_parts")

    response = admin_client.get(reverse("admin:reasons_reason_change", args=[reason.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'type="checkbox" name="ticket_types" value="exchange"' in body
    assert "return and refund" in body
    checked = {v for v in ORDER if f'name="ticket_types" value="{v}" id="id_ticket_types_{ORDER.index(v)}" checked'
               in body}
    assert checked == {"refund_only", "return_refund"}


@pytest.mark.django_db
def test_the_admin_saves_the_ticked_types(admin_client):
    reason = Reason.objects.get(code="missing_parts")
    data = {f.name: getattr(reason, f.name) for f in Reason._meta.concrete_fields
            if f.name not in ("id", "retired_at", "code")}

    response = admin_client.post(reverse("admin:reasons_reason_change", args=[reason.pk]),
                                 {**data, "ticket_types": ["exchange", "return_refund"]})

    assert response.status_code == 302, response.content[:2000]
    reason.refresh_from_db()
    assert reason.ticket_types == ["return_refund", "exchange"]


@pytest.mark.django_db
def test_the_admin_refuses_a_type_that_does_not_exist(admin_client):
    reason = Reason.objects.get(code="missing_parts")
    data = {f.name: getattr(reason, f.name) for f in Reason._meta.concrete_fields
            if f.name not in ("id", "retired_at", "code")}

    response = admin_client.post(reverse("admin:reasons_reason_change", args=[reason.pk]),
                                 {**data, "ticket_types": ["repair"]})

    assert response.status_code == 200
    assert "ticket_types" in response.context["adminform"].form.errors
    reason.refresh_from_db()
    assert reason.ticket_types == ["refund_only", "return_refund"]


@pytest.mark.django_db
def test_the_admin_list_filters_reasons_by_ticket_type(admin_client):
    response = admin_client.get(reverse("admin:reasons_reason_changelist"), {"ticket_type": "exchange"})

    shown = {r.code for r in response.context["cl"].result_list}
    assert shown == {r.code for r in Reason.objects.all() if "exchange" in r.ticket_types}
    assert "changed_mind" not in shown and "size_issue" in shown


# --- the migration --------------------------------------------------------------------------------------

def migrate_to(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_carries_the_types_over_and_back_again_with_their_history():
    """Back to the three columns: each reason's list becomes its flags; forward again: its flags become the
    list, a change made meanwhile included. The history's rows are converted too, and stay append-only."""
    expected = {r.code: r.ticket_types for r in Reason.objects.all()}
    try:
        old = migrate_to(BEFORE)
        OldReason, OldHistory = old.get_model("reasons", "Reason"), old.get_model("reasons", "ReasonHistory")
        flags = {r.code: [t for t in ORDER if getattr(r, f"for_{t}")] for r in OldReason.objects.all()}
        assert flags == expected
        OldReason.objects.filter(code="out_of_stock").update(for_exchange=True, for_refund_only=False)
        OldReason.objects.create(code="odd_one", name="Odd", group="product", responsible="shop",
                                 for_refund_only=False, for_return_refund=False, for_exchange=True)
        history = {h.pgh_id: [t for t in ORDER if getattr(h, f"for_{t}")] for h in OldHistory.objects.all()}
        assert history
    finally:
        new = migrate_to(AFTER)

    by_code = {r.code: r.ticket_types for r in Reason.objects.all()}
    assert by_code == {**expected, "out_of_stock": ["exchange"], "odd_one": ["exchange"]}
    NewHistory = new.get_model("reasons", "ReasonHistory")
    assert {h.pgh_id: h.ticket_types for h in NewHistory.objects.filter(pgh_id__in=history)} == history
    with pytest.raises(Exception, match="Cannot update or delete"), connection.cursor() as cursor:
        cursor.execute("UPDATE reasons_reasonhistory SET name = 'rewritten'")
