"""Benchmark the whole-organisation impact report, side by side with an analyst's hand-written script.

Run against a database already loaded with ``seed_demo --scale la`` (or ``national``), chosen by
``DATABASE_URL`` as for the product (see ``benchmarks/README.md``). For each user (the demo ``lead``,
who sees the Northbridge partnership, and ``admin``, who sees everything) it measures:

- cold: the cache cleared, then ``impact_report_get`` (data stamp, frames, statistics, and for the
  page the charts drawn); median of ``--repeats`` runs, with the split between reading the
  database (frames), the statistics and drawing the charts. "Cold data" is the same call without
  drawing, as the JSON API and the CSV and spreadsheet downloads make it;
- cached: the same call again, served from the cache (median of ``--repeats`` runs);
- queries: the number of SQL queries of each (counted with the frames read on one connection);
- peak memory: one cold report in a fresh subprocess, reporting ``tracemalloc``'s peak of Python
  allocations and the process's maximum resident set size.

In the same run and on the same database, taking turns with each cold page and cold data run (so
that the machine's load drifts over both alike), the script an analyst would write by hand: a SQL
export (``pandas.read_sql``), pandas, ``scipy.stats.ttest_rel`` for each construct's pre/post
change and ``statsmodels`` for a two-group difference-in-differences (clustered by person) and a
two-way fixed-effects regression on the audit scores. The ratio of the product's cold time (admin:
the same data) to the hand script's is the figure issue 7 asks for (target: no more than 1.5); it
is printed for the page (with charts) and for the data alone (no drawing, as the API).

Prints Markdown tables; ``--json FILE`` also writes the raw figures. Not a unit test.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _setup():
    import django

    django.setup()


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# The product ---------------------------------------------------------------------------------------


def product_once(username: str, *, cold: bool, charts: bool = True) -> dict:
    """One call of ``impact_report_get`` as the product makes it: ``charts`` for the page and the
    PDF, without for the JSON API and the CSV and spreadsheet downloads (their charts undrawn)."""
    from django.core.cache import cache

    from analysis import reports
    from analysis.frames import Selection, build_frames
    from analysis.impact import build_report
    from training.models import User

    user = User.objects.get(username=username)
    if cold:
        cache.clear()
    # Split the cold time into database reads (frames), statistics and drawing the charts by timing
    # the parts the way impact_report_get calls them; the total is the real call.
    split = {}
    if cold:
        t0 = time.perf_counter()
        frames = build_frames(user=user, selection=Selection())
        t1 = time.perf_counter()
        report = build_report(frames, title="t", scope="s", generated_at=None)
        t2 = time.perf_counter()
        report.draw_charts()
        t3 = time.perf_counter()
        split = {"frames_s": t1 - t0, "statistics_s": t2 - t1, "charts_s": t3 - t2}
        cache.clear()
    t0 = time.perf_counter()
    reports.impact_report_get(user=user, selection=Selection(), charts=charts)
    return {"seconds": time.perf_counter() - t0, **split}


def product_queries(username: str, *, cold: bool) -> int:
    """Queries of one call, counted with the frames read on one connection (the second reader's
    connection is not the one ``CaptureQueriesContext`` watches)."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analysis import frames, reports
    from analysis.frames import Selection
    from training.models import User

    user = User.objects.get(username=username)
    if cold:
        cache.clear()
    readers, frames.FRAME_READERS = frames.FRAME_READERS, 1
    try:
        with CaptureQueriesContext(connection) as queries:
            reports.impact_report_get(user=user, selection=Selection())
    finally:
        frames.FRAME_READERS = readers
    return len(queries)


def _peak_rss_mib() -> float:
    """This process's peak resident set size. Read from /proc (VmHWM) where there is one: Linux
    carries ``ru_maxrss`` over from the parent through fork and exec, so a child started by a parent
    that had held 4 GB reported 4 GB before it had done anything."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def product_memory(username: str) -> dict:
    """One cold report in this (fresh) process: traced peak and max RSS."""
    from django.core.cache import cache

    from analysis.frames import Selection
    from analysis.reports import impact_report_get
    from training.models import User

    user = User.objects.get(username=username)
    cache.clear()
    rss_before = _peak_rss_mib()
    tracemalloc.start()
    impact_report_get(user=user, selection=Selection())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "traced_peak_mib": peak / 2**20,
        "maxrss_mib": _peak_rss_mib(),
        "maxrss_before_mib": rss_before,
    }


# The analyst's hand script ------------------------------------------------------------------------

SCORES_SQL = """
SELECT i.staff_id AS person, a.phase AS phase, a.offset_days AS offset_days, sc.construct AS construct,
       ss.score AS score
