"""Response headers: the Content-Security-Policy, no-store caching, and production settings."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _production_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        CASE_REFERENCE_HASH_KEY=secrets.token_urlsafe(50),
        SURVEY_PERSON_KEY_SECRET=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="closing-the-loop.example",
    )
    return env


def test_pages_carry_a_strict_content_security_policy(client, trainer):
    client.force_login(trainer)
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_rendered_pages_have_no_inline_script_or_style(client, trainer):
    """Under the CSP an inline script would silently not run; every script must be a file."""
    client.force_login(trainer)
    for url in ["/", "/accounts/login/"]:
        body = client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), url
        assert "<style" not in body
        assert " style=" not in body


def test_sign_in_page_has_the_policy_too(client):
    assert "default-src 'self'" in client.get("/accounts/login/")["Content-Security-Policy"]


def test_signed_in_pages_are_never_cached(client, trainer):
    client.force_login(trainer)
    cache_control = client.get("/").headers["Cache-Control"]
    assert "no-store" in cache_control
    assert "private" in cache_control


def test_api_responses_to_a_token_are_never_cached(api, trainer):
    from rest_framework.authtoken.models import Token

    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=trainer).key}")
    assert "no-store" in api.get("/api/v1/courses/").headers["Cache-Control"]


def test_trainee_questionnaire_links_are_never_cached_without_sign_in(client):
    # Even a link that does not exist: the header depends on the path, not on the view.
    assert "no-store" in client.get("/q/not-a-real-token/").headers["Cache-Control"]


@pytest.fixture
def static_served(settings):
    # Tests run with DEBUG off and nothing collected; let whitenoise find static files in place.
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True


def test_static_files_stay_cacheable_for_signed_in_users(static_served, client, trainer):
    client.force_login(trainer)
    response = client.get("/static/build/init.js")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_api_docs_load_swagger_ui_from_our_own_static_files(static_served, client, trainer):
    client.force_login(trainer)
    response = client.get("/api/docs/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "cdn" not in body.lower()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body)
    assert "<style" not in body
    assets = re.findall(r'(?:src|href)="([^"]+)"', body)
    assert any("swagger-ui-bundle.js" in url for url in assets)
    # Every asset, including the split view's start-up script, comes from this server.
    for url in assets:
        assert url.startswith("/"), url
        assert client.get(url.replace("&amp;", "&")).status_code == 200, url


def test_production_settings_secure_cookies_hsts_and_https():
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_HTTPONLY, s.DEBUG]))"
    )
    env = _production_env() | {"DJANGO_SETTINGS_MODULE": "config.settings"}
    out = subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    session_secure, csrf_secure, hsts, subdomains, ssl_redirect, httponly, debug = json.loads(out.stdout)
    assert session_secure and csrf_secure and httponly and ssl_redirect and subdomains
    assert hsts >= 31536000
    assert debug is False


def test_hsts_header_is_sent_over_https(client, settings, trainer):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    assert "max-age=31536000" in client.get("/accounts/login/", secure=True)["Strict-Transport-Security"]


def test_check_deploy_passes_with_the_production_environment():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
