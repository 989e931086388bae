"""Identical questionnaire submissions arriving at the same moment store exactly one response.

A trainee double-clicks, or their browser retries while the API client of a kiosk sends the same
answers: several requests with one link's token reach the server together. A barrier releases the
threads at once, each with its own database connection, half through the questionnaire page and
half through the API, so the requests really overlap rather than queue one after another. Needs
PostgreSQL: SQLite serialises writers, which would hide a race instead of exercising it.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import Client
from rest_framework.test import APIClient

from surveys.models import Answer, Invitation, Response
from tests.security.world import build_world
from training.models import AccessAction, AccessLog

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL for real concurrency"),
    # Committed data, so the threads' own connections see the world; the migrations' rows are put
    # back afterwards.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

THREADS = 6


def test_simultaneous_identical_submissions_store_exactly_one_response():
    from tests.surveys.conftest import answers_for

    world = build_world()
    answers = answers_for(world.administration)
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(through_the_page: bool) -> None:
        try:
            client = Client() if through_the_page else APIClient()
            barrier.wait(timeout=30)
            if through_the_page:
                response = client.post(f"/q/{world.token}/", answers)
                stored = response.status_code == 200 and b"Answers sent" in response.content
            else:
                response = client.post(
                    "/api/v1/responses/", {"token": world.token, "answers": answers}, format="json"
                )
                stored = response.status_code == 201
                assert response.status_code in (201, 409), response.content
            with lock:
                outcomes.append("stored" if stored else f"refused {response.status_code}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(n % 2 == 0,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == THREADS, f"a thread failed or hung: {outcomes}"
    assert outcomes.count("stored") == 1, outcomes

    invitation = Invitation.objects.get(administration=world.administration)
    [response] = Response.objects.filter(invitation=invitation)
    assert Answer.objects.filter(response=response).count() == len(answers)
    assert AccessLog.objects.filter(action=AccessAction.SUBMIT).count() == 1