FROM surveys_scalescore ss
JOIN surveys_scale sc ON sc.id = ss.scale_id
JOIN surveys_response r ON r.id = ss.response_id
JOIN surveys_invitation i ON i.id = r.invitation_id
JOIN surveys_administration a ON a.id = i.administration_id
WHERE r.submitted_at IS NOT NULL AND ss.score IS NOT NULL AND i.staff_id IS NOT NULL
"""
AUDITS_SQL = """
SELECT au.id AS audit, rf.staff_id AS staff, rf.made_on AS made_on, au.score_0_100 AS score
FROM practice_audit au
JOIN practice_referral rf ON rf.id = au.referral_id
WHERE au.status = 'submitted' AND au.is_second = {false}
"""
TRAINED_SQL = """
SELECT at.staff_id AS staff, MIN(s.start) AS first_trained
FROM training_attendance at
JOIN training_trainingsession s ON s.id = at.session_id
JOIN training_course c ON c.id = s.course_id
WHERE at.status IN ('attended', 'partial') AND c.slug = 'cse-recognise-respond-refer'
GROUP BY at.staff_id
"""


def _connection():
    """A plain DB-API connection, as an analyst would open one (not Django's)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        import sqlite3

        return sqlite3.connect(db["NAME"]), "0"
    import psycopg

    return psycopg.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432, password=db["PASSWORD"]
    ), "false"


def hand_script() -> dict:
    import warnings

    import numpy as np
    import pandas as pd
    import statsmodels.formula.api as smf
    from scipy import stats

    warnings.filterwarnings("ignore")  # pandas warns about non-SQLAlchemy connections
    t0 = time.perf_counter()
    conn, false = _connection()
    scores = pd.read_sql(SCORES_SQL, conn)
    audits = pd.read_sql(AUDITS_SQL.format(false=false), conn)
    trained = pd.read_sql(TRAINED_SQL, conn)
    conn.close()
    t_export = time.perf_counter()

    # Paired t-test of each construct, pre vs post, for people who answered both.
    results = {}
    wide = scores[scores.phase.isin(["pre", "post"])].pivot_table(
        index=["person", "construct"], columns="phase", values="score", aggfunc="mean"
    )
    for construct, group in wide.dropna().groupby(level="construct"):
        t = stats.ttest_rel(group["post"], group["pre"])
        results[f"paired_t_{construct}"] = (
            float((group["post"] - group["pre"]).mean()),
            float(t.pvalue),
            len(group),
        )

    # Difference-in-differences on audit scores: ever-trained vs never-trained, before vs after.
    audits["made_on"] = pd.to_datetime(audits["made_on"])
    trained["first_trained"] = (
        pd.to_datetime(trained["first_trained"], utc=True).dt.tz_localize(None).dt.normalize()
    )
    panel = audits.merge(trained, on="staff", how="left")
    panel["treated"] = panel["first_trained"].notna().astype(int)
    # Never-trained people get the median training date as their "after" cut-off (two-group DiD).
    cutoff = panel["first_trained"].fillna(trained["first_trained"].median())
    panel["post"] = (panel["made_on"] >= cutoff).astype(int)
    did = smf.ols("score ~ treated * post", data=panel).fit(
        cov_type="cluster", cov_kwds={"groups": panel["staff"]}
    )
    results["did_two_group"] = (float(did.params["treated:post"]), float(did.bse["treated:post"]))

    # Two-way fixed effects (person and quarter), person effects absorbed by demeaning (FWL).
    panel["quarter"] = panel["made_on"].dt.to_period("Q").astype(str)
    panel["d"] = ((panel["made_on"] >= panel["first_trained"]) & panel["treated"].astype(bool)).astype(float)
    x = pd.get_dummies(panel["quarter"], drop_first=True, dtype=float)
    x["d"] = panel["d"]
    y = panel["score"].astype(float)
    xd = x - x.groupby(panel["staff"]).transform("mean")
    yd = y - y.groupby(panel["staff"]).transform("mean")
    import statsmodels.api as sm

    twfe = sm.OLS(yd.to_numpy(), xd.to_numpy()).fit(
        cov_type="cluster", cov_kwds={"groups": panel["staff"].to_numpy()}
    )
    d_index = list(x.columns).index("d")
    results["twfe"] = (float(twfe.params[d_index]), float(np.asarray(twfe.bse)[d_index]))
    t_end = time.perf_counter()
    return {
        "seconds": t_end - t0,
        "export_s": t_export - t0,
        "statistics_s": t_end - t_export,
        "rows": {"scores": len(scores), "audits": len(audits), "trained": len(trained)},
        "results": results,
    }


# Driver -------------------------------------------------------------------------------------------


