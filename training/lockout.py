"""Sign-in lockout: after too many failed sign-ins for a username, or from an address, within the
window, sign-in is refused until the failures age out of the window. Failures live in the
database (SignInFailure) so that every app server counts the same attempts.

The same message is given whether or not the username exists, and unknown usernames lock too.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from training.models import SignInFailure


def locked_message() -> str:
    minutes = max(1, settings.LOGIN_LOCKOUT_WINDOW_SECONDS // 60)
    return (
        f"Too many failed attempts to sign in. Wait {minutes} minutes and try again, or ask an administrator."
    )


def _window_start() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.LOGIN_LOCKOUT_WINDOW_SECONDS)


def _normalise(username: str) -> str:
    return username.strip().lower()[:150]


def sign_in_locked(*, username: str, ip_address: str | None) -> bool:
    recent = SignInFailure.objects.filter(at__gte=_window_start())
    if recent.filter(username=_normalise(username)).count() >= settings.LOGIN_LOCKOUT_USERNAME_FAILURES:
        return True
    return bool(
        ip_address and recent.filter(ip_address=ip_address).count() >= settings.LOGIN_LOCKOUT_IP_FAILURES
    )


def sign_in_failure_record(*, username: str, ip_address: str | None) -> None:
    SignInFailure.objects.create(
        username=_normalise(username), ip_address=ip_address or None, at=timezone.now()
    )


def sign_in_success_record(*, username: str) -> None:
    """A correct password clears that username's failures (not the address's: an attacker's
    own account must not reset the count for the address they are guessing from)."""
    SignInFailure.objects.filter(username=_normalise(username)).delete()


def sign_in_failures_purge(*, now: dt.datetime, dry_run: bool) -> int:
    """Failures older than the window no longer count; keep a day of them for investigation."""
    expired = SignInFailure.objects.filter(at__lt=now - dt.timedelta(days=1))
    count = expired.count()
    if not dry_run:
        expired.delete()
    return count
