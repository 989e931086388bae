"""Signed-in sessions end after the idle timeout."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_an_idle_session_expires_and_activity_keeps_it_alive(client, trainer, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(trainer)
        assert client.get("/").status_code == 200
    idle = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    with time_machine.travel(start + idle - dt.timedelta(minutes=1), tick=False):
        assert client.get("/").status_code == 200  # still active, and the request renews it
    with time_machine.travel(start + 2 * idle - dt.timedelta(minutes=2), tick=False):
        assert client.get("/").status_code == 200
    with time_machine.travel(start + 3 * idle, tick=False):
        response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
