"""Multi-factor sign-in for administrators: a password, then a TOTP code from an authenticator.

Until the second step is passed in this session, an administrator is redirected to it from every
page (the Django admin included) and session-authenticated API calls answer 403. API tokens are
not affected: a token is issued only from the admin, behind this step, and is itself a long random
secret held by a script, not a password (see docs/security.md).

Secrets are encrypted with a key derived from SECRET_KEY (Fernet: AES-128-CBC and HMAC-SHA256);
SECRET_KEY_FALLBACKS still decrypt, so rotating the key does not lock administrators out.
"""

from __future__ import annotations

import base64
from urllib.parse import urlencode

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from training import lockout, totp
from training.models import TOTPDevice, User

SESSION_KEY = "mfa_verified_user"
_KEY_SALT = "closing-the-loop.totp-secret-encryption"


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [
            Fernet(
                base64.urlsafe_b64encode(salted_hmac(_KEY_SALT, "", secret=key, algorithm="sha256").digest())
            )
            for key in keys
        ]
    )


def _encrypt(secret: bytes) -> str:
    return _fernet().encrypt(secret).decode("ascii")


def device_secret(device: TOTPDevice) -> bytes:
    return _fernet().decrypt(device.encrypted_secret.encode("ascii"))


def mfa_required(user: User) -> bool:
    return user.is_authenticated and user.is_administrator


def mfa_verified(request: HttpRequest) -> bool:
    return request.session.get(SESSION_KEY) == request.user.pk


def mfa_mark_verified(session, user: User) -> None:
    """Records in the session that this user passed the second step. Login rotates the session
    key, and the stored user id stops a verification carrying over to another account."""
    session[SESSION_KEY] = user.pk


def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """A new unconfirmed authenticator, or the one whose enrolment is still unfinished."""
    device = TOTPDevice.objects.filter(user=user).first()
    if device is not None:
        if device.confirmed_at is not None:
            raise ValidationError("An authenticator is already set up for this account.")
        return device
    return TOTPDevice.objects.create(user=user, encrypted_secret=_encrypt(totp.new_secret()))


def totp_enrol_with_secret(*, user: User, secret: bytes) -> TOTPDevice:
    """Enrols a known secret, confirmed at once. Only the demo seed uses this (a published secret)."""
    device, _ = TOTPDevice.objects.update_or_create(
        user=user, defaults={"encrypted_secret": _encrypt(secret), "confirmed_at": timezone.now()}
    )
    return device


def totp_check(*, user: User, code: str, ip_address: str | None) -> None:
    """Checks a code against the user's authenticator and, for an unfinished enrolment, confirms
    it. A code is accepted once only. A wrong code counts as a failed sign-in, so guessing codes
    runs into the same lockout as guessing passwords."""
    if not _totp_accept(user=user, code=code):
        # Recorded outside _totp_accept's transaction, which a refusal must not roll back.
        lockout.sign_in_failure_record(username=user.get_username(), ip_address=ip_address)
        raise ValidationError("Enter the 6-digit code your authenticator app shows now.", code="invalid")


@transaction.atomic
def _totp_accept(*, user: User, code: str) -> bool:
    # Locking the row makes two simultaneous uses of one code accept it only once.
    device = TOTPDevice.objects.select_for_update().filter(user=user).first()
    if device is None:
        raise ValidationError("Set up an authenticator first.")
    step = totp.matching_step(device_secret(device), code)
    if step is None or step <= device.last_used_step:
        return False
    device.last_used_step = step
    if device.confirmed_at is None:
        device.confirmed_at = timezone.now()
    device.save(update_fields=["last_used_step", "confirmed_at"])
    return True


def totp_reset(*, user: User) -> None:
    """For an administrator who lost their phone: they enrol again at their next sign-in."""
    TOTPDevice.objects.filter(user=user).delete()


# Paths an administrator can open before the second step: the step itself and signing out.
_EXEMPT_URL_NAMES = ("mfa-verify", "mfa-setup", "logout")


class AdministratorMFAMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not mfa_required(user) or mfa_verified(request):
            return self.get_response(request)
        if lockout.sign_in_locked(username=user.get_username(), ip_address=None):
            # Too many wrong codes: end the half-signed-in session altogether.
            logout(request)
            return redirect(f"{reverse('login')}?{urlencode({'locked': 1})}")
        if request.path in {reverse(name) for name in _EXEMPT_URL_NAMES} or request.path.startswith(
            settings.STATIC_URL
        ):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": "Administrators must finish signing in with their authenticator code first."},
                status=403,
            )
        step = (
            "mfa-verify"
            if TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()
            else "mfa-setup"
        )
        return redirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
