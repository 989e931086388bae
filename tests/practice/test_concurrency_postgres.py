"""Two people save the same audit at the same moment on PostgreSQL: exactly one wins."""

import threading

import pytest
from django.db import connection, connections

from practice import services
from practice.models import Audit
from surveys.models import Answer

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL for real concurrency"),
    pytest.mark.django_db(transaction=True),
]


def test_two_concurrent_saves_of_one_revision_exactly_one_wins(our_referral, manager, co_manager):
    audit = services.audit_start(referral=our_referral, by=manager)
    barrier = threading.Barrier(2)
    outcomes = {}

    def save(user, grade):
        try:
            loaded = Audit.objects.get(pk=audit.pk)
            barrier.wait()
            services.audit_save(
                audit=loaded,
                by=user,
                grades={"timely": grade},
                evidence={},
                revision=loaded.revision,
                submit=False,
            )
            outcomes[user.username] = "saved"
        except services.StaleEditError:
            outcomes[user.username] = "stale"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=args) for args in ((manager, "1"), (co_manager, "4"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["saved", "stale"]
    winner = "1" if outcomes[manager.username] == "saved" else "4"
    assert list(Answer.objects.filter(response=audit.response).values_list("value", flat=True)) == [winner]
    assert Audit.objects.get(pk=audit.pk).revision == 2
