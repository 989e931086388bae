"""Simulation checks with fixed seeds (DESIGN.md: data generated with a known effect must give it back,
with intervals that cover it at the stated rate).

Tolerances: with R replications the Monte Carlo SE of a coverage near 0.95 is sqrt(0.95 * 0.05 / R)
(0.0069 for R = 1000), so the 93-97% band is about +-3 Monte Carlo SEs; the same holds for a 5% rejection
rate (band 2.9-7.1%).
"""

import numpy as np
import pandas as pd
import pytest

from analysis.stats.did import staggered_did
from analysis.stats.paired import paired_change

from .simulate import staggered_panel

pytestmark = pytest.mark.slow

REPS = 1000
# Effects build up with time since training: effect + slope * e at event time e >= 0, zero before
# (parallel trends hold). Two cohorts, first treated in periods 3 and 5 of 6, equally likely, so in the
# population each cohort's share P(G = g) is the same and the aggregates' true values are simple means.
EFFECT, SLOPE, PERIODS, COHORTS = 1.5, 0.4, 6, (3, 5)
EVENT_TIMES = {g: [t - g for t in range(2, PERIODS + 1)] for g in COHORTS}  # ATT(g, t) cells estimated
POST = {g: [e for e in events if e >= 0] for g, events in EVENT_TIMES.items()}


def theta(e):
    return EFFECT + SLOPE * e if e >= 0 else 0.0


TRUTH = {
    # simple: all post-treatment cells, weighted by cohort share (equal): the mean over the 6 cells
    "simple": np.mean([theta(e) for g in COHORTS for e in POST[g]]),
    # group: each cohort's mean over its post cells, then the mean over cohorts
    "group": np.mean([np.mean([theta(e) for e in POST[g]]) for g in COHORTS]),
    # dynamic: the mean over event times 0..3 of theta(e)
    "dynamic": np.mean([theta(e) for e in sorted({e for g in COHORTS for e in POST[g]})]),
}


def _did_reps(seed, reps, effect, slope, control="never-treated"):
    """Per replication: the three aggregates, every event-time estimate and every pre-period cell."""
    rng = np.random.default_rng(seed)
    aggregates = {name: [] for name in ("simple", "group", "dynamic")}
    events, pre_cells = {}, []
    for _ in range(reps):
        frame = staggered_panel(
            rng,
            n_units=160,
            n_periods=PERIODS,
            cohorts=COHORTS,
            never_share=0.35,
            effect=effect,
            dynamic_slope=slope,
            audits_per_unit=8,
        )
        result = staggered_did(frame, "unit", "period", "outcome", "first_treated", control=control)
        for name, values in aggregates.items():
            agg = result.aggregations[name]
            values.append((agg.att, agg.se, agg.ci_low, agg.ci_high))
        for e in result.event_study:
            events.setdefault(e.event_time, []).append((e.att, e.se, e.ci_low, e.ci_high))
        pre_cells += [(cell.ci_low, cell.ci_high) for cell in result.att_gt if not cell.post]
    return (
        {name: np.array(values) for name, values in aggregates.items()},
        {e: np.array(values) for e, values in events.items()},
        np.array(pre_cells),
    )


def _coverage(rows, truth):
    return float(np.mean((rows[:, 2] <= truth) & (truth <= rows[:, 3])))


@pytest.fixture(scope="module", params=["never-treated", "not-yet-treated"])
def did_reps(request):
    seed = {"never-treated": 20240601, "not-yet-treated": 20240602}[request.param]
    return request.param, _did_reps(seed, REPS, EFFECT, SLOPE, request.param)


def test_did_simple_att_is_unbiased_and_its_interval_covers_95_percent(did_reps):
    control, (aggregates, _events, _pre) = did_reps
    rows, truth = aggregates["simple"], TRUTH["simple"]
    est = rows[:, 0]
    # unbiased: the mean estimate is within 3 Monte Carlo SEs of the truth
    assert abs(est.mean() - truth) < 3 * est.std(ddof=1) / np.sqrt(REPS)
    # the analytic SE matches the spread of the estimates (within 10%)
    assert rows[:, 1].mean() == pytest.approx(est.std(ddof=1), rel=0.10)
    coverage = _coverage(rows, truth)
    print(
        f"DiD ({control}) simple coverage {coverage:.3f}, mean estimate {est.mean():.3f} (truth {truth:.3f})"
    )
    assert 0.93 <= coverage <= 0.97, coverage


