"""Sign-in lockout after repeated failures, counted in the database and lifted by time."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed attempts to sign in"


def _sign_in(client, username, password, ip="192.0.2.10"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def _fail(client, username, times, ip="192.0.2.10"):
    for _ in range(times):
        response = _sign_in(client, username, "wrong password", ip)
        assert response.status_code == 200


def test_five_failures_lock_the_username_even_for_the_right_password(client, trainer):
    _fail(client, "trainer", 5)
    response = _sign_in(client, "trainer", TEST_PASSWORD)
    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert client.get("/").status_code == 302  # not signed in


def test_four_failures_do_not_lock(client, trainer):
    _fail(client, "trainer", 4)
    assert _sign_in(client, "trainer", TEST_PASSWORD).status_code == 302


def test_the_lock_lifts_when_the_window_has_passed(client, trainer):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _fail(client, "trainer", 5)
    with time_machine.travel(start + dt.timedelta(minutes=14), tick=False):
        assert LOCKED in _sign_in(client, "trainer", TEST_PASSWORD).content.decode()
    with time_machine.travel(start + dt.timedelta(minutes=16), tick=False):
        assert _sign_in(client, "trainer", TEST_PASSWORD).status_code == 302


def test_another_username_is_not_affected(client, trainer, manager):
    _fail(client, "trainer", 5)
    assert _sign_in(client, "manager", TEST_PASSWORD).status_code == 302


def test_an_unknown_username_locks_with_the_same_message(client):
    """The message is the same whether or not the account exists, so it reveals nothing."""
    _fail(client, "nobody-by-this-name", 5)
    body = _sign_in(client, "nobody-by-this-name", "anything").content.decode()
    assert LOCKED in body


def test_one_address_guessing_many_usernames_is_locked(client, trainer, settings):
    for n in range(settings.LOGIN_LOCKOUT_IP_FAILURES):
        _fail(client, f"guess{n}", 1, ip="198.51.100.7")
    assert LOCKED in _sign_in(client, "trainer", TEST_PASSWORD, ip="198.51.100.7").content.decode()
    assert _sign_in(client, "trainer", TEST_PASSWORD, ip="203.0.113.5").status_code == 302


def test_a_successful_sign_in_clears_that_usernames_failures(client, trainer):
    _fail(client, "trainer", 4)
    assert _sign_in(client, "trainer", TEST_PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    _fail(client, "trainer", 4)
    assert _sign_in(client, "trainer", TEST_PASSWORD).status_code == 302


def test_the_admin_sign_in_page_locks_too(client, admin_user):
    for _ in range(5):
        client.post("/admin/login/", {"username": "admin", "password": "wrong"})
    response = client.post("/admin/login/?next=/admin/", {"username": "admin", "password": TEST_PASSWORD})
    assert LOCKED in response.content.decode()
