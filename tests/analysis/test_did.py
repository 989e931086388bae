"""Staggered DiD: an independent brute-force oracle, known-effect recovery and input errors."""

import numpy as np
import pandas as pd
import pytest

from analysis.stats.did import staggered_did
from analysis.stats.errors import AnalysisInputError

from .simulate import staggered_panel


def brute_force_att_gt(frame, control):
    """Oracle written independently with pandas, cell by cell, straight from the paper's definitions."""
    cell_means = frame.groupby(["unit", "period"])["outcome"].mean().unstack()
    g_of = frame.groupby("unit")["first_treated"].first()
    periods = sorted(cell_means.columns)
    out = {}
    for g in sorted(v for v in g_of.unique() if v > 0):
        if g <= periods[0]:
            continue
        pre = [p for p in periods if p < g][-1]
        for i, t in enumerate(periods[1:], start=1):
            base = pre if t >= g else periods[i - 1]
            if control == "never-treated":
                ctrl = g_of[g_of == 0].index
            else:
                ctrl = g_of[(g_of == 0) | ((g_of > max(t, base)) & (g_of != g))].index
            treat = g_of[g_of == g].index
            change = cell_means[t] - cell_means[base]
            dt, dc = change[treat].dropna(), change[ctrl].dropna()
            if len(dt) and len(dc):
                out[(g, t)] = dt.mean() - dc.mean()
    return out


@pytest.mark.parametrize("control", ["never-treated", "not-yet-treated"])
def test_att_gt_matches_brute_force_on_unbalanced_panel(control):
    rng = np.random.default_rng(2024)
    frame = staggered_panel(rng, n_units=300, n_periods=7, cohorts=(3, 5), audits_per_unit=9)
    result = staggered_did(frame, "unit", "period", "outcome", "first_treated", control=control)
    expected = brute_force_att_gt(frame, control)
    got = {(e.group, e.time): e.att for e in result.att_gt}
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-10), key


def test_two_by_two_se_is_welch_standard_error():
    # With one cohort and two periods the ATT is a difference of two mean changes; its SE must be the
    # Welch (unequal variances) SE, computed here directly. Tolerance 1e-10.
    rng = np.random.default_rng(5)
    frame = staggered_panel(rng, n_units=120, n_periods=2, cohorts=(2,), never_share=0.4)
    result = staggered_did(frame, "unit", "period", "outcome", "first_treated")
    wide = frame.pivot(index="unit", columns="period", values="outcome")
    change = wide[2] - wide[1]
    g = frame.groupby("unit")["first_treated"].first()
    dt, dc = change[g == 2], change[g == 0]
    welch = np.sqrt(dt.var(ddof=1) / len(dt) + dc.var(ddof=1) / len(dc))
    assert result.aggregations["simple"].se == pytest.approx(welch, abs=1e-10)
    assert result.aggregations["simple"].att == pytest.approx(dt.mean() - dc.mean(), abs=1e-10)


def test_aggregations_and_event_study_recover_known_dynamic_effects():
    # True effect at event time e is 1 + 0.5 e; pre-period effects are 0 (parallel trends hold).
    rng = np.random.default_rng(99)
    frame = staggered_panel(
        rng, n_units=3000, n_periods=10, cohorts=(4, 6, 8), effect=1.0, dynamic_slope=0.5, audits_per_unit=14
    )
    result = staggered_did(frame, "unit", "period", "outcome", "first_treated")
    by_e = {e.event_time: e for e in result.event_study}
    for e, est in by_e.items():
        truth = 1 + 0.5 * e if e >= 0 else 0.0
        assert abs(est.att - truth) < 4 * est.se + 1e-9, (e, est.att, truth, est.se)
    # dynamic aggregate: mean over e = 0..6 of 1 + 0.5 e = 2.5
    dynamic = result.aggregations["dynamic"]
    assert abs(dynamic.att - 2.5) < 4 * dynamic.se
    assert min(by_e) < 0  # the event study includes pre-periods for parallel-trends checks
    assert result.n_units == 3000


