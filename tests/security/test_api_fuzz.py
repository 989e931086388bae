"""API fuzzing with schemathesis: every operation in the OpenAPI schema, called with examples
generated from the schema, as an administrator (whose token passes the authenticator step, see
docs/security.md) and as a workforce lead, against the small world of the authorization matrix.

Checks: no server error (5xx), and every response matches the schema documented for its status.
Bounded: ``MAX_EXAMPLES`` per operation and role, so the whole file runs in the normal suite in
about two minutes.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.security.world import build_world

MAX_EXAMPLES = 10  # per operation and role: about 1,000 calls in all
CHECKS = [not_a_server_error, response_schema_conformance]


def _schema():
    """Built by drf-spectacular's generator, the same document /api/schema/ serves (which needs a
    signed-in caller), and called in-process through Django's WSGI application."""
    from drf_spectacular.generators import SchemaGenerator

    # Only generated examples, bounded by max_examples: the coverage phase adds hundreds of
    # boundary cases per operation, which would take the run far past two minutes.
    config = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}})
    raw = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(raw, config=config)
    loaded.app = get_wsgi_application()
    return loaded


# Not schemathesis.pytest.from_fixture: its lazy loading sets Function._nodeid, which pytest 9
# no longer has. Building the schema at collection needs only Django's settings.
schema = _schema()


@pytest.fixture
def tokens(db):
    world = build_world()
    # Django closes the database connection at the end of each request it serves; its test client
    # stops that so a test's transaction survives, and schemathesis calls the WSGI application
    # directly, so do the same here (on PostgreSQL the next request would find it closed).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield {role: Token.objects.create(user=world.users[role]).key for role in ("admin", "lead")}
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _settings(examples: int):
    # derandomize: the same examples every run, so CI is repeatable; a failure is reproducible.
    return settings(
        max_examples=examples, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )


def _call(case, token: str) -> None:
    headers = {"Authorization": f"Token {token}"}
    # The token from a questionnaire link authorises this one operation and is sent in the body.
    if case.path == "/api/v1/responses/" and case.method == "POST":
        headers = {}
    case.call_and_validate(headers=headers, checks=CHECKS)


@pytest.mark.django_db
@schema.parametrize()
@_settings(MAX_EXAMPLES)
def test_api_as_an_administrator(case, tokens):
    _call(case, tokens["admin"])


@pytest.mark.django_db
@schema.parametrize()
@_settings(MAX_EXAMPLES)
def test_api_as_a_workforce_lead(case, tokens):
    _call(case, tokens["lead"])


def test_an_offset_postgresql_cannot_store_is_not_a_server_error(tokens):
    """Found by the fuzzing above: an ISO 8601 offset beyond PostgreSQL's ±15:59 was a 500."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens['lead']}")
    response = client.get("/api/v1/sessions/", {"start__lte": "0385-08-25T11:24:26+18:09"})
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert client.get("/api/v1/sessions/", {"start__gte": "0001-01-01T00:00:00+15:00"}).status_code == 400
