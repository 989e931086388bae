"""Mixed-model sensitivity check for practice change: audits within staff within teams.

Not the headline estimate (that is `analysis.stats.did.staggered_did`): a random-intercept model with a
single "trained" indicator is a two-way comparison that shares TWFE's weaknesses under staggered timing.
It is useful as a check that the DiD is not driven by a few teams. It must stay tractable at 100k audits,
so iterations are bounded and large or non-converging problems fall back to OLS with standard errors
clustered by team, with a note saying so.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats

from ._common import Result, numeric_column, require_columns
from .errors import AnalysisInputError

__all__ = ["MixedResult", "mixed_model_check"]

#: Above this many observations MixedLM's per-team dense matrices get slow; use the OLS fallback.
DEFAULT_MAX_OBSERVATIONS = 20_000


@dataclass(frozen=True)
class MixedResult(Result):
    """Effect of being trained on the outcome from the sensitivity model.

    ``method`` is ``mixedlm`` (random intercepts for team and staff within team, period fixed effects,
    REML) or ``ols_cluster`` (OLS with period fixed effects, SEs clustered by team). ``note`` explains any
    fallback.
    """

    method: str
    effect: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    n_observations: int
    n_staff: int
    n_teams: int
    converged: bool
    note: str
    team_variance: float | None = None
    staff_variance: float | None = None
    residual_variance: float | None = None


def _frame(data, outcome, staff, team, time, first_treated, treated) -> pd.DataFrame:
    columns = [outcome, staff, team, time] + [c for c in (first_treated, treated) if c]
    require_columns(data, columns)
    frame = pd.DataFrame(
        {
            "y": numeric_column(data, outcome),
            "staff": data[staff].astype(str),
            "team": data[team].astype(str),
            "period": numeric_column(data, time),
        }
    )
    if treated:
        frame["treated"] = numeric_column(data, treated)
    elif first_treated:
        g = numeric_column(data, first_treated).fillna(0.0)
        frame["treated"] = ((g > 0) & (frame["period"] >= g)).astype(float)
    else:
        raise AnalysisInputError("give either a first-treated column or a treated column")
    frame = frame.dropna()
    if frame.empty:
        raise AnalysisInputError("no complete rows for the mixed model")
    if frame["treated"].nunique() < 2:
        raise AnalysisInputError("the treated indicator does not vary: nothing to compare")
    return frame


def _ols(frame: pd.DataFrame, confidence: float, note: str) -> MixedResult:
    fit = smf.ols("y ~ treated + C(period)", data=frame).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(frame["team"])[0]}
    )
    effect, se = float(fit.params["treated"]), float(fit.bse["treated"])
    # t with (teams - 1) df: with few clusters the normal reference is too liberal
    df = max(frame["team"].nunique() - 1, 1)
    crit = float(stats.t.ppf(1 - (1 - confidence) / 2, df))
    return MixedResult(
        method="ols_cluster",
        effect=effect,
        se=se,
        ci_low=effect - crit * se,
        ci_high=effect + crit * se,
        p=float(2 * stats.t.sf(abs(effect / se), df)) if se > 0 else math.nan,
        n_observations=len(frame),
        n_staff=frame["staff"].nunique(),
        n_teams=frame["team"].nunique(),
        converged=True,
        note=note,
    )


def mixed_model_check(
    data: pd.DataFrame,
    *,
    outcome: str,
    staff: str,
    team: str,
    time: str,
    first_treated: str | None = None,
    treated: str | None = None,
    max_observations: int = DEFAULT_MAX_OBSERVATIONS,
    maxiter: int = 100,
    confidence: float = 0.95,
) -> MixedResult:
    """Fit the audits-within-staff-within-teams model, falling back to cluster-robust OLS when needed.

    Model (statsmodels ``MixedLM``, REML, L-BFGS with at most ``maxiter`` iterations):

    .. math:: y_{ijkt} = \\beta D_{jt} + \\tau_t + u_k + v_{jk} + e_{ijkt}

    for audit i of staff member j in team k in period t, with :math:`D_{jt} = 1` once j is trained,
    period fixed effects :math:`\\tau_t`, team intercepts :math:`u_k \\sim N(0, \\sigma_u^2)` (the groups)
    and staff-in-team intercepts :math:`v_{jk} \\sim N(0, \\sigma_v^2)` (a variance component).

    Falls back to ``y ~ D + C(period)`` by OLS with SEs clustered by team when there are more than
    ``max_observations`` rows, when the fit does not converge within ``maxiter`` iterations, or when it
    fails; ``note`` says which. With a single team, the team level is dropped.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per audit.
    outcome, staff, team, time : str
        Column names.
    first_treated : str, optional
        Period of first training (0 or empty: never); the treated indicator is ``time >= first_treated``.
    treated : str, optional
        A ready-made 0/1 treated indicator instead of ``first_treated``.
    max_observations : int
        Size limit for the mixed model.
    maxiter : int
        Iteration limit for the optimiser.
    confidence : float
        Coverage of the interval.

    Returns
    -------
    MixedResult
    """
    frame = _frame(data, outcome, staff, team, time, first_treated, treated)
    n = len(frame)
    if n > max_observations:
        return _ols(
            frame,
            confidence,
            f"fell back to OLS with team-clustered SEs: {n} observations exceed the mixed-model limit of "
            f"{max_observations}",
        )
    n_teams = frame["team"].nunique()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if n_teams >= 2:
                model = smf.mixedlm(
                    "y ~ treated + C(period)",
                    frame,
                    groups=frame["team"],
                    re_formula="1",
                    vc_formula={"staff": "0 + C(staff)"},
                )
            else:
                model = smf.mixedlm("y ~ treated + C(period)", frame, groups=frame["staff"])
            fit = model.fit(reml=True, method="lbfgs", maxiter=maxiter)
        convergence_trouble = [w for w in caught if "converge" in str(w.message).lower()]
        if not fit.converged or convergence_trouble:
            return _ols(
                frame,
                confidence,
                "fell back to OLS with team-clustered SEs: the mixed model did not converge within "
                f"{maxiter} iterations",
            )
    except (np.linalg.LinAlgError, ValueError) as exc:
        return _ols(
            frame, confidence, f"fell back to OLS with team-clustered SEs: the mixed model failed ({exc})"
        )
    effect, se = float(fit.fe_params["treated"]), float(fit.bse_fe["treated"])
    z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    team_var = float(fit.cov_re.iloc[0, 0]) if n_teams >= 2 else None
    staff_var = float(fit.vcomp[0]) if n_teams >= 2 and len(fit.vcomp) else float(fit.cov_re.iloc[0, 0])
    return MixedResult(
        method="mixedlm",
        effect=effect,
        se=se,
        ci_low=effect - z * se,
        ci_high=effect + z * se,
        p=float(2 * stats.norm.sf(abs(effect / se))) if se > 0 else math.nan,
        n_observations=n,
        n_staff=frame["staff"].nunique(),
        n_teams=n_teams,
        converged=True,
        note="" if n_teams >= 2 else "one team only: random intercepts for staff, no team level",
        team_variance=team_var,
        staff_variance=staff_var,
        residual_variance=float(fit.scale),
    )
