"""Reasons (SPEC §7): the defaults, delete-or-retire, show/hide, display order, what fits a claim, the admin
delete path. Policies (SPEC §6): the defaults installed, and an edited value is the one claims are judged by."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from aftersales import clock
from aftersales.errors import FieldInvalid, NotAllowed, NotFound, OutsideWindow
from policies import services as policies
from policies.models import DEFAULTS, Policy
from reasons.defaults import DEFAULT_REASONS
from reasons.models import Reason
from reasons.selectors import list_reasons_for
from reasons.services import (
    DELETED,
    RETIRED,
    delete_or_retire_reason,
    move_reason,
    restore_reason,
    retire_reason,
)
from tests.factories import UserFactory, make_order, reason, submit
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

API_CODES = {"quality_issue", "damaged_in_transit", "wrong_item", "missing_parts", "not_as_described",
             "no_reason_7d", "subjective", "changed_mind", "late_delivery"}
MOMENT = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture(autouse=True)
def _plain_static_files(settings, tmp_path):
    """Admin pages link static files; the manifest storage of production needs collectstatic first."""
    settings.STATIC_ROOT = str(tmp_path)
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


def https_client(user) -> Client:
    """A browser behind the production proxy (HTTPS is enforced when DEBUG is off)."""
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(admin_user):
    return https_client(admin_user)


def offered_codes() -> list[str]:
    return list(Reason.objects.offered().values_list("code", flat=True))


def used_reason(code: str = "wrong_item") -> Reason:
    """A reason cited by a ticket (a return of general goods delivered a day ago)."""
    submit(make_order(), type="return_refund", reason_code=code)
    return reason(code)


def unused_reason(code: str = "size_issue") -> Reason:
    found = reason(code)
    assert not found.tickets.exists()
    return found


def user_with(*codenames: str, **kwargs):
    user = UserFactory(**kwargs)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="reasons", codename__in=codenames))
    return type(user).objects.get(pk=user.pk)  # a fresh instance: permissions are cached per instance


# --- the defaults ------------------------------------------------------------------------------------

def test_the_default_reasons_carry_the_api_codes_and_their_groups():
    by_code = {r.code: r for r in Reason.objects.all()}

    assert API_CODES <= set(by_code)
    assert {r.group for r in by_code.values()} == {"product", "service", "logistics", "buyer"}
    assert by_code["quality_issue"].is_quality_issue and by_code["quality_issue"].responsible == "shop"
    assert by_code["damaged_in_transit"].responsible == "carrier"
    assert by_code["no_reason_7d"].responsible == "buyer" and not by_code["no_reason_7d"].for_fresh
    assert by_code["subjective"].responsible == "buyer" and not by_code["subjective"].for_fresh
    assert by_code["changed_mind"].ticket_types == ["refund_only"]
    assert by_code["quality_issue"].localized_name("zh-hans") == "质量问题"
    assert all(r.retired_at is None and r.is_visible for r in by_code.values())


def test_buyers_are_offered_every_default_in_the_order_of_the_defaults():
    assert offered_codes() == [row[0] for row in DEFAULT_REASONS]


# --- delete or retire --------------------------------------------------------------------------------

def test_deleting_an_unused_reason_deletes_it(admin_user):
    target = unused_reason()

    assert delete_or_retire_reason(reason_id=target.pk, actor=admin_user) == DELETED

    assert not Reason.objects.filter(pk=target.pk).exists()


def test_deleting_a_reason_used_by_a_ticket_retires_it_and_the_ticket_keeps_it(admin_user):
    target = used_reason("wrong_item")
    ticket = target.tickets.get()

    with clock.frozen_at(MOMENT):
        assert delete_or_retire_reason(reason_id=target.pk, actor=admin_user) == RETIRED

    target.refresh_from_db()
    assert (target.retired_at, target.is_visible) == (MOMENT, False)
    assert "wrong_item" not in offered_codes()
    assert Ticket.objects.get(pk=ticket.pk).reason_id == target.pk


def test_a_retired_reason_can_no_longer_be_claimed_with():
    target = used_reason("wrong_item")
    retire_reason(reason_id=target.pk, actor=UserFactory(is_superuser=True))
    order = make_order()

    with pytest.raises(FieldInvalid) as refused:
        submit(order, type="return_refund", reason_code="wrong_item")

    assert refused.value.field == "reason_id"
    assert not order.tickets.exists()


def test_retiring_twice_keeps_the_first_date_and_restore_offers_it_again(admin_user):
    target = unused_reason("late_delivery")
    with clock.frozen_at(MOMENT):
        retire_reason(reason_id=target.pk, actor=admin_user)
    with clock.frozen_at(MOMENT + dt.timedelta(days=3)):
        retire_reason(reason_id=target.pk, actor=admin_user)
    target.refresh_from_db()
    assert target.retired_at == MOMENT
    assert "late_delivery" not in offered_codes()

    restore_reason(reason_id=target.pk, actor=admin_user)

    target.refresh_from_db()
    assert (target.retired_at, target.is_visible) == (None, True)
    assert "late_delivery" in offered_codes()


def test_managing_reasons_needs_an_administrator_or_the_change_permission(ops_user):
    target = unused_reason()
    deleter = user_with("delete_reason", username="deleter", is_staff=True)

    for actor in (ops_user, deleter, None):
        for service in (retire_reason, delete_or_retire_reason, restore_reason):
            with pytest.raises(NotAllowed):
                service(reason_id=target.pk, actor=actor)
        with pytest.raises(NotAllowed):
            move_reason(reason_id=target.pk, actor=actor, position=1)

    target.refresh_from_db()
    assert (target.retired_at, target.is_visible, target.display_order) == (None, True, 70)

    manager = user_with("change_reason", username="manager", is_staff=True)
    assert delete_or_retire_reason(reason_id=target.pk, actor=manager) == DELETED


def test_an_unknown_reason_is_not_found(admin_user):
    with pytest.raises(NotFound):
        delete_or_retire_reason(reason_id=999_999, actor=admin_user)
    with pytest.raises(NotFound):
        retire_reason(reason_id="1", actor=admin_user)


# --- show / hide, display order -----------------------------------------------------------------------

def test_hidden_reasons_are_not_offered():
    for row in Reason.objects.filter(code__in=["wrong_item", "late_delivery"]):
        row.is_visible = False
        row.save()

    assert "wrong_item" not in offered_codes() and "late_delivery" not in offered_codes()
    assert "wrong_item" not in [r.code for r in list_reasons_for(ticket_type="return_refund",
                                                                  categories={"general"})]
    with pytest.raises(FieldInvalid):
        submit(make_order(), type="return_refund", reason_code="wrong_item")


def test_offered_reasons_follow_the_display_order_and_moving_one_changes_it(admin_user):
    before = offered_codes()

    move_reason(reason_id=reason("late_delivery").pk, actor=admin_user, position=1)

    assert offered_codes() == ["late_delivery"] + [c for c in before if c != "late_delivery"]
    orders = list(Reason.objects.order_by("display_order").values_list("display_order", flat=True))
    assert orders == [10 * i for i in range(1, len(orders) + 1)]

    move_reason(reason_id=reason("late_delivery").pk, actor=admin_user, position=len(before))

    assert offered_codes()[-1] == "late_delivery"
    assert offered_codes()[:-1] == [c for c in before if c != "late_delivery"]


def test_editing_display_order_directly_reorders_what_is_offered():
    Reason.objects.filter(code="subjective").update(display_order=1)

    assert offered_codes()[0] == "subjective"


def test_moving_to_a_position_that_does_not_exist_is_refused_and_changes_nothing(admin_user):
    before = list(Reason.objects.values_list("code", "display_order"))
    target = reason("wrong_item")

    for position in (0, len(before) + 1, "1", True):
        with pytest.raises(FieldInvalid) as refused:
            move_reason(reason_id=target.pk, actor=admin_user, position=position)
        assert refused.value.field == "position"

    assert list(Reason.objects.values_list("code", "display_order")) == before


# --- what fits a claim --------------------------------------------------------------------------------

def test_fresh_produce_is_never_offered_subjective_or_no_reason_returns():
    for ticket_type in (None, "refund_only", "return_refund", "exchange"):
        codes = {r.code for r in list_reasons_for(ticket_type=ticket_type, categories={"fresh"})}
        assert codes, ticket_type
        assert not codes & {"subjective", "no_reason_7d", "size_issue", "colour_difference"}, ticket_type


def test_an_exchange_of_fresh_produce_is_offered_only_its_three_reasons_in_display_order():
    codes = [r.code for r in list_reasons_for(ticket_type="exchange", categories={"fresh"})]

    assert codes == ["quality_issue", "damaged_in_transit", "wrong_item"]


def test_reasons_for_a_ticket_type_all_apply_to_it_and_keep_the_display_order():
    reasons = list_reasons_for(ticket_type="return_refund", categories=["general"])

    codes = [r.code for r in reasons]
    assert {"no_reason_7d", "subjective", "quality_issue"} <= set(codes)
    assert "changed_mind" not in codes and "late_delivery" not in codes
    assert codes == [c for c in offered_codes() if c in codes]


def test_mixed_goods_get_only_reasons_that_fit_every_category():
    mixed = {r.code for r in list_reasons_for(ticket_type="return_refund", categories={"fresh", "general"})}
    fresh = {r.code for r in list_reasons_for(ticket_type="return_refund", categories={"fresh"})}
    general = {r.code for r in list_reasons_for(ticket_type="return_refund", categories={"general"})}

    assert mixed == fresh & general
    assert "subjective" in general and "subjective" not in mixed


def test_without_filters_every_offered_reason_is_listed():
    codes = [r.code for r in list_reasons_for()]

    assert codes == offered_codes()


# --- the admin ----------------------------------------------------------------------------------------

def test_the_admin_list_shows_reasons_with_their_types_and_categories(admin_client):
    response = admin_client.get(reverse("admin:reasons_reason_changelist"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "damaged_in_transit" in body and "refund_only, return_refund, exchange" in body


def test_the_admin_delete_confirmation_says_a_used_reason_will_be_retired(admin_client):
    target = used_reason()

    response = admin_client.get(reverse("admin:reasons_reason_delete", args=[target.pk]))

    assert response.status_code == 200
    assert "will be retired" in response.content.decode()
    assert not response.context["protected"]


def test_the_admin_delete_retires_a_used_reason(admin_client, admin_user):
    target = used_reason()

    response = admin_client.post(reverse("admin:reasons_reason_delete", args=[target.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert response.url == reverse("admin:reasons_reason_changelist")
    target.refresh_from_db()
    assert target.retired_at is not None and not target.is_visible
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("retired, not deleted" in t for t in texts)
    assert not any("deleted successfully" in t for t in texts)
    logged = LogEntry.objects.get(object_id=str(target.pk), content_type__model="reason")
    assert (logged.action_flag, logged.user_id) == (CHANGE, admin_user.pk)


def test_the_admin_delete_deletes_an_unused_reason(admin_client):
    target = unused_reason()

    response = admin_client.post(reverse("admin:reasons_reason_delete", args=[target.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not Reason.objects.filter(pk=target.pk).exists()
    assert LogEntry.objects.get(object_id=str(target.pk)).action_flag == DELETION


def test_the_admin_bulk_delete_deletes_the_unused_and_retires_the_used(admin_client):
    used, unused = used_reason("wrong_item"), unused_reason("size_issue")
    url = reverse("admin:reasons_reason_changelist")
    selection = {"action": "delete_selected", "_selected_action": [used.pk, unused.pk]}

    confirm = admin_client.post(url, selection)
    assert confirm.status_code == 200 and "will be retired" in confirm.content.decode()
    assert Reason.objects.filter(pk__in=[used.pk, unused.pk]).count() == 2

    response = admin_client.post(url, {**selection, "post": "yes"})

    assert response.status_code == 302
    assert not Reason.objects.filter(pk=unused.pk).exists()
    used.refresh_from_db()
    assert used.retired_at is not None and not used.is_visible
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("retired instead of deleted: wrong_item" in t for t in texts)
    assert not any("Successfully deleted" in t for t in texts)


def test_the_admin_retire_and_restore_actions(admin_client):
    target = unused_reason("late_delivery")
    url = reverse("admin:reasons_reason_changelist")

    admin_client.post(url, {"action": "retire_selected", "_selected_action": [target.pk]})
    target.refresh_from_db()
    assert target.retired_at is not None and "late_delivery" not in offered_codes()

    admin_client.post(url, {"action": "restore_selected", "_selected_action": [target.pk]})
    target.refresh_from_db()
    assert target.retired_at is None and "late_delivery" in offered_codes()


def test_a_staff_user_who_may_delete_but_not_change_reasons_changes_nothing():
    target = unused_reason()
    client = https_client(user_with("view_reason", "delete_reason", username="deleter", is_staff=True))

    response = client.post(reverse("admin:reasons_reason_delete", args=[target.pk]), {"post": "yes"})

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.retired_at is None and target.is_visible
    assert any("permission to change reasons" in str(m) for m in get_messages(response.wsgi_request))
    assert not LogEntry.objects.exists()


# --- policies -----------------------------------------------------------------------------------------

def test_the_defaults_migration_installed_every_policy_with_its_value():
    rows = {p.key: p for p in Policy.objects.all()}

    assert set(rows) == set(DEFAULTS)
    for key, (value, unit, _description, _source) in DEFAULTS.items():
        assert (rows[key].value, rows[key].unit) == (value, unit), key
    # The numbers of SPEC §6 and §5, spelt out.
    assert rows["fresh_claim_hours"].value == Decimal("48.00")
    assert rows["no_reason_days"].value == Decimal("7.00")
    assert rows["quality_days"].value == Decimal("15.00")
    assert rows["max_photos"].value == Decimal("6.00")
    assert rows["compensation_cap_percent"].value == Decimal("20.00")
    assert rows["compensation_cap_below"].value == Decimal("500.00")
    assert rows["refund_sla_hours"].value == Decimal("48.00")
    assert rows["logistics_first_reply_minutes"].value == Decimal("5.00")


def test_an_edited_policy_row_is_what_current_returns():
    row = Policy.objects.get(key="fresh_claim_hours")
    row.value = Decimal("72")
    row.save()

    current = policies.current()

    assert current["fresh_claim_hours"] == Decimal("72.00")
    assert current.hours("fresh_claim_hours") == dt.timedelta(hours=72)
    assert current["no_reason_days"] == Decimal("7.00")


def test_a_deleted_policy_row_falls_back_to_its_default():
    Policy.objects.filter(key="max_photos").delete()

    assert policies.current().count("max_photos") == 6


def fresh_order(delivered_ago: dt.timedelta):
    return make_order(lines=(("fresh", "5.00", 10, None),), delivered_ago=delivered_ago)


def test_a_fresh_claim_at_60_hours_is_refused_under_the_default_48():
    with clock.frozen_at(MOMENT):
        order = fresh_order(dt.timedelta(hours=60))
        with pytest.raises(OutsideWindow):
            submit(order, type="refund_only", reason_code="quality_issue", lines=[(0, 2)])

    assert not order.tickets.exists()


def test_a_fresh_claim_at_exactly_48_hours_is_accepted_and_one_second_later_refused():
    with clock.frozen_at(MOMENT):
        on_time = fresh_order(dt.timedelta(hours=48))
        late = fresh_order(dt.timedelta(hours=48, seconds=1))

        assert submit(on_time, type="refund_only", reason_code="quality_issue", lines=[(0, 2)]).pk
        with pytest.raises(OutsideWindow):
            submit(late, type="refund_only", reason_code="quality_issue", lines=[(0, 2)])

    assert not late.tickets.exists()


def test_a_fresh_claim_at_60_hours_succeeds_once_the_window_is_72_hours(admin_client):
    """Edited as an administrator does it: the policy's change form in the admin."""
    row = Policy.objects.get(key="fresh_claim_hours")
    response = admin_client.post(reverse("admin:policies_policy_change", args=[row.pk]),
                                 {"value": "72", "description": row.description})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.value == Decimal("72.00")

    with clock.frozen_at(MOMENT):
        order = fresh_order(dt.timedelta(hours=60))
        ticket = submit(order, type="refund_only", reason_code="quality_issue", lines=[(0, 2)])

    assert ticket.status == Ticket.Status.PENDING_REVIEW
    assert ticket.refund_amount == Decimal("10.00")


