"""p95 latency and query count of every /api/v1/ list endpoint, on a database loaded at la scale.

Run against a database already loaded with ``seed_demo --scale la``, chosen by ``DATABASE_URL`` as
for the product (see ``benchmarks/README.md``). For each list endpoint and each demo user who may
read it, it requests the first page (the default page size, 50) through the whole Django stack
in-process (middleware, token authentication, DRF, serialisation, the access log where the
endpoint keeps one) ``--repeats`` times after one warm-up, and reports p50, p95 and max latency, the
number of SQL queries of one request and the number of rows the endpoint has in that user's scope.
A second figure per endpoint, queries for a page of 200 (``page_size=200``), shows that the query
count does not grow with the page: no N+1.

In-process means no HTTP parsing or network: the latency is the application's, and a gunicorn
worker adds about a millisecond on loopback. Prints a Markdown table; ``--json FILE`` writes the raw
figures. Not a unit test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

ENDPOINTS = [
    "organisations",
    "teams",
    "staff",
    "courses",
    "sessions",
    "attendance",
    "instruments",
    "administrations",
    "referrals",
    "audits",
    "rubrics",
    "audit-schedule",
]
# The demo sign-ins: admin sees everything, lead a partnership, manager one team, trainer their courses.
USERS = ["admin", "lead", "manager", "trainer"]


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def measure(*, username: str, endpoint: str, repeats: int) -> dict | None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from training.models import User

    user = User.objects.get(username=username)
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    url = f"/api/v1/{endpoint}/"
    first = client.get(url)
    if first.status_code in (403, 404):
        return None  # this role may not read the endpoint at all
    if first.status_code != 200:
        raise SystemExit(f"{username} {url}: HTTP {first.status_code}")
    body = first.json()
    count = body.get("count", len(body)) if isinstance(body, dict) else len(body)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as page:
        client.get(url)
    with CaptureQueriesContext(connection) as big_page:
        client.get(url, {"page_size": 200})
    return {
        "user": username,
        "endpoint": endpoint,
        "rows_in_scope": count,
        "p50_ms": 1000 * statistics.median(times),
        "p95_ms": 1000 * _percentile(times, 95),
        "max_ms": 1000 * max(times),
        "queries": len(page),
        "queries_page_200": len(big_page),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=40, help="timed requests per endpoint and user")
    parser.add_argument("--users", default=",".join(USERS))
    parser.add_argument("--json", help="also write the raw figures to this file")
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="skip ANALYZE before measuring (done by default: a freshly seeded database has no planner "
        "statistics until autovacuum gets to it, and this server runs with autovacuum off)",
    )
    parser.add_argument(
        "--jit",
        choices=["server", "off"],
        default="server",
        help="PostgreSQL JIT: the server's setting (default), or off for this connection",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    # The in-process test client is not a browser on an allowed host.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if not args.no_analyze:
                cursor.execute("ANALYZE")
            if args.jit == "off":
                # The in-process client shares this connection, so the setting holds for every request.
                cursor.execute("SET jit = off")
            cursor.execute("SHOW jit")
            jit = cursor.fetchone()[0]
    else:
        jit = "n/a"
    with open("/proc/loadavg") as f:
        load_before = " ".join(f.read().split()[:3])
    rows = []
    for username in args.users.split(","):
        for endpoint in ENDPOINTS:
            result = measure(username=username, endpoint=endpoint, repeats=args.repeats)
            if result:
                rows.append(result)
                print(
                    f"  {username:8} {endpoint:16} p95 {result['p95_ms']:7.1f} ms  "
                    f"{result['queries']} queries",
                    file=sys.stderr,
                    flush=True,
                )
    with open("/proc/loadavg") as f:
        load_after = " ".join(f.read().split()[:3])
    print(
        f"\nDatabase: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} "
        f"{settings.DATABASES['default']['NAME']}; {args.repeats} timed requests each after a warm-up; "
        f"PostgreSQL jit {jit}; load average before {load_before}, after {load_after}\n"
    )
    print(
        "| Endpoint | As | Rows in scope | p50 ms | p95 ms | Max ms | Queries (page of 50) | Queries (200) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| /api/v1/{r['endpoint']}/ | {r['user']} | {r['rows_in_scope']:,} | {r['p50_ms']:.1f} | "
            f"{r['p95_ms']:.1f} | {r['max_ms']:.1f} | {r['queries']} | {r['queries_page_200']} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "load": [load_before, load_after]}, indent=2))


if __name__ == "__main__":
    main()
