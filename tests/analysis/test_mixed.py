"""Mixed-model sensitivity check: recovers a known effect and variance components; falls back clearly."""

import numpy as np
import pandas as pd
import pytest

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
