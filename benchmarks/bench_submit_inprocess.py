"""In-process cost of one trainee submission: N form POSTs to /q/<token>/ through Django's test client.

No web server, no network: this isolates what the view, the services and the database do for one
submission (issue 7's target is 3,000 submissions in a minute on 2 cores). It reports the queries of
one GET and one POST once the version is frozen (the usual case; counted with CaptureQueriesContext),
and the wall time of the N POSTs and this process's CPU time for them (on SQLite that includes the
database's work; on PostgreSQL the server's is not included). On a loaded machine compare CPU
times: wall times vary with everything else running.

On a scratch SQLite file by default (created and deleted here), or on a scratch PostgreSQL database:

```
.venv/bin/python benchmarks/bench_submit_inprocess.py                 # SQLite, 200 POSTs
.venv/bin/python benchmarks/bench_submit_inprocess.py --n 500
.venv/bin/python benchmarks/bench_submit_inprocess.py --postgres      # creates and drops bench_submit
```

Not a unit test: timings depend on the machine and its load (the query counts do not).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = "postgres://postgres@127.0.0.1:5432"
PG_DB = "bench_submit"


def _admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def setup(n: int) -> tuple[list[str], dict[str, str]]:
    import django

    django.setup()
    from django.conf import settings
    from django.core import mail
    from django.core.management import call_command
    from django.utils import timezone

    from surveys import services
    from surveys.models import Instrument, ItemKind, Phase
    from tests.factories import AttendanceFactory, CourseFactory, StaffMemberFactory, TrainingSessionFactory

    call_command("migrate", verbosity=0)
    course = CourseFactory()
    start = timezone.now() - dt.timedelta(hours=3)
    session = TrainingSessionFactory(course=course, start=start, end=start + dt.timedelta(hours=2))
    for _ in range(n):
        AttendanceFactory(session=session, staff=StaffMemberFactory())
    administrations = services.administrations_attach(
        session=session,
        instrument=Instrument.objects.get(slug="cse-default"),
        by=course.owner,
        follow_up_offsets=[],
    )
    post = next(a for a in administrations if a.phase == Phase.POST)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    services.invitations_send(administration=post)
    tokens = [re.search(r"/q/([A-Za-z0-9_-]+)/", m.body).group(1) for m in mail.outbox]
    values = {}
    for item in services.items_for_phase(version=post.version, phase=post.phase):
        if item.kind in (ItemKind.SINGLE_CHOICE, ItemKind.TRUE_FALSE):
            values[item.code] = item.correct_answer
        elif item.kind == ItemKind.FREE_TEXT:
            values[item.code] = "Useful, thank you."
        elif item.options:
            values[item.code] = str(item.options[len(item.options) // 2]["value"])
    return tokens, values


def measure(tokens: list[str], values: dict[str, str]) -> dict:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from surveys.models import Response

    # The query log is a bounded deque that setup filled: start it afresh so slices line up.
    reset_queries()
    client = Client()
    # Warm up imports, templates and the connection; the first response also freezes the version.
    client.post(f"/q/{tokens[-1]}/", values)
    with CaptureQueriesContext(connection) as get_queries:
        assert client.get(f"/q/{tokens[0]}/").status_code == 200
    with CaptureQueriesContext(connection) as post_queries:
        page = client.post(f"/q/{tokens[0]}/", values)
        assert page.status_code == 200 and b"Answers sent" in page.content, page.content[:2000]
    # captured_queries slices the connection's bounded log when read: read them now.
    get_count, post_sql = len(get_queries), [q["sql"][:160] for q in post_queries.captured_queries]
    times = []
    started, cpu_started = time.perf_counter(), time.process_time()
    for token in tokens[1:-1]:
        t0 = time.perf_counter()
        client.post(f"/q/{token}/", values)
        times.append(time.perf_counter() - t0)
    total, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    stored = Response.objects.filter(submitted_at__isnull=False).count()
    return {
        "get_queries": get_count,
        "post_queries": len(post_sql),
        "post_sql": post_sql,
        "posts": len(times),
        "total_s": total,
        "cpu_s": cpu,
        "median_ms": 1000 * statistics.median(times),
        "p95_ms": 1000 * sorted(times)[int(0.95 * len(times)) - 1],
        "stored": stored,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="timed POSTs (default 200)")
    parser.add_argument("--postgres", action="store_true", help="use a scratch PostgreSQL database")
    parser.add_argument("--sql", action="store_true", help="print the POST's queries")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    scratch = None
    if args.postgres:
        _admin_sql(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        _admin_sql(f"CREATE DATABASE {PG_DB}")
        os.environ["DATABASE_URL"] = f"{PG}/{PG_DB}"
    else:
        handle, scratch = tempfile.mkstemp(suffix=".sqlite3")
        os.close(handle)
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}"
    try:
        tokens, values = setup(args.n + 2)
        result = measure(tokens, values)
    finally:
        from django.db import connections

        connections.close_all()
        if args.postgres:
            _admin_sql(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        elif scratch is not None:
            Path(scratch).unlink(missing_ok=True)
    if args.sql:
        for n, sql in enumerate(result["post_sql"], 1):
            print(f"{n:3} {sql}")
    print(
        f"database: {'postgresql' if args.postgres else 'sqlite'}\n"
        f"GET /q/<token>/ queries: {result['get_queries']}\n"
        f"POST /q/<token>/ queries: {result['post_queries']}\n"
        f"{result['posts']} POSTs: {result['total_s']:.2f} s wall, median {result['median_ms']:.1f} ms, "
        f"p95 {result['p95_ms']:.1f} ms ({result['posts'] / result['total_s']:.0f} per second); "
        f"this process's CPU {result['cpu_s']:.2f} s "
        f"({1000 * result['cpu_s'] / result['posts']:.1f} ms a POST)\n"
        f"responses stored: {result['stored']}"
    )


if __name__ == "__main__":
    main()
