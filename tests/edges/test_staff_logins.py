"""Staff logins that resist guessing (issue #14): lockout per account and address and per address alone,
an administrator's unlock, the API's token endpoint under the same lockout, and two-factor for staff."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from access import two_factor
from tests.api_helpers import API
from tests.edges.test_hardening import DOWN_CACHE, REDIS_DOWN
from tests.factories import UserFactory, assert_error

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def attempt(username: str, password: str, *, address="203.0.113.7", code=None, client=None):
    client = client or Client(REMOTE_ADDR=address)
    data = {"username": username, "password": password, "next": "/admin/"}
    if code is not None:
        data["otp_token"] = code
    return client.post(LOGIN, data)


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def fail(username: str, times: int, **kwargs) -> list[int]:
    return [attempt(username, "wrong-guess", **kwargs).status_code for _ in range(times)]


# ------------------------------------------------------------------------------------------------ lockout


@override_settings(AXES_FAILURE_LIMIT=5, LOGIN_FAILURES_PER_ADDRESS=12)
def test_the_nth_wrong_password_locks_the_account_at_that_address_and_the_right_one_is_then_refused(ops_user):
    UserFactory(username="ops2", groups=["ops"])

    assert fail("ops1", 5) == [200, 200, 200, 200, 429]  # the 5th wrong password answers the lockout page
    refused = attempt("ops1", "pass-1234")
    elsewhere = attempt("ops1", "pass-1234", address="198.51.100.20")  # another address: not locked
    colleague = attempt("ops2", "pass-1234")  # another account from the same address, below the spray limit

    assert refused.status_code == 429 and "_auth_user_id" not in refused.client.session
    assert "Too many failed logins" in refused.content.decode()
    assert "30 minutes" in refused.content.decode()
    assert refused["Retry-After"] == "1800"
    assert logged_in(elsewhere) and logged_in(colleague)


@override_settings(AXES_FAILURE_LIMIT=5, LOGIN_FAILURES_PER_ADDRESS=12)
def test_failures_over_many_accounts_from_one_address_lock_the_address(ops_user):
    names = [UserFactory(username=f"sprayed{i}", groups=["ops"]).username for i in range(4)]

    statuses = [fail(name, 3) for name in names]  # 12 wrong passwords, never 5 for one account

    assert statuses[:3] == [[200, 200, 200]] * 3 and statuses[3] == [200, 200, 429]
    assert attempt("ops1", "pass-1234").status_code == 429  # an account never guessed: the address is locked
    assert logged_in(attempt("ops1", "pass-1234", address="198.51.100.20"))


@override_settings(AXES_FAILURE_LIMIT=5)
def test_an_administrator_unlocks_the_account_and_the_right_password_works_again(ops_user):
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    fail("ops1", 5)
    assert attempt("ops1", "pass-1234").status_code == 429

    admin = Client()
    admin.force_login(boss)
    page = admin.get("/admin/auth/user/")
    unlock = admin.post("/admin/auth/user/", {"action": "unlock_logins", "_selected_action": [ops_user.pk]},
                        follow=True)

    assert 'value="unlock_logins"' in page.content.decode()
    assert "Unlocked 1 user" in unlock.content.decode()
    assert logged_in(attempt("ops1", "pass-1234"))


def test_only_an_administrator_may_unlock(ops_user, finance_user):
    fail("ops1", 5)
    finance = Client()
    finance.force_login(UserFactory(username="lead", groups=["ops"], is_staff=True))

    page = finance.get("/admin/auth/user/")

    assert 'value="unlock_logins"' not in page.content.decode()
    assert attempt("ops1", "pass-1234").status_code == 429


def test_the_test_clients_login_still_works_and_a_locked_account_is_refused_over_http(ops_user):
    fail("ops1", 5)

    assert Client().login(username="ops1", password="pass-1234")  # no request, no address: not counted
    assert not Client().login(username="ops1", password="wrong")
    assert attempt("ops1", "pass-1234").status_code == 429


def test_the_lockout_holds_with_redis_down(ops_user):
    with override_settings(CACHES=DOWN_CACHE, REDIS_URL=REDIS_DOWN):
        assert fail("ops1", 5)[-1] == 429
        assert attempt("ops1", "pass-1234").status_code == 429


@override_settings(LOGIN_TRUSTED_PROXIES=1)
def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw_not_what_the_client_wrote(ops_user):
    def through_proxy(password, forwarded):
        return attempt("ops1", password, client=Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded))

    for i in range(5):  # the client invents a new address each time; the proxy appends the real one
        through_proxy("wrong-guess", f"192.0.2.{i}, 203.0.113.9")

    assert through_proxy("pass-1234", "203.0.113.9").status_code == 429
    assert logged_in(through_proxy("pass-1234", "203.0.113.10"))  # another client behind the same proxy


def test_the_api_token_endpoint_counts_and_answers_a_lockout_in_the_error_shape(ops_user):
    client = APIClient(REMOTE_ADDR="203.0.113.7")

    wrong = [client.post(f"{API}/auth/token/", {"username": "ops1", "password": "nope"}, format="json")
             for _ in range(5)]
    right = client.post(f"{API}/auth/token/", {"username": "ops1", "password": "pass-1234"}, format="json")
    admin = attempt("ops1", "pass-1234")  # the same lockout as the admin's login

    assert [r.status_code for r in wrong[:4]] == [400] * 4
    assert_error(wrong[4], 429, "locked_out")
    body = assert_error(right, 429, "locked_out")
    assert "administrator" in body["detail"]
    assert admin.status_code == 429


def test_hostile_account_names_at_the_token_endpoint_are_refused_not_crashed():
    client = APIClient()
    for username in ["x" * 5000, "nul\x00byte", "ünïcødé" * 100]:
        response = client.post(f"{API}/auth/token/", {"username": username, "password": "nope"}, format="json")
        assert response.status_code == 400, (username[:20], response.content[:200])


# ------------------------------------------------------------------------------------------------ two-factor


def code_for(device: TOTPDevice, *, later: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0 - later * device.step, digits=device.digits):06d}"


def unthrottle(device: TOTPDevice) -> None:
    """django-otp makes each wrong code wait longer before the next (1 s, 2 s, 4 s...): a test does not wait."""
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


@override_settings(STAFF_2FA_REQUIRED=True)
def test_with_the_setting_on_finance_without_a_device_is_sent_to_set_one_up_and_can_reach_nothing_else(
        finance_user):
    client = Client()
    login = attempt("finance1", "pass-1234", client=client)
    assert logged_in(login)

    for path in ["/admin/", "/admin/tickets/ticket/", "/admin/refunds/refundqueueticket/", "/admin/password_change/"]:
        response = client.get(path)
        assert (response.status_code, response["Location"]) == (302, "/admin/two-factor/"), path
    api = client.get(f"{API}/finance/refunds/")
    setup = client.get("/admin/two-factor/")

    assert_error(api, 403, "two_factor_setup_required")
    assert setup.status_code == 200
    page = setup.content.decode()
    assert "<svg" in page and "<script" not in page.split('id="two-factor"')[1]
    device = TOTPDevice.objects.get(user=finance_user, confirmed=False)
    assert two_factor.grouped(device.bin_key).replace(" ", "")[:8] in page.replace(" ", "")


@override_settings(STAFF_2FA_REQUIRED=True)
def test_a_wrong_first_code_keeps_the_page_and_the_right_one_turns_two_factor_on(finance_user):
    client = Client()
    attempt("finance1", "pass-1234", client=client)
    client.get("/admin/two-factor/")
    device = TOTPDevice.objects.get(user=finance_user)

    wrong = client.post("/admin/two-factor/", {"otp_token": "000000" if code_for(device) != "000000" else "111111"})
    assert wrong.status_code == 200 and "That code is not right" in wrong.content.decode()
    assert not two_factor.has_device(finance_user)
    assert client.get("/admin/")["Location"] == "/admin/two-factor/"

    unthrottle(device)
    right = client.post("/admin/two-factor/", {"otp_token": code_for(device)})

    assert right.status_code == 200 and 'id="backup-codes"' in right.content.decode()
    assert two_factor.has_device(finance_user)
    assert client.get("/admin/").status_code == 200  # this session gave its code


def test_a_user_with_a_device_must_give_a_code_at_login(ops_user):
    device = enrolled(ops_user)

    without = attempt("ops1", "pass-1234")
    wrong = attempt("ops1", "pass-1234", code="12345x")
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=5)  # wrong codes in a row: a wait
    at_once = attempt("ops1", "pass-1234", code=code_for(device))  # the right code, within the wait
    unthrottle(device)
    right_client = Client()
    right = attempt("ops1", "pass-1234", code=code_for(device), client=right_client)

    assert without.status_code == 200 and "Enter the code" in without.content.decode()
    assert "_auth_user_id" not in without.client.session
    assert wrong.status_code == 200 and "That code is not right" in wrong.content.decode()
    assert at_once.status_code == 200 and "Too many wrong codes: wait" in at_once.content.decode()
    assert logged_in(right)
    assert right_client.get("/admin/tickets/ticket/").status_code == 200


def test_a_session_that_never_gave_its_code_is_refused(ops_user):
    enrolled(ops_user)
    client = Client()
    client.force_login(ops_user)  # a session made without the login form

    assert client.get("/admin/tickets/ticket/").status_code == 302
    assert_error(client.get(f"{API}/staff/tickets/"), 403, "two_factor_required")


def test_a_backup_code_works_once(ops_user):
    client = Client()
    client.force_login(ops_user)
    client.get("/admin/two-factor/")
    device = TOTPDevice.objects.get(user=ops_user)
    codes = client.post("/admin/two-factor/", {"otp_token": code_for(device)}).context["backup_codes"]

    assert logged_in(attempt("ops1", "pass-1234", code=codes[0]))
    assert attempt("ops1", "pass-1234", code=codes[0]).status_code == 200


@override_settings(STAFF_2FA_REQUIRED=False)
def test_with_the_setting_off_finance_logs_in_as_before(finance_user):
    client = Client()
    assert logged_in(attempt("finance1", "pass-1234", client=client))
    assert client.get("/admin/refunds/refundqueueticket/").status_code == 200
    offer = client.get("/admin/two-factor/")  # optional: offered to anyone, from the user links
    assert 'id="two-factor-link"' in client.get("/admin/").content.decode()
    assert offer.status_code == 200 and "<svg" in offer.content.decode()
    assert "Your role needs two-factor login" not in offer.content.decode()


@override_settings(STAFF_2FA_REQUIRED=True)
def test_the_token_endpoint_is_no_way_around_two_factor(finance_user, ops_user):
    superuser = get_user_model().objects.create_superuser("root", password="pass-1234")
    device = enrolled(ops_user)
    client = APIClient()

    def token(username, **extra):
        return client.post(f"{API}/auth/token/", {"username": username, "password": "pass-1234", **extra},
                           format="json")

    assert_error(token("finance1"), 403, "two_factor_setup_required")
    assert_error(token("root"), 403, "two_factor_setup_required")
    assert superuser.is_superuser
    assert_error(token("ops1"), 400, "required", field="otp")
    assert_error(token("ops1", otp="000000" if code_for(device) != "000000" else "111111"), 400, "invalid",
                 field="otp")
    assert_error(token("ops1", otp=["a"]), 400, "invalid", field="otp")
    unthrottle(device)
    assert token("ops1", otp=code_for(device)).status_code == 200
    UserFactory(username="ops3", groups=["ops"])
    assert token("ops3").status_code == 200  # no device, not required: as API.md says