def test_a_photo_limit_lowered_by_policy_refuses_a_claim_with_more_photos():
    row = Policy.objects.get(key="max_photos")
    row.value = 1
    row.save()
    order = make_order()

    with pytest.raises(FieldInvalid) as refused:
        submit(order, type="return_refund", reason_code="wrong_item", photos=2)

    assert refused.value.field == "photo_ids"
    assert not order.tickets.exists()
    assert submit(order, type="return_refund", reason_code="wrong_item", photos=1).pk


def test_a_negative_policy_value_is_a_field_error_in_the_admin_not_a_constraint_name(admin_client):
    policy = Policy.objects.get(key="return_ship_days")
    url = reverse("admin:policies_policy_change", args=[policy.pk])

    page = admin_client.post(url, {"key": policy.key, "value": "-1", "unit": policy.unit,
                                   "description": policy.description, "source": policy.source})

    html = page.content.decode()
    assert page.status_code == 200  # the form again, with its errors
    assert "greater than or equal to 0" in html
    assert "policy_value_gte_0" not in html
    policy.refresh_from_db()
    assert policy.value == 7


def test_the_deadline_policies_are_rows_and_the_unread_one_is_gone():
    rows = {p.key: p for p in Policy.objects.all()}
    assert "order_extension_days" not in rows  # the order's transaction time is the shop's order system's
    assert (rows["service_hours_start"].value, rows["service_hours_end"].value) == (Decimal("9.00"), Decimal("24.00"))
    assert rows["service_hours_weekends"].unit == "switch" and rows["service_hours_weekends"].value == 1
    assert rows["sla_service_hours_only"].value == 0 and rows["auto_refund_after_sla"].value == 0
    assert rows["logistics_resolution_hours"].value == Decimal("48.00")


def test_a_switch_is_1_or_0_and_a_service_hour_is_an_hour_of_the_day():
    from django.core.exceptions import ValidationError

    switch = Policy.objects.get(key="auto_refund_after_sla")
    switch.value = Decimal("2")
    with pytest.raises(ValidationError) as refused:
        switch.full_clean()
    assert "value" in refused.value.message_dict
    hour = Policy.objects.get(key="service_hours_end")
    hour.value = Decimal("25")
    with pytest.raises(ValidationError):
        hour.full_clean()


def test_service_hours_that_make_no_sense_count_every_hour_rather_than_stop_the_clocks():
    for key, value in (("service_hours_start", "20"), ("service_hours_end", "8"), ("service_hours_weekends", "0")):
        row = Policy.objects.get(key=key)
        row.value = Decimal(value)
        row.save()
    hours = policies.current().service_hours()
    assert (hours.opens, hours.closes) == (0, 24 * 60) and hours.days == frozenset(range(5))
