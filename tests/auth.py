"""Signing in for tests."""

from django.test import Client

from training.mfa import mfa_mark_verified, mfa_required


class SignedInClient(Client):
    """force_login signs in completely: an administrator's session is also marked as having
    passed the authenticator step, which tests of other features need not repeat. Tests of the
    step itself pass ``mfa_verified=False``."""

    def force_login(self, user, backend=None, *, mfa_verified=True):
        super().force_login(user, backend)
        if mfa_verified and mfa_required(user):
            session = self.session
            mfa_mark_verified(session, user)
            session.save()
