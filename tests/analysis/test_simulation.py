"""Simulation checks with fixed seeds (DESIGN.md: data generated with a known effect must give it back,
with intervals that cover it at the stated rate).

Tolerances: with R replications the Monte Carlo SE of a coverage near 0.95 is sqrt(0.95 * 0.05 / R)
(0.0069 for R = 1000), so the 93-97% band is about +-3 Monte Carlo SEs.
"""

import numpy as np
import pandas as pd
import pytest

from analysis.stats.did import staggered_did
from analysis.stats.paired import paired_change

from .simulate import staggered_panel

pytestmark = pytest.mark.slow


def _did_reps(seed, reps, effect, control="never-treated"):
    rng = np.random.default_rng(seed)
    estimates, ses, lows, highs = [], [], [], []
    for _ in range(reps):
        frame = staggered_panel(
            rng, n_units=160, n_periods=6, cohorts=(3, 5), never_share=0.35, effect=effect, audits_per_unit=8
        )
        result = staggered_did(frame, "unit", "period", "outcome", "first_treated", control=control)
        simple = result.aggregations["simple"]
        estimates.append(simple.att)
        ses.append(simple.se)
        lows.append(simple.ci_low)
        highs.append(simple.ci_high)
    return np.array(estimates), np.array(ses), np.array(lows), np.array(highs)


@pytest.mark.parametrize("control", ["never-treated", "not-yet-treated"])
def test_did_simple_att_is_unbiased_and_its_interval_covers_95_percent(control):
    reps, truth = 1000, 1.5
    est, se, low, high = _did_reps(20240601, reps, truth, control)
    # unbiased: the mean estimate is within 3 Monte Carlo SEs of the truth
    assert abs(est.mean() - truth) < 3 * est.std(ddof=1) / np.sqrt(reps)
    # the analytic SE matches the spread of the estimates (within 10%)
    assert se.mean() == pytest.approx(est.std(ddof=1), rel=0.10)
    coverage = np.mean((low <= truth) & (truth <= high))
    print(f"DiD ({control}) coverage {coverage:.3f}, mean estimate {est.mean():.3f}")
    assert 0.93 <= coverage <= 0.97, coverage


def test_did_with_no_effect_rejects_about_5_percent():
    reps = 1000
    _est, _se, low, high = _did_reps(777, reps, 0.0)
    rejection = np.mean((low > 0) | (high < 0))
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
