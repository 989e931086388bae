"""CSV import of 100,000 past referrals and then 100,000 past audits: time and peak memory.

Issue 7 asks for the import of 100,000 audit rows. An audit names a referral, and a referral can have
only one first audit, so the benchmark first imports 100,000 referrals (itself a realistic file: two
years of a large authority's front door) and then one audit of each, graded on the default rubric's
11 criteria, split between the demo's two managers.

On a scratch database that it creates and drops (PostgreSQL ``--db``, default ``bench_import``, or
``--sqlite PATH``): ``migrate``, ``seed_demo`` (demo scale, for the people, the rubric and the sign-ins),
then the two CSV files are written to a temporary directory and each is imported by
``practice.imports`` as the demo workforce lead, in a fresh subprocess so that its peak resident
memory (``ru_maxrss``) is the import's own. Each import runs with every check the upload page runs
(all-or-nothing, every error by row and column); the benchmark verifies the rows were stored.

Prints a Markdown table; ``--json FILE`` writes the raw figures. Not a unit test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = "postgres://postgres@127.0.0.1:5432"
ROWS = 100_000
IMPORTER = "lead"  # the demo workforce lead sees the whole partnership's staff and referrals
AUDITORS = ("manager", "manager2")


def _admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def setup(*, rows: int, folder: Path) -> None:
    _django()
    from django.core.management import call_command

    from training.models import StaffMember, User

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    lead = User.objects.get(username=IMPORTER)
    emails = list(StaffMember.objects.for_user(lead).values_list("work_email", flat=True))
    rng = random.Random(7)
    today = dt.date.today()
    lines = [
        "work_email,made_on,case_reference,route,concerns,outcome,outcome_on,exploitation_flag,local_label"
    ]
    for n in range(rows):
        made_on = today - dt.timedelta(days=rng.randint(60, 760))
        concerns = "; ".join(
            rng.sample(["neglect", "domestic_abuse", "cse", "physical_abuse"], rng.randint(1, 2))
        )
        outcome = rng.choice(["accepted", "nfa", "early_help"])
        route = rng.choice(["police", "front_door", "school"])
        outcome_on = made_on + dt.timedelta(days=rng.randint(0, 10))
        lines.append(
            f"{rng.choice(emails)},{made_on:%Y-%m-%d},BX{n:07d},{route},{concerns},{outcome},"
            f"{outcome_on:%d/%m/%Y},,"
        )
    (folder / "referrals.csv").write_text("\n".join(lines) + "\n")


def write_audits(*, folder: Path, rows: int) -> int:
    """Needs the referrals' ids, so it runs after the referral import."""
    _django()
    from practice.models import Referral
    from practice.services import rubric_current

    codes = list(rubric_current().items.order_by("position").values_list("code", flat=True))
    rng = random.Random(8)
    lines = ["referral_id,auditor,audit_date,second," + ",".join(codes)]
    # The referral import was the last thing written, so its rows are the newest ids.
    newest = Referral.objects.order_by("-pk").values_list("pk", flat=True)[:rows]
    imported = Referral.objects.filter(pk__in=list(newest)).order_by("pk")
    count = 0
    for pk, made_on in imported.values_list("pk", "made_on").iterator():
        audit_date = min(made_on + dt.timedelta(days=rng.randint(20, 50)), dt.date.today())
        grades = ",".join(str(rng.choice("1234")) for _ in codes)
        lines.append(f"{pk},{AUDITORS[count % 2]},{audit_date:%Y-%m-%d},no,{grades}")
        count += 1
    (folder / "audits.csv").write_text("\n".join(lines) + "\n")
    return count


def child(kind: str, path: str) -> None:
    """One import in this process; prints its figures as JSON on the last line."""
    _django()
    from practice.imports import audit_import, referral_import
    from training.models import User

    by = User.objects.get(username=IMPORTER)
    data = Path(path).read_bytes()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = (audit_import if kind == "audits" else referral_import)(data=data, by=by)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "kind": kind,
                "seconds": seconds,
                "created": result.created,
                "errors": [str(e) for e in result.errors[:5]],
                "n_errors": len(result.errors),
                "bytes": len(data),
                "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "rss_before_mib": rss_before / 1024,
            }
        )
    )


def run_child(kind: str, path: Path, env: dict) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="bench_import", help="scratch PostgreSQL database (created, dropped)")
    parser.add_argument("--sqlite", help="use a scratch SQLite file at this path instead of PostgreSQL")
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    parser.add_argument("--json", help="also write the raw figures to this file")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    if args.sqlite:
        database_url = f"sqlite:///{Path(args.sqlite).resolve()}"
        Path(args.sqlite).unlink(missing_ok=True)
    else:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.db) or args.db in {"test", "postgres"}:
            raise SystemExit(f"Refusing to use {args.db!r} as a scratch database.")
        database_url = f"{PG}/{args.db}"
        _admin_sql(f"DROP DATABASE IF EXISTS {args.db} WITH (FORCE)")
        _admin_sql(f"CREATE DATABASE {args.db}")
    os.environ["DATABASE_URL"] = database_url
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with open("/proc/loadavg") as f:
        load_before = " ".join(f.read().split()[:3])
    try:
        with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
            folder = Path(tmp)
            setup(rows=args.rows, folder=folder)
            from django.db import connections

            connections.close_all()
            referrals = run_child("referrals", folder / "referrals.csv", env)
            print(f"referrals: {referrals}", file=sys.stderr, flush=True)
            written = write_audits(folder=folder, rows=args.rows)
            connections.close_all()
            audits = run_child("audits", folder / "audits.csv", env)
            print(f"audits: {audits}", file=sys.stderr, flush=True)
            from practice.models import Audit, Referral

            stored = {"referrals": Referral.objects.count(), "audits": Audit.objects.count()}
            connections.close_all()
    finally:
        if not args.sqlite and not args.keep:
            _admin_sql(f"DROP DATABASE IF EXISTS {args.db} WITH (FORCE)")
        elif args.sqlite and not args.keep:
            Path(args.sqlite).unlink(missing_ok=True)
    with open("/proc/loadavg") as f:
        load_after = " ".join(f.read().split()[:3])
    engine = "SQLite" if args.sqlite else "PostgreSQL"
    print(f"\n{engine}; load average before {load_before}, after {load_after}\n")
    print("| Import | Rows | File MiB | Seconds | Rows/s | Created | Errors | Max RSS MiB (before) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r, rows in ((referrals, args.rows), (audits, written)):
        print(
            f"| {r['kind']} ({engine}) | {rows:,} | {r['bytes'] / 2**20:.1f} | {r['seconds']:.1f} | "
            f"{rows / r['seconds']:,.0f} | {r['created']:,} | {r['n_errors']} | "
            f"{r['max_rss_mib']:.0f} ({r['rss_before_mib']:.0f}) |"
        )
    print(f"\nStored after both imports (demo data included): {stored}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "referrals": referrals,
                    "audits": audits,
                    "stored": stored,
                    "load": [load_before, load_after],
                }
            )
        )


if __name__ == "__main__":
    main()
