"""Benchmark of the analysis engine at the scale in issue 5: 100k audits of 10k staff over 24 months.

Run from the repository root:  .venv/bin/python benchmarks/bench_did.py [--repeats 5]

Prints a Markdown table (paste it into BENCHMARKS.md under "Analysis engine"). Not a unit test: timings
depend on the machine and on what else it is doing.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.stats.did import staggered_did
from analysis.stats.mixed import mixed_model_check


def make_audits(seed: int = 2025, n_staff: int = 10_000, n_audits: int = 100_000, n_periods: int = 24):
    """Irregular audits (Poisson number per person, random months) of staff trained in staggered cohorts."""
    rng = np.random.default_rng(seed)
    n_teams = n_staff // 20
    team = rng.integers(0, n_teams, n_staff)
    # 30% never trained; the rest trained in one of the months 3..22
    first = np.where(rng.random(n_staff) < 0.3, 0, rng.integers(3, 23, n_staff))
    staff = rng.integers(0, n_staff, n_audits)
    period = rng.integers(1, n_periods + 1, n_audits)
    event = period - first[staff]
    trained = (first[staff] > 0) & (event >= 0)
    quality = (
        60
        + rng.normal(0, 3, n_teams)[team[staff]]
        + rng.normal(0, 5, n_staff)[staff]
        + 0.2 * period
        + np.where(trained, 4 + 0.2 * np.minimum(event, 10), 0.0)
        + rng.normal(0, 8, n_audits)
    )
    return pd.DataFrame(
        {
            "staff": staff,
            "team": team[staff],
            "month": period,
            "quality": quality,
            "first_trained": first[staff],
        }
    )


def timed(fn, repeats: int) -> tuple[float, float, float, object]:
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times), result


def peak_mib(fn) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    audits = make_audits()
    n_unit_periods = audits.groupby(["staff", "month"]).ngroups
    print(
        f"data: {len(audits)} audits, {audits.staff.nunique()} staff, {audits.team.nunique()} teams, "
        f"{audits.month.nunique()} months, {n_unit_periods} staff-months observed "
        f"({n_unit_periods / (audits.staff.nunique() * 24):.0%} of a balanced panel)"
    )
    print(f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}\n")

    rows = []
    for control in ("never-treated", "not-yet-treated"):

        def run(control=control):
            return staggered_did(audits, "staff", "month", "quality", "first_trained", control=control)

        run()  # warm-up (imports, caches)
        median, low, high, result = timed(run, args.repeats)
        rows.append(
            (
                f"Staggered DiD, {control} ({len(result.att_gt)} ATT(g,t) cells)",
                median,
                low,
                high,
                peak_mib(run),
                "simple ATT {0.att:.2f} (SE {0.se:.2f})".format(result.aggregations["simple"]),
            )
        )

    def mixed_full():
        return mixed_model_check(
            audits, outcome="quality", staff="staff", team="team", time="month", first_treated="first_trained"
        )

    median, low, high, result = timed(mixed_full, max(1, min(args.repeats, 3)))
    rows.append(
        (
            "Mixed-model check, 100k audits",
            median,
            low,
            high,
            peak_mib(mixed_full),
            f"{result.method}: {result.note}",
        )
    )

    sample = audits[audits.staff < 1900]  # under the 20k-row MixedLM limit

    def mixed_sample():
        return mixed_model_check(
            sample, outcome="quality", staff="staff", team="team", time="month", first_treated="first_trained"
        )

    median, low, high, result = timed(mixed_sample, 1)
    rows.append(
        (
            f"Mixed-model check, {len(sample)} audits (MixedLM)",
            median,
            low,
            high,
            peak_mib(mixed_sample),
            f"{result.method}, effect {result.effect:.2f} (SE {result.se:.2f})",
        )
    )

    print("| Task | Median s | Min s | Max s | Peak traced MiB | Result |")
    print("|---|---:|---:|---:|---:|---|")
    for name, median, low, high, mib, note in rows:
        print(f"| {name} | {median:.2f} | {low:.2f} | {high:.2f} | {mib:.0f} | {note} |")


if __name__ == "__main__":
    main()
