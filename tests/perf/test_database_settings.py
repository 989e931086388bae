"""Connection settings that the benchmarks showed matter for speed."""

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting"),
]


def test_postgresql_jit_is_off_for_the_applications_connections():
    """JIT compilation cost 1-3 s on a 70 ms scoped list query (BENCHMARKS.md); DATABASE_JIT=true
    turns it back on."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
