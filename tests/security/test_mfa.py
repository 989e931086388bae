"""Administrators need an authenticator code after their password before anything works."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from tests.auth import SignedInClient
from tests.factories import TEST_PASSWORD
from training import totp
from training.mfa import device_secret, totp_enrol_with_secret
from training.models import TOTPDevice

pytestmark = pytest.mark.django_db

SECRET = b"12345678901234567890"


@pytest.fixture
def enrolled_admin(admin_user):
    totp_enrol_with_secret(user=admin_user, secret=SECRET)
    return admin_user


def _password_only(client, user):
    client.force_login(user, mfa_verified=False)
    return client


@pytest.mark.parametrize("url", ["/", "/admin/", "/admin/training/staffmember/", "/staff/"])
def test_admin_pages_redirect_to_the_code_step_until_verified(client, enrolled_admin, url):
    response = _password_only(client, enrolled_admin).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/mfa/verify/?next=")


def test_session_authenticated_api_calls_are_refused_until_verified(client, enrolled_admin):
    response = _password_only(client, enrolled_admin).get("/api/v1/staff/")
    assert response.status_code == 403


def test_a_right_code_lets_the_admin_in_once(client, enrolled_admin):
    _password_only(client, enrolled_admin)
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        code = totp.totp(SECRET)
        response = client.post("/accounts/mfa/verify/", {"code": code, "next": "/admin/"})
        assert response.status_code == 302
        assert response["Location"] == "/admin/"
        assert client.get("/admin/").status_code == 200
        # The same code cannot be replayed in another session.
        other = _password_only(SignedInClient(), enrolled_admin)
        again = other.post("/accounts/mfa/verify/", {"code": code})
    assert again.status_code == 200
    assert "Enter the 6-digit code" in again.content.decode()


def test_a_wrong_code_is_refused(client, enrolled_admin):
    _password_only(client, enrolled_admin)
    with time_machine.travel(timezone.now(), tick=False):
        wrong = f"{(int(totp.totp(SECRET)) + 1) % 1_000_000:06d}"
        response = client.post("/accounts/mfa/verify/", {"code": wrong})
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert client.get("/").status_code == 302


def test_repeated_wrong_codes_sign_the_admin_out(client, enrolled_admin):
    _password_only(client, enrolled_admin)
    for _ in range(5):
        client.post("/accounts/mfa/verify/", {"code": "000000"})
    response = client.get("/")
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/accounts/mfa/verify/").status_code == 302  # signed out altogether


def test_the_next_parameter_cannot_send_the_admin_elsewhere(client, enrolled_admin):
    _password_only(client, enrolled_admin)
    with time_machine.travel(timezone.now(), tick=False):
        response = client.post(
            "/accounts/mfa/verify/", {"code": totp.totp(SECRET), "next": "https://evil.example/"}
        )
    assert response["Location"] == "/"


def test_first_sign_in_enrols_then_never_shows_the_secret_again(admin_user):
    client = SignedInClient()
    assert (
        client.post("/accounts/login/", {"username": "admin", "password": TEST_PASSWORD}).status_code == 302
    )
    response = client.get("/admin/")
    assert response["Location"].startswith("/accounts/mfa/setup/")
    page = client.get(response["Location"]).content.decode()
    device = TOTPDevice.objects.get(user=admin_user)
    secret = device_secret(device)
    assert totp.to_base32(secret) in page
    assert "otpauth://totp/" in page
    assert totp.to_base32(secret) not in device.encrypted_secret  # stored encrypted

    with time_machine.travel(timezone.now(), tick=False):
        assert client.post("/accounts/mfa/setup/", {"code": totp.totp(secret)}).status_code == 302
    assert client.get("/admin/").status_code == 200
    again = client.get("/accounts/mfa/setup/")
    assert again.status_code == 302
    assert totp.to_base32(secret) not in again.content.decode()


def test_after_password_sign_in_an_enrolled_admin_must_give_a_code(enrolled_admin):
    client = SignedInClient()
    client.post("/accounts/login/", {"username": "admin", "password": TEST_PASSWORD})
    assert client.get("/")["Location"].startswith("/accounts/mfa/verify/")


def test_other_roles_need_no_code(client, trainer):
    client.force_login(trainer, mfa_verified=False)
    assert client.get("/").status_code == 200
    assert client.get("/accounts/mfa/verify/").status_code == 404


def test_demo_code_command_prints_the_current_code(enrolled_admin, capsys, settings):
    settings.DEBUG = True
    with time_machine.travel(dt.datetime(2030, 1, 1, tzinfo=dt.UTC), tick=False):
        call_command("totp_code", "admin")
        assert capsys.readouterr().out.strip() == totp.totp(SECRET)


def test_demo_code_command_refuses_in_production(enrolled_admin, settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("totp_code", "admin")
