"""API tokens (issue #19, finding 4: "Two-factor bypassed by tokens issued earlier"): a token is no way
around two-factor whatever its age, a password or two-factor change revokes the user's tokens, a staff
token lapses when unused, a buyer's never does, tokens are kept hashed, and DRF's tokens moved over keep
working."""

import datetime as dt
import importlib
import re
from io import StringIO

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, override_settings
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.authtoken.models import Token as DrfToken
from rest_framework.test import APIClient

from aftersales import clock
from tests.api_helpers import API
from tests.edges.test_staff_logins import code_for, enrolled
from tests.factories import UserFactory, assert_error, client_for

pytestmark = pytest.mark.django_db

IDLE = dt.timedelta(days=30)  # STAFF_TOKEN_IDLE_DAYS' default


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def login(username: str, **extra):
    return APIClient().post(f"{API}/auth/token/", {"username": username, "password": "pass-1234", **extra},
                            format="json")


def get(client: APIClient, path: str = "staff/tickets/"):
    return client.get(f"{API}/{path}")


def refused(response) -> None:
    """The token is no token (any more): 401, as for a wrong one."""
    assert_error(response, 401, "authentication_failed")


# ------------------------------------------------------------------- two-factor, whatever the token's age


def test_finding4_token_of_finance_user_without_device_is_refused_when_2fa_required(finance_user):
    client = client_for(finance_user)  # issued while two-factor was not required
    assert client.get(f"{API}/finance/refunds/").status_code == 200

    with override_settings(STAFF_2FA_REQUIRED=True):
        for path in ("finance/refunds/", "staff/tickets/", "ping/", "tickets/"):
            assert_error(client.get(f"{API}/{path}"), 403, "two_factor_setup_required")
        posted = client.post(f"{API}/finance/tickets/AS1/approve/", {}, format="json")
        schema = client.get("/api/schema/", {"format": "json"})

    assert_error(posted, 403, "two_factor_setup_required")
    assert_error(schema, 403, "two_factor_setup_required")


@override_settings(STAFF_2FA_REQUIRED=True)
def test_finding4_token_of_superuser_without_device_is_refused_when_2fa_required():
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client = client_for(root)

    assert_error(client.get(f"{API}/finance/refunds/"), 403, "two_factor_setup_required")
    assert_error(client.get(f"{API}/staff/tickets/"), 403, "two_factor_setup_required")


@override_settings(STAFF_2FA_REQUIRED=True)
def test_with_2fa_required_finance_with_a_device_and_others_without_keep_working(finance_user, ops_user, buyer):
    device = enrolled(finance_user)
    finance = with_token(login("finance1", otp=code_for(device)).json()["token"])

    assert finance.get(f"{API}/finance/refunds/").status_code == 200
    assert client_for(ops_user).get(f"{API}/staff/tickets/").status_code == 200  # not required of ops
    assert client_for(buyer.user).get(f"{API}/tickets/").status_code == 200


# ------------------------------------------------------------------------------------------- revocation


def test_finding4_token_issued_before_device_setup_stops_working(ops_user):
    old = client_for(ops_user)
    assert get(old).status_code == 200
    browser = Client()
    browser.force_login(ops_user)
    browser.get("/admin/two-factor/")  # the setup page: an app's secret, not yet confirmed
    pending = TOTPDevice.objects.get(user=ops_user, confirmed=False)
    assert get(old).status_code == 200  # a device being set up changes nothing yet

    confirmed = browser.post("/admin/two-factor/", {"otp_token": code_for(pending)})

    assert 'id="backup-codes"' in confirmed.content.decode()
    refused(get(old))
    assert not AuthToken.objects.filter(user=ops_user).exists()
    assert_error(login("ops1"), 400, "required", field="otp")  # a new token needs the code now...
    new = with_token(login("ops1", otp=code_for(pending, later=1)).json()["token"])
    assert get(new).status_code == 200
    # ... and checking another code (a backup code: the devices are saved) revokes nothing.
    assert login("ops1", otp=confirmed.context["backup_codes"][0]).status_code == 200
    assert get(new).status_code == 200