def test_several_audits_in_a_period_are_averaged_first():
    frame = pd.DataFrame(
        {
            "unit": [1, 1, 1, 2, 2, 3, 3, 4, 4],
            "period": [1, 2, 2, 1, 2, 1, 2, 1, 2],
            "outcome": [10, 12, 16, 10, 11, 5, 6, 7, 7],
            "first_treated": [2, 2, 2, 2, 2, 0, 0, 0, 0],
        }
    )
    result = staggered_did(frame, "unit", "period", "outcome", "first_treated")
    # unit 1 changes by mean(12, 16) - 10 = 4, unit 2 by 1: treated 2.5; comparison (1 + 0) / 2 = 0.5
    assert result.aggregations["simple"].att == pytest.approx(2.0)
    assert result.n_observations == 9 and result.n_unit_periods == 8


def test_to_dict_contract_keys():
    rng = np.random.default_rng(1)
    out = staggered_did(
        staggered_panel(rng, n_units=200), "unit", "period", "outcome", "first_treated"
    ).to_dict()
    assert {"att_gt", "aggregations", "event_study", "n_units"} <= set(out)
    assert set(out["aggregations"]) == {"simple", "group", "dynamic"}
    for agg in out["aggregations"].values():
        assert {"att", "se", "ci_low", "ci_high"} <= set(agg)
    assert {"group", "time", "att", "se"} <= set(out["att_gt"][0])
    assert {"event_time", "att", "se"} <= set(out["event_study"][0])


def test_always_treated_and_late_cohorts_are_handled_with_notes():
    rng = np.random.default_rng(8)
    frame = staggered_panel(rng, n_units=200, n_periods=6, cohorts=(1, 3, 9))
    result = staggered_did(frame, "unit", "period", "outcome", "first_treated")
    assert result.cohorts == (3,)
    assert result.n_always_treated_dropped > 0
    assert any("after the last period" in note for note in result.notes)


def _tiny(g):
    return pd.DataFrame(
        {
            "unit": np.repeat(np.arange(len(g)), 2),
            "period": np.tile([1, 2], len(g)),
            "outcome": np.arange(2 * len(g), dtype=float),
            "first_treated": np.repeat(g, 2),
        }
    )


def test_no_comparison_group_is_a_clear_error():
    with pytest.raises(AnalysisInputError, match="no comparison group"):
        staggered_did(_tiny([2, 2, 2, 2]), "unit", "period", "outcome", "first_treated")
    with pytest.raises(
        AnalysisInputError, match="no comparison group for the cohort first treated in period 2"
    ):
        staggered_did(
            _tiny([2, 2, 2, 2]), "unit", "period", "outcome", "first_treated", control="not-yet-treated"
        )


def test_last_cohort_without_not_yet_treated_units_can_be_dropped():
    rng = np.random.default_rng(4)
    frame = staggered_panel(rng, n_units=300, n_periods=6, cohorts=(3, 5), never_share=0.0)
    with pytest.raises(AnalysisInputError, match="period 5"):
        staggered_did(frame, "unit", "period", "outcome", "first_treated", control="not-yet-treated")
    result = staggered_did(
        frame,
        "unit",
        "period",
        "outcome",
        "first_treated",
        control="not-yet-treated",
        drop_uncomparable_cohorts=True,
    )
    assert {e.group for e in result.att_gt if e.post} == {3}


def test_too_few_units_and_other_input_errors():
    with pytest.raises(AnalysisInputError, match="too few units"):
        staggered_did(_tiny([2, 0]), "unit", "period", "outcome", "first_treated")
    with pytest.raises(AnalysisInputError, match="no treated units"):
        staggered_did(_tiny([0, 0, 0]), "unit", "period", "outcome", "first_treated")
    bad = _tiny([2, 2, 0, 0]).astype({"outcome": object})
    bad.loc[3, "outcome"] = "n/a"
    with pytest.raises(AnalysisInputError, match="column 'outcome' has a non-numeric value 'n/a'"):
        staggered_did(bad, "unit", "period", "outcome", "first_treated")
    varying = _tiny([2, 2, 0, 0])
    varying.loc[0, "first_treated"] = 3
    with pytest.raises(AnalysisInputError, match="must be constant"):
        staggered_did(varying, "unit", "period", "outcome", "first_treated")
    with pytest.raises(AnalysisInputError, match="'cohort' not found"):
        staggered_did(_tiny([2, 0]), "unit", "period", "outcome", "cohort")
