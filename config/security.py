"""Response headers that Django 5.2 does not set itself: a Content-Security-Policy, and
``Cache-Control: no-store`` on anything personal, so a shared office computer's browser cache or
a proxy never keeps a page about staff, audits or questionnaire answers.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


def content_security_policy() -> str:
    return "; ".join(f"{name} {value}".strip() for name, value in settings.CONTENT_SECURITY_POLICY.items())


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address. Behind ``TRUSTED_PROXY_COUNT`` reverse proxies the address is read
    from X-Forwarded-For, counting from the right: entries further left are set by the caller and
    could be forged to dodge the sign-in lockout."""
    address = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class SecurityHeadersMiddleware:
    """Adds the CSP to every response, and no-store to responses for a signed-in user and to the
    paths in ``NO_STORE_PATH_PREFIXES`` (the trainee's questionnaire links need no sign-in but
    show their answers)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = content_security_policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.policy)
        # DRF's token authentication sets request.user during the view, so API callers count too.
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in or request.path.startswith(tuple(settings.NO_STORE_PATH_PREFIXES)):
            add_never_cache_headers(response)
        return response
