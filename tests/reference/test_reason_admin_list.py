"""Reason order and visibility in the admin (issue #20): typed in the list (its editable columns) or in the
change form, they are changed by the reason services (place_reason, set_reason_visibility); a retired reason
is not shown by ticking it, a negative order is refused, each beside its field with what was typed kept, and
nothing is saved; who changed what stays in the history and the admin's log."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from aftersales.errors import FieldInvalid, NotAllowed
from reasons.models import Reason
from reasons.services import place_reason, retire_reason, set_reason_visibility
from tests.factories import UserFactory, reason

pytestmark = pytest.mark.django_db
LIST = reverse("admin:reasons_reason_changelist")
RETIRED_WORDS = "A retired reason comes back through “Restore”, not by showing it."


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture(autouse=True)
def _plain_static_files(settings, tmp_path):
    """Admin pages link static files; the manifest storage of production needs collectstatic first."""
    settings.STATIC_ROOT = str(tmp_path)
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


def client_of(user) -> Client:
    client = Client(HTTP_X_FORWARDED_PROTO="https")  # behind the production proxy
    client.force_login(user)
    return client


def list_save(client, rows: dict[Reason, dict]):
    """POST the changelist's formset as the browser does: each listed row with its order and visibility,
    those in ``rows`` changed as given."""
    data = {"form-TOTAL_FORMS": len(rows), "form-INITIAL_FORMS": len(rows), "form-MIN_NUM_FORMS": 0,
            "form-MAX_NUM_FORMS": 1000, "_save": "Save"}
    for i, (row, typed) in enumerate(rows.items()):
        typed = {"display_order": row.display_order, "is_visible": row.is_visible, **typed}
        data[f"form-{i}-id"] = row.pk
        data[f"form-{i}-display_order"] = typed["display_order"]
        if typed["is_visible"]:
            data[f"form-{i}-is_visible"] = "on"
    return client.post(LIST, data)


def snapshot() -> list[tuple]:
    return list(Reason.objects.order_by("pk").values_list("code", "display_order", "is_visible", "retired_at"))


def form_errors(response) -> list[dict]:
    return [dict(form.errors) for form in response.context["cl"].formset.forms]


# --- the list --------------------------------------------------------------------------------------------


def test_the_list_reorders_and_hides_through_the_services_and_logs_who_did_it(admin_user):
    late, wrong = reason("late_delivery"), reason("wrong_item")

    response = list_save(client_of(admin_user), {late: {"display_order": 1}, wrong: {"is_visible": False}})

    assert response.status_code == 302
    late.refresh_from_db()
    wrong.refresh_from_db()
    assert (late.display_order, wrong.is_visible, wrong.retired_at) == (1, False, None)  # hidden, not retired
    assert Reason.objects.offered().first() == late
    assert not Reason.objects.offered().filter(pk=wrong.pk).exists()
    logged = {entry.object_id: entry for entry in LogEntry.objects.filter(action_flag=CHANGE)}
    assert set(logged) == {str(late.pk), str(wrong.pk)}
    assert all(entry.user == admin_user for entry in logged.values())
    changed = late.history.order_by("pgh_id").last()
    assert (changed.display_order, changed.pgh_context.metadata["username"]) == (1, "root")


def test_a_hidden_reason_is_shown_again_from_the_list(admin_user):
    hidden = set_reason_visibility(reason_id=reason("subjective").pk, actor=admin_user, visible=False)

    list_save(client_of(admin_user), {hidden: {"is_visible": True}})

    assert Reason.objects.offered().filter(pk=hidden.pk).exists()


def test_ticking_a_retired_reason_visible_is_refused_beside_it_and_nothing_is_saved(admin_user):
    retired = retire_reason(reason_id=reason("late_delivery").pk, actor=admin_user)
    other = reason("wrong_item")
    before = snapshot()

    response = list_save(client_of(admin_user), {retired: {"is_visible": True}, other: {"display_order": 5}})

    assert response.status_code == 200  # the list again, with the errors
    assert form_errors(response) == [{"is_visible": [RETIRED_WORDS]}, {}]
    assert RETIRED_WORDS in response.content.decode()
    # What was typed is kept: the other row's new order, the ticked box.
    forms = response.context["cl"].formset.forms
    assert (forms[0]["is_visible"].value(), forms[1]["display_order"].value()) == (True, "5")
    assert snapshot() == before  # the other row's valid change is not saved either
    assert not LogEntry.objects.exists()


def test_a_negative_order_is_refused_with_its_own_words(admin_user):
    target = reason("wrong_item")
    before = snapshot()

    response = list_save(client_of(admin_user), {target: {"display_order": -3}})

    assert form_errors(response) == [{"display_order": ["A display order of 0 or more."]}]
    assert 'value="-3"' in response.content.decode()
    assert snapshot() == before


def test_a_user_who_may_only_view_reasons_cannot_save_the_list():
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(content_type__app_label="reasons", codename="view_reason"))
    target = reason("wrong_item")
    before = snapshot()

    response = list_save(client_of(type(viewer).objects.get(pk=viewer.pk)), {target: {"display_order": 1}})

    assert response.status_code == 403
    assert snapshot() == before


# --- the change form -------------------------------------------------------------------------------------


def change_form_data(row: Reason, **typed) -> dict:
    data = {"name": row.name, "name_zh": row.name_zh, "group": row.group, "responsible": row.responsible,
            "ticket_types": row.ticket_types, "display_order": row.display_order}
    for flag in ("is_quality_issue", "requires_photos", "for_fresh", "for_general", "is_visible"):
        if getattr(row, flag):
            data[flag] = "on"
    data.update(typed)
    return {key: value for key, value in data.items() if value is not False}


def test_the_change_form_saves_order_and_visibility_through_the_services_with_the_other_fields(admin_user):
    target = reason("wrong_item")
    url = reverse("admin:reasons_reason_change", args=[target.pk])

    response = client_of(admin_user).post(url, change_form_data(target, name="Wrong item sent", display_order=7,
                                                                is_visible=False))

    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.name, target.display_order, target.is_visible) == ("Wrong item sent", 7, False)
    assert target.history.order_by("pgh_id").last().pgh_context.metadata["username"] == "root"


def test_the_change_form_refuses_showing_a_retired_reason_and_keeps_what_was_typed(admin_user):
    retired = retire_reason(reason_id=reason("late_delivery").pk, actor=admin_user)
    before = snapshot()
    url = reverse("admin:reasons_reason_change", args=[retired.pk])

    response = client_of(admin_user).post(url, change_form_data(retired, name="Late, renamed", is_visible="on",
                                                                display_order=-1))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert dict(form.errors) == {"is_visible": [RETIRED_WORDS], "display_order": ["A display order of 0 or more."]}
    assert form["name"].value() == "Late, renamed"
    assert snapshot() == before


# --- the services the admin calls ------------------------------------------------------------------------


def test_the_services_refuse_what_the_forms_refuse_and_need_a_reason_manager(admin_user, ops_user):
    retired = retire_reason(reason_id=reason("late_delivery").pk, actor=admin_user)
    target = reason("wrong_item")
    before = snapshot()

    with pytest.raises(FieldInvalid) as refused:
        set_reason_visibility(reason_id=retired.pk, actor=admin_user, visible=True)
    assert (refused.value.field, refused.value.detail) == ("is_visible", RETIRED_WORDS)
    for bad in (-1, "3", True):
        with pytest.raises(FieldInvalid) as refused:
            place_reason(reason_id=target.pk, actor=admin_user, display_order=bad)
        assert refused.value.field == "display_order"
    with pytest.raises(NotAllowed):
        place_reason(reason_id=target.pk, actor=ops_user, display_order=1)
    with pytest.raises(NotAllowed):
        set_reason_visibility(reason_id=target.pk, actor=ops_user, visible=False)

    assert snapshot() == before


# --- moving a row: "up" / "down" and a drag post "<id> before|after <id>" (issue #21) -------------------------

MOVE = reverse("admin:reasons_reason_move")


def in_order() -> list[str]:
    return list(Reason.objects.order_by("display_order", "pk").values_list("code", flat=True))


def test_each_row_offers_up_and_down_naming_its_neighbours_and_the_first_row_no_up(admin_user):
    codes = in_order()
    first, second = reason(codes[0]), reason(codes[1])

    html = client_of(admin_user).get(LIST).content.decode()

    assert f'value="{second.pk} before {first.pk}"' in html  # the second row's "up"
    assert f'value="{first.pk} after {second.pk}"' in html  # the first row's "down"
    assert f'value="{first.pk} before ' not in html  # nothing above the first
    assert 'id="reason-move-form"' in html
    # The buttons belong to the move form, not the list's: Enter in a typed order still saves the list.
    assert html.count('form="reason-move-form"') == 2 * len(codes) - 2


def test_up_moves_a_reason_before_its_neighbour_and_renumbers_through_the_service(admin_user):
    codes = in_order()
    third, second = reason(codes[2]), reason(codes[1])

    response = client_of(admin_user).post(MOVE, {"move": [f"{third.pk} before {second.pk}"], "next": f"{LIST}?q="})

    assert response.status_code == 302 and response.url == f"{LIST}?q=#moved-{third.pk}-up"
    assert in_order() == [codes[0], codes[2], codes[1], *codes[3:]]
    assert list(Reason.objects.order_by("display_order").values_list("display_order", flat=True))[:3] == [10, 20, 30]
    assert LogEntry.objects.get(action_flag=CHANGE).object_id == str(third.pk)


def test_a_drop_at_the_end_puts_the_reason_after_the_last_row(admin_user):
    codes = in_order()
    first, last = reason(codes[0]), reason(codes[-1])

    client_of(admin_user).post(MOVE, {"move": ["", f"{first.pk} after {last.pk}"]})

    assert in_order() == [*codes[1:], codes[0]]


def test_a_move_without_the_permission_or_with_nonsense_changes_nothing(admin_user):
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(content_type__app_label="reasons", codename="view_reason"))
    codes = in_order()
    first, second = reason(codes[0]), reason(codes[1])

    refused = client_of(type(viewer).objects.get(pk=viewer.pk)).post(MOVE, {"move": f"{second.pk} before {first.pk}"})
    nonsense = client_of(admin_user).post(MOVE, {"move": f"{second.pk} beside {first.pk}"}, follow=True)
    unknown = client_of(admin_user).post(MOVE, {"move": f"{second.pk} before 999999"}, follow=True)

    assert refused.status_code == 403
    assert "Say which reason goes before or after which." in nonsense.content.decode()
    assert "No such reason to move it next to." in unknown.content.decode()
    assert in_order() == codes