def test_finding4_device_added_in_the_admin_revokes_the_users_tokens(admin_client, ops_user):
    old = client_for(ops_user)

    added = admin_client.post("/admin/otp_totp/totpdevice/add/", {
        "user": ops_user.pk, "name": "phone", "confirmed": "on", "key": "3132333435363738393031323334353637383930",
        "step": 30, "t0": 0, "digits": 6, "tolerance": 1, "drift": 0, "throttling_failure_count": 0})

    assert added.status_code == 302, added.content.decode()[:2000]
    assert TOTPDevice.objects.filter(user=ops_user, confirmed=True).exists()
    refused(get(old))


def test_finding4_device_removed_in_the_admin_revokes_the_users_tokens(admin_client, ops_user, finance_user):
    device = enrolled(ops_user)
    token = login("ops1", otp=code_for(device)).json()["token"]
    bystander = client_for(finance_user)
    assert get(with_token(token)).status_code == 200

    deleted = admin_client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})

    assert deleted.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    refused(get(with_token(token)))
    assert get(bystander).status_code == 200  # only that user's tokens


def test_finding4_backup_codes_removed_revoke_the_users_tokens(ops_user):
    backup = StaticDevice.objects.create(user=ops_user, name="Backup codes", confirmed=True)
    client = client_for(ops_user)

    StaticDevice.objects.filter(pk=backup.pk).delete()  # a bulk delete, as the admin's action does

    refused(get(client))


def test_finding4_password_changed_in_the_admin_form_revokes_the_users_tokens(admin_client, buyer, ops_user):
    staff, shop = client_for(ops_user), client_for(buyer.user)

    changed = admin_client.post(f"/admin/auth/user/{ops_user.pk}/password/", {
        "password1": "a-new-pass-9876", "password2": "a-new-pass-9876", "usable_password": "true"})

    assert changed.status_code == 302, changed.content.decode()[:2000]
    ops_user.refresh_from_db()
    assert ops_user.check_password("a-new-pass-9876")
    refused(get(staff))
    assert get(shop, "tickets/").status_code == 200


def test_finding4_password_disabled_in_the_admin_form_revokes_the_users_tokens(admin_client, ops_user):
    client = client_for(ops_user)

    changed = admin_client.post(f"/admin/auth/user/{ops_user.pk}/password/",
                                {"usable_password": "false", "unset-password": "1"})  # the "Disable" button

    assert changed.status_code == 302, changed.content.decode()[:2000]
    ops_user.refresh_from_db()
    assert not ops_user.has_usable_password()
    refused(get(client))


def test_finding4_password_changed_by_set_password_revokes_the_users_tokens(buyer):
    client = client_for(buyer.user)
    user = get_user_model().objects.get(pk=buyer.user.pk)

    user.set_password("another-pass-5555")
    user.save()

    refused(get(client, "tickets/"))


def test_saving_a_user_or_logging_in_without_a_new_password_revokes_nothing(buyer):
    client = client_for(buyer.user)
    user = get_user_model().objects.get(pk=buyer.user.pk)

    user.first_name = "Alice"
    user.save()
    assert login(user.username).status_code == 200  # last_login is saved

    assert get(client, "tickets/").status_code == 200


# ----------------------------------------------------------------------------------------------- expiry


def test_finding4_staff_token_expires_after_idle_days(ops_user):
    start = clock.now()
    used, unused = client_for(ops_user), client_for(ops_user)
    assert get(used).status_code == 200

    with time_machine.travel(start + IDLE + dt.timedelta(minutes=5), tick=False):
        refused(get(used))
        refused(get(unused))

    assert not AuthToken.objects.filter(user=ops_user).exists()  # the lapsed tokens are gone


def test_finding4_each_use_pushes_a_staff_tokens_expiry_out(ops_user):
    start = clock.now()
    client = client_for(ops_user)

    for day in (20, 40, 60):  # used every 20 days: never 30 days idle
        with time_machine.travel(start + dt.timedelta(days=day), tick=False):
            assert get(client).status_code == 200, day
    with time_machine.travel(start + dt.timedelta(days=60) + IDLE + dt.timedelta(minutes=1), tick=False):
        refused(get(client))


def test_finding4_superuser_token_lapses_like_staff(admin_user):
    with time_machine.travel(clock.now() - IDLE - dt.timedelta(hours=1), tick=False):
        client = client_for(admin_user)

    refused(get(client))


