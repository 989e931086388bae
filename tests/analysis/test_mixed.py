"""Mixed-model sensitivity check: recovers a known effect and variance components; falls back clearly."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from analysis.stats.errors import AnalysisInputError
from analysis.stats.mixed import mixed_model_check


def audits(seed=1, n_staff=240, n_teams=12, n_audits=2400, effect=3.0):
    rng = np.random.default_rng(seed)
    team = np.arange(n_staff) % n_teams
    g = np.where(rng.random(n_staff) < 0.3, 0, rng.integers(3, 10, n_staff))
    s = rng.integers(0, n_staff, n_audits)
    t = rng.integers(1, 12, n_audits)
    treated = (g[s] > 0) & (t >= g[s])
    # team SD 1, staff SD 1.5, residual SD 3
    y = (
        50
        + rng.normal(0, 1, n_teams)[team[s]]
        + rng.normal(0, 1.5, n_staff)[s]
        + 0.2 * t
        + effect * treated
        + rng.normal(0, 3, n_audits)
    )
    return pd.DataFrame({"staff": s, "team": team[s], "period": t, "quality": y, "first": g[s]})


def test_mixed_model_recovers_effect_and_variance_components():
    result = mixed_model_check(
        audits(), outcome="quality", staff="staff", team="team", time="period", first_treated="first"
    )
    assert result.method == "mixedlm" and result.note == ""
    assert abs(result.effect - 3.0) < 3 * result.se
    assert result.residual_variance == pytest.approx(9, rel=0.15)
    assert result.staff_variance == pytest.approx(2.25, rel=0.5)
    assert result.n_teams == 12


def test_large_data_falls_back_to_cluster_robust_ols_with_a_note():
    result = mixed_model_check(
        audits(),
        outcome="quality",
        staff="staff",
        team="team",
        time="period",
        first_treated="first",
        max_observations=1000,
    )
    assert result.method == "ols_cluster"
    assert "exceed the mixed-model limit of 1000" in result.note
    assert abs(result.effect - 3.0) < 4 * result.se


def test_non_convergence_falls_back_with_a_note():
    result = mixed_model_check(
        audits(),
        outcome="quality",
        staff="staff",
        team="team",
        time="period",
        first_treated="first",
        maxiter=1,
    )
    assert result.method == "ols_cluster"
    assert "did not converge within 1 iterations" in result.note


def test_mixed_model_input_errors():
    frame = audits()
    with pytest.raises(AnalysisInputError, match="either a first-treated column or a treated column"):
        mixed_model_check(frame, outcome="quality", staff="staff", team="team", time="period")
    frame["never"] = 0
    with pytest.raises(AnalysisInputError, match="does not vary"):
        mixed_model_check(
            frame, outcome="quality", staff="staff", team="team", time="period", treated="never"
        )


def selected_audits(seed, *, n_staff=800, n_teams=40, n_audits=16000, effect=2.0, head_start=6.0):
    """Audits where the staff who get trained already scored ``head_start`` points higher before training
    (keen staff volunteer first), so comparing trained with untrained audits overstates the effect."""
    rng = np.random.default_rng(seed)
    team = np.arange(n_staff) % n_teams
    g = np.where(rng.random(n_staff) < 0.4, 0, rng.integers(3, 11, n_staff))
    baseline = rng.normal(0, 2, n_staff) + np.where(g > 0, head_start, 0.0)
    s = rng.integers(0, n_staff, n_audits)
    t = rng.integers(1, 13, n_audits)
    treated = (g[s] > 0) & (t >= g[s])
    y = (
        50
        + baseline[s]
        + rng.normal(0, 1, n_teams)[team[s]]
        + 0.3 * t
        + effect * treated
        + rng.normal(0, 3, n_audits)
    )
    return pd.DataFrame({"staff": s, "team": team[s], "period": t, "quality": y, "first": g[s]})


def test_fallback_compares_within_staff_when_trained_staff_differ_at_baseline():
    # Simulation, fixed seeds: true effect 2 points; trained staff start 6 points higher. A regression
    # on the treated indicator and period effects alone (the previous fallback) mixes the head start
    # into the effect; with staff fixed effects only within-person change counts.
    estimates = []
    for seed in (1, 2, 3):
        frame = selected_audits(seed)
        result = mixed_model_check(
            frame,
            outcome="quality",
            staff="staff",
            team="team",
            time="period",
            first_treated="first",
            max_observations=1000,
        )
        assert result.method == "ols_cluster"
        assert "staff and period fixed effects" in result.note and "clustered by team" in result.note
        assert abs(result.effect - 2.0) < 3 * result.se, (seed, result.effect, result.se)
        assert result.ci_low < 2.0 < result.ci_high
        estimates.append(result.effect)
        # the old fallback on the same data, for contrast: biased by several points
        frame["treated"] = ((frame["first"] > 0) & (frame["period"] >= frame["first"])).astype(float)
        naive = smf.ols("quality ~ treated + C(period)", data=frame).fit()
        assert naive.params["treated"] - 2.0 > 3.0
    assert abs(np.mean(estimates) - 2.0) < 0.25


def _fallback_and_dummy_regression(frame):
    """The fixed-effects fallback's result, and statsmodels' OLS with a dummy per staff member
    (SEs clustered by team) on the same audits."""
    result = mixed_model_check(
        frame, outcome="quality", staff="staff", team="team", time="period", first_treated="first",
        max_observations=100,
    )  # fmt: skip
    frame = frame.assign(treated=((frame["first"] > 0) & (frame["period"] >= frame["first"])).astype(float))
    fit = smf.ols("quality ~ treated + C(period) + C(staff)", data=frame).fit(
        cov_type="cluster", cov_kwds={"groups": frame["team"]}
    )
    return result, fit


def test_fallback_matches_dummy_variable_regression():
    # Independent route: the same model with one dummy per staff member (statsmodels, formula API). The
    # coefficient must agree to 1e-8. Cluster-robust SEs differ only by the degrees-of-freedom factor:
    # statsmodels counts the staff dummies in K ("areg"-style), we do not when staff are nested in teams
    # ("xtreg, fe" / reghdfe style), so ours = statsmodels' * sqrt((N - K_dummies) / (N - K_ours)).
    frame = selected_audits(7, n_staff=120, n_teams=12, n_audits=1500)
    result, fit = _fallback_and_dummy_regression(frame)
    assert result.effect == pytest.approx(fit.params["treated"], abs=1e-8)
    n, k_dummies = len(frame), fit.df_model + 1
    k_ours = 1 + frame["period"].nunique() - 1 + 1  # treated, period dummies, intercept
    expected_se = fit.bse["treated"] * np.sqrt((n - k_dummies) / (n - k_ours))
    assert result.se == pytest.approx(expected_se, rel=1e-8)


def test_fallback_without_within_staff_change_is_a_clear_error():
    frame = audits()
    # everyone trained before their first audit or never: no one is seen both before and after
    frame["first"] = np.where(frame["first"] > 0, 1, 0)
    with pytest.raises(AnalysisInputError, match="no staff member has audits both before and after"):
        mixed_model_check(
            frame, outcome="quality", staff="staff", team="team", time="period", first_treated="first",
            max_observations=100,
        )  # fmt: skip


def test_fallback_counts_the_staff_effects_when_staff_move_between_teams():
    # Staff who work in two teams are not nested in teams: the absorbed staff effects then count in
    # K, as statsmodels counts its staff dummies, so the two SEs agree exactly.
    frame = selected_audits(7, n_staff=120, n_teams=12, n_audits=1500)
    movers = frame["staff"].isin(frame["staff"].unique()[:10]) & (frame["period"] > frame["period"].median())
    frame.loc[movers, "team"] = (frame.loc[movers, "team"] + 1) % 12
    result, fit = _fallback_and_dummy_regression(frame)
    assert result.effect == pytest.approx(fit.params["treated"], abs=1e-8)
    assert result.se == pytest.approx(fit.bse["treated"], rel=1e-8)
