"""Production settings have no default for their secrets: without one the service will not start.

Each case runs ``manage.py check`` in a fresh interpreter, because settings are read once at import.
The refusal happens while the settings module loads, before any app is set up, so each run takes a
fraction of a second.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRETS = ["DJANGO_SECRET_KEY", "CASE_REFERENCE_HASH_KEY", "SURVEY_PERSON_KEY_SECRET"]


def _production_env(**overrides: str | None) -> dict[str, str]:
    """A production environment with every secret set, then ``overrides`` (None removes one)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key not in SECRETS
    }
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        CASE_REFERENCE_HASH_KEY=secrets.token_urlsafe(50),
        SURVEY_PERSON_KEY_SECRET=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="closing-the-loop.example",
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("missing", SECRETS)
def test_production_refuses_to_start_without_a_secret(missing):
    result = _check(_production_env(**{missing: None}))

    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert f"The environment variable {missing} must be set" in result.stderr
    # It is this variable that was refused, not another one.
    for other in set(SECRETS) - {missing}:
        assert other not in result.stderr


@pytest.mark.parametrize("missing", SECRETS)
@pytest.mark.parametrize("blank", ["", "   "])
def test_production_refuses_a_blank_secret(missing, blank):
    result = _check(_production_env(**{missing: blank}))

    assert result.returncode != 0, result.stdout
    assert f"The environment variable {missing} must be set" in result.stderr


def test_development_needs_no_secrets():
    """The other half of the rule: without DJANGO_DEBUG=false the development keys apply. This run
    only loads the settings (no checks), so it stays as quick as the refusals."""
    env = _production_env(DJANGO_DEBUG=None, **dict.fromkeys(SECRETS))
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.DEBUG, bool(s.SECRET_KEY))"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]