def _child(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=True, env=os.environ.copy()
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def counts() -> dict:
    from practice.models import Audit, Referral
    from surveys.models import Answer, Invitation, ScaleScore
    from training.models import StaffMember, TrainingSession

    return {
        "staff": StaffMember.objects.count(),
        "sessions": TrainingSession.objects.count(),
        "questionnaire responses": Invitation.objects.filter(response__isnull=False).count(),
        "referrals": Referral.objects.count(),
        "audits": Audit.objects.count(),
        "scale scores": ScaleScore.objects.count(),
        "item answers": Answer.objects.count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--users", default="lead,admin")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", choices=["memory", "hand-memory"], help=argparse.SUPPRESS)
    parser.add_argument("--user", help=argparse.SUPPRESS)
    args = parser.parse_args()
    _setup()
    if args.child == "memory":
        print(json.dumps(product_memory(args.user)))
        return
    if args.child == "hand-memory":
        tracemalloc.start()
        hand_script()
        _, peak = tracemalloc.get_traced_memory()
        print(json.dumps({"traced_peak_mib": peak / 2**20, "maxrss_mib": _peak_rss_mib()}))
        return

    from django.conf import settings
    from django.db import connection

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    if connection.vendor == "postgresql":
        # What autovacuum would have done on a live database: planner statistics and the visibility
        # map. A freshly seeded database has neither when autovacuum is off (as on the shared
        # benchmark server): the planner then guesses a handful of rows per table and picks nested
        # loops over 200,000 rows, and index-only scans must visit the table after all.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    data = {"database": engine, "counts": counts(), "users": {}}
    users = [u for u in args.users.split(",") if u]
    hand_script()  # warm-up
    hand_with: dict[str, list[dict]] = {}
    for username in users:
        product_once(username, cold=True)  # warm-up: imports, connection, first-query costs
        page, data_only, hand_with[username] = [], [], []
        # The page, the data and the hand script in turn, so that a change in the machine's load
        # (it is shared, and its speed drifts by a third within minutes) touches all three alike.
        for _ in range(args.repeats):
            page.append(product_once(username, cold=True))
            data_only.append(product_once(username, cold=True, charts=False))
            hand_with[username].append(hand_script())
        product_once(username, cold=False)  # the last cold call cached an undrawn report: draw it
        cached = [product_once(username, cold=False) for _ in range(args.repeats)]
        data["users"][username] = {
            "cold_s": _median([r["seconds"] for r in page]),
            "cold_min_s": min(r["seconds"] for r in page),
            "cold_max_s": max(r["seconds"] for r in page),
            "cold_data_s": _median([r["seconds"] for r in data_only]),
            "frames_s": _median([r["frames_s"] for r in page + data_only]),
            "statistics_s": _median([r["statistics_s"] for r in page + data_only]),
            "charts_s": _median([r["charts_s"] for r in page + data_only]),
            "cold_queries": product_queries(username, cold=True),
            "cached_ms": 1000 * _median([r["seconds"] for r in cached]),
            "cached_queries": product_queries(username, cold=False),
            "memory": _child(["--child", "memory", "--user", username]),
        }
    reference = "admin" if "admin" in data["users"] else users[0]
    # The hand script's runs made in turn with the reference user's: the ratio compares like with like.
    hand = hand_with[reference]
    data["hand"] = {
        "seconds": _median([h["seconds"] for h in hand]),
        "export_s": _median([h["export_s"] for h in hand]),
        "statistics_s": _median([h["statistics_s"] for h in hand]),
        "rows": hand[-1]["rows"],
        "results": hand[-1]["results"],
        "memory": _child(["--child", "hand-memory"]),
    }
    data["hand"]["with_each_user_s"] = {
        u: _median([h["seconds"] for h in runs]) for u, runs in hand_with.items()
    }
    data["ratio_product_to_hand"] = data["users"][reference]["cold_s"] / data["hand"]["seconds"]
    data["ratio_data_to_hand"] = data["users"][reference]["cold_data_s"] / data["hand"]["seconds"]
    data["ratio_reference_user"] = reference

    print(f"Database: {engine}; " + ", ".join(f"{v:,} {k}" for k, v in data["counts"].items()))
    print()
    print(
        "| Report as | Cold page median s (min-max) | Cold data (API) s | frames s | statistics s | charts s "
        "| Cold queries | Cached median ms | Cached queries | Peak traced MiB | Max RSS MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for username, r in data["users"].items():
        print(
            f"| {username} | {r['cold_s']:.2f} ({r['cold_min_s']:.2f}-{r['cold_max_s']:.2f}) "
            f"| {r['cold_data_s']:.2f} | {r['frames_s']:.2f} | {r['statistics_s']:.2f} | {r['charts_s']:.2f} "
            f"| {r['cold_queries']} "
            f"| {r['cached_ms']:.0f} | {r['cached_queries']} "
            f"| {r['memory']['traced_peak_mib']:.0f} | {r['memory']['maxrss_mib']:.0f} |"
        )
    h = data["hand"]
    print()
    print(
        f"| Hand script (in turn with {reference}'s runs) | Median s | export s | statistics s "
        "| Peak traced MiB | Max RSS MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    print(
        f"| SQL export + pandas + scipy + statsmodels | {h['seconds']:.2f} | {h['export_s']:.2f} "
        f"| {h['statistics_s']:.2f} | {h['memory']['traced_peak_mib']:.0f} "
        f"| {h['memory']['maxrss_mib']:.0f} |"
    )
    print()
    print(
        "Hand script median with each user's runs: "
        + ", ".join(f"{u} {v:.2f} s" for u, v in h["with_each_user_s"].items())
    )
    print(f"Product ({reference}, cold page) / hand script: {data['ratio_product_to_hand']:.2f}x")
    print(f"Product ({reference}, cold data for the API) / hand script: {data['ratio_data_to_hand']:.2f}x")
    print(f"Hand script results: {json.dumps(h['results'])}")
    if args.json:
        args.json.write_text(json.dumps(data, indent=2, default=str))


if __name__ == "__main__":
    main()