@pytest.mark.parametrize("name", ["group", "dynamic"])
def test_did_group_and_dynamic_aggregates_cover_95_percent(did_reps, name):
    control, (aggregates, _events, _pre) = did_reps
    rows, truth = aggregates[name], TRUTH[name]
    assert abs(rows[:, 0].mean() - truth) < 3 * rows[:, 0].std(ddof=1) / np.sqrt(REPS)
    coverage = _coverage(rows, truth)
    print(f"DiD ({control}) {name} coverage {coverage:.3f} (truth {truth:.3f})")
    assert 0.93 <= coverage <= 0.97, coverage


def test_did_event_time_estimates_cover_95_percent(did_reps):
    control, (_aggregates, events, _pre) = did_reps
    assert sorted(events) == [-3, -2, -1, 0, 1, 2, 3]
    for e, rows in sorted(events.items()):
        assert len(rows) == REPS
        coverage = _coverage(rows, theta(e))
        print(f"DiD ({control}) event time {e}: coverage {coverage:.3f}, mean {rows[:, 0].mean():.3f}")
        assert abs(rows[:, 0].mean() - theta(e)) < 3 * rows[:, 0].std(ddof=1) / np.sqrt(REPS), e
        assert 0.93 <= coverage <= 0.97, (e, coverage)


def test_did_pre_period_estimates_reject_about_5_percent_under_parallel_trends(did_reps):
    # Pre-treatment estimates test parallel trends; here trends are parallel, so each should be
    # "significant" 5% of the time: per event time (1000 each), and over all pre-period ATT(g, t) cells.
    control, (_aggregates, events, pre_cells) = did_reps
    for e in (-3, -2, -1):
        rows = events[e]
        rejection = float(np.mean((rows[:, 2] > 0) | (rows[:, 3] < 0)))
        print(f"DiD ({control}) event time {e}: rejection {rejection:.3f}")
        assert 0.029 <= rejection <= 0.071, (e, rejection)
    # Cells: cohort 3 has one (t = 2), cohort 5 three (t = 2, 3, 4), so 4000. Cells of one replication
    # share comparison units, so the pooled rate varies more than a binomial 4000 would; the band is the
    # per-event-time one. (Normal critical values with ~45 units a cohort over-reject slightly: a t
    # with 45 df exceeds 1.96 5.6% of the time; seen here as 5.7%.)
    assert len(pre_cells) == 4 * REPS
    rejection = float(np.mean((pre_cells[:, 0] > 0) | (pre_cells[:, 1] < 0)))
    print(f"DiD ({control}) pre-period ATT(g, t) cells: rejection {rejection:.3f}")
    assert 0.029 <= rejection <= 0.071, rejection


def test_did_with_no_effect_rejects_about_5_percent():
    aggregates, _events, _pre = _did_reps(777, REPS, 0.0, 0.0)
    rows = aggregates["simple"]
    rejection = float(np.mean((rows[:, 2] > 0) | (rows[:, 3] < 0)))
    print(f"DiD rejection rate under no effect {rejection:.3f}")
    # binomial(1000, 0.05): 3 SEs either side of 0.05 is 0.029 to 0.071
    assert 0.029 <= rejection <= 0.071, rejection


def test_did_event_study_recovers_dynamic_effects_on_average():
    rng = np.random.default_rng(31)
    reps = 60
    collected = {}
    for _ in range(reps):
        frame = staggered_panel(
            rng,
            n_units=400,
            n_periods=8,
            cohorts=(3, 5, 7),
            effect=1.0,
            dynamic_slope=0.4,
            audits_per_unit=10,
        )
        for e in staggered_did(frame, "unit", "period", "outcome", "first_treated").event_study:
            collected.setdefault(e.event_time, []).append(e.att)
    for e, values in collected.items():
        truth = 1.0 + 0.4 * e if e >= 0 else 0.0
        values = np.array(values)
        assert abs(values.mean() - truth) < 4 * values.std(ddof=1) / np.sqrt(len(values)) + 1e-9, e


def test_paired_mean_difference_and_d_z_intervals_cover_95_percent():
    rng = np.random.default_rng(4242)
    reps, n, mean_change, sd_change = 1000, 20, 3.0, 6.0  # true d_z = 0.5
    hits_mean = hits_dz = 0
    for _ in range(reps):
        before = rng.normal(50, 10, size=n)
        after = before + rng.normal(mean_change, sd_change, size=n)
        r = paired_change(pd.DataFrame({"pre": before, "post": after}), "pre", "post")
        hits_mean += r.ci_low <= mean_change <= r.ci_high
        hits_dz += r.d_z_ci_low <= mean_change / sd_change <= r.d_z_ci_high
    print(f"paired coverage: mean difference {hits_mean / reps:.3f}, d_z {hits_dz / reps:.3f}")
    assert 0.93 <= hits_mean / reps <= 0.97, hits_mean / reps
    assert 0.93 <= hits_dz / reps <= 0.97, hits_dz / reps