def test_finding4_buyer_token_never_expires(buyer, service_user):
    response = login("alice")
    buyer_client, service = with_token(response.json()["token"]), client_for(service_user)

    with time_machine.travel(clock.now() + dt.timedelta(days=3650), tick=False):
        assert get(buyer_client, "tickets/").status_code == 200
        assert service.get(f"{API}/ping/").status_code == 200

    assert response.json()["expiry"] is None
    assert AuthToken.objects.get(user=buyer.user).expiry is None


# ---------------------------------------------------------------------------------- issuing and storing


def test_finding4_token_endpoint_answers_a_token_that_works_and_is_stored_hashed(ops_user):
    response = login("ops1")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expiry"}
    assert get(with_token(body["token"])).status_code == 200
    row = AuthToken.objects.get(user=ops_user)
    assert body["token"] not in (row.digest, row.token_key)
    assert abs(row.expiry - (clock.now() + IDLE)) < dt.timedelta(minutes=1)


def test_finding4_issue_token_prints_a_new_token_that_works(buyer):
    out = StringIO()
    call_command("issue_token", "alice", stdout=out)
    token = out.getvalue().strip()

    assert get(with_token(token), "tickets/").status_code == 200
    row = AuthToken.objects.get(user=buyer.user)
    assert token not in (row.digest, row.token_key)


def test_finding4_drf_era_token_migrated_still_works(buyer, ops_user):
    """aftersales 0006: DRF's 40-character keys become knox tokens with the same secret."""
    copy_drf_tokens = importlib.import_module("aftersales.migrations.0006_knox_tokens").copy_drf_tokens
    buyer_key = DrfToken.objects.create(user=buyer.user).key
    staff_key = DrfToken.objects.create(user=ops_user).key
    assert len(buyer_key) == 40

    moved = copy_drf_tokens(apps, None)

    assert moved == 2
    assert not DrfToken.objects.exists()  # the secrets in clear are gone
    assert get(with_token(buyer_key), "tickets/").status_code == 200
    assert get(with_token(staff_key)).status_code == 200
    assert AuthToken.objects.get(user=buyer.user).expiry is None
    assert abs(AuthToken.objects.get(user=ops_user).expiry - (clock.now() + IDLE)) < dt.timedelta(minutes=1)
    with time_machine.travel(clock.now() + IDLE + dt.timedelta(hours=1), tick=False):
        assert get(with_token(buyer_key), "tickets/").status_code == 200
        refused(get(with_token(staff_key)))


def test_finding4_seed_demo_run_again_prints_tokens_that_work():
    call_command("seed_demo", stdout=StringIO())
    first = StringIO()
    call_command("seed_demo", stdout=first)
    printed = dict(re.findall(r"^\s+(alice|bob)\s+Authorization: Token (\w+)$", first.getvalue(), re.MULTILINE))

    assert set(printed) == {"alice", "bob"}
    for token in printed.values():
        assert get(with_token(token), "tickets/").status_code == 200
        assert not AuthToken.objects.filter(digest=token).exists()  # kept as a hash
    assert AuthToken.objects.filter(user__username="alice").count() == 1  # the earlier run's was revoked


@pytest.mark.parametrize("header", ["Token ünïcode", "Token a\x00b", "Token " + "0" * 64])
def test_a_malformed_or_unknown_token_is_401(buyer, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    refused(get(client, "tickets/"))


def test_the_admin_lists_tokens_without_their_secret_makes_none_and_deleting_one_revokes_it(admin_client, buyer):
    secret = login("alice").json()["token"]
    row = AuthToken.objects.get(user=buyer.user)

    listing = admin_client.get("/admin/access/apitoken/")
    add = admin_client.get("/admin/access/apitoken/add/")
    drf = admin_client.get("/admin/authtoken/tokenproxy/")
    deleted = admin_client.post(f"/admin/access/apitoken/{row.pk}/delete/", {"post": "yes"})

    assert listing.status_code == 200 and "alice" in listing.content.decode()
    assert secret not in listing.content.decode()
    assert add.status_code == 403
    assert drf.status_code == 404  # DRF's tokens are no longer used
    assert deleted.status_code == 302
    refused(get(with_token(secret), "tickets/"))
