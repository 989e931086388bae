"""Mixed-model sensitivity check for practice change: audits within staff within teams.

Not the headline estimate (that is `analysis.stats.did.staggered_did`): a random-intercept model with a
single "trained" indicator is a two-way comparison that shares TWFE's weaknesses under staggered timing.
It is useful as a check that the DiD is not driven by a few teams. It must stay tractable at 100k audits,
so iterations are bounded and large or non-converging problems fall back to a fixed-effects regression
with standard errors clustered by team, with a note saying so. The fallback keeps the comparison within
staff (each person's audits after training against their own audits before), as the mixed model's staff
intercepts do, so staff who are trained earlier or more often than others cannot bias it by simply being
better or worse auditees to begin with.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import special

from ._common import Result, numeric_column, require_columns
from .errors import AnalysisInputError

__all__ = ["MixedResult", "mixed_model_check"]

#: Above this many observations MixedLM's per-team dense matrices get slow; use the OLS fallback.
DEFAULT_MAX_OBSERVATIONS = 20_000


@dataclass(frozen=True)
class MixedResult(Result):
    """Effect of being trained on the outcome from the sensitivity model.

    ``method`` is ``mixedlm`` (random intercepts for team and staff within team, period fixed effects,
    REML) or ``ols_cluster`` (OLS with staff and period fixed effects, the staff effects absorbed by
    demeaning, SEs clustered by team; see `_fixed_effects_ols`). ``note`` explains any fallback.
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
            "staff": _labels(data[staff]),
            "team": _labels(data[team]),
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


def _labels(ids: pd.Series) -> pd.Series:
    """Group labels: numpy whole-number ids as they are (converting them to text for a report's
    20,000 audits took a few milliseconds each time, and groups them no differently); anything
    else, nullable integers included, as text. A missing id stays missing either way, and its row
    is dropped with the other incomplete ones."""
    return ids if isinstance(ids.dtype, np.dtype) and ids.dtype.kind in "iu" else ids.astype(str)


def _group_means(codes: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    """Column means of ``values`` (rows x columns) within each group, one row per group."""
    counts = np.bincount(codes, minlength=n_groups).astype(float)
    sums = np.column_stack(
        [np.bincount(codes, weights=values[:, j], minlength=n_groups) for j in range(values.shape[1])]
    )
    return sums / counts[:, None]


def _fixed_effects_ols(frame: pd.DataFrame, confidence: float, reason: str) -> MixedResult:
    """OLS of the outcome on the treated indicator with staff and period fixed effects, SEs clustered by team.

    .. math:: y_{it} = \\beta D_{it} + \\alpha_{j(i)} + \\tau_t + e_{it}

    The staff effects :math:`\\alpha_j` are absorbed by subtracting each staff member's means from the
    outcome, the treated indicator and the period dummies (Frisch-Waugh-Lovell), so 10,000 staff cost no
    more than a handful of columns; :math:`\\beta` is then identified only by changes within a person,
    like the mixed model's staff intercepts, and not by differences between people who were trained and
    people who were not. The cluster-robust covariance is the usual sandwich with the small-sample factor
    :math:`G/(G-1) \\cdot (N-1)/(N-K)`, where K counts the period effects, the treated indicator and the
    intercept, plus the staff effects when staff are not nested within teams (when they are, as ``xtreg,
    fe`` and ``reghdfe`` do, the absorbed effects are left out of K). Intervals and p use a t with G - 1
    degrees of freedom: with few clusters the normal reference is too liberal. With a single team the SEs
    are clustered by staff instead.
    """
    staff = pd.factorize(frame["staff"])[0]
    n_staff = int(staff.max()) + 1
    period_codes = np.searchsorted(np.sort(frame["period"].unique()), frame["period"].to_numpy())
    n_periods = int(period_codes.max()) + 1
    n = len(frame)
    # columns: y, treated, then one dummy per period except the first
    data = np.zeros((n, n_periods + 1))
    data[:, 0] = frame["y"].to_numpy(dtype=float)
    data[:, 1] = frame["treated"].to_numpy(dtype=float)
    later = period_codes > 0
    data[np.flatnonzero(later), period_codes[later] + 1] = 1.0
    within = data - _group_means(staff, n_staff, data)[staff]
    y, x = within[:, 0], within[:, 1:]
    if float(x[:, 0] @ x[:, 0]) <= 1e-12 * n:
        raise AnalysisInputError(
            "no staff member has audits both before and after training, so there is no within-staff "
            "comparison to make"
        )
    xtx = x.T @ x
    k = int(np.linalg.matrix_rank(xtx))
    bread = np.linalg.pinv(xtx)
    beta = bread @ (x.T @ y)
    resid = y - x @ beta

    team = pd.factorize(frame["team"])[0]  # the incomplete rows, a missing team among them, are gone
    n_teams = int(team.max()) + 1
    cluster_word, clusters = "team", team
    if n_teams < 2:
        cluster_word, clusters = "staff member", staff
    n_clusters = int(clusters.max()) + 1
    scores = np.column_stack(
        [np.bincount(clusters, weights=x[:, j] * resid, minlength=n_clusters) for j in range(x.shape[1])]
    )
    # Staff are nested in teams when each has one team: every row of a person then has the team
    # any one of their rows has (whichever row's team is kept here).
    team_of_staff = np.empty(n_staff, np.int64)
    team_of_staff[staff] = team
    nested = bool((team_of_staff[staff] == team).all()) or cluster_word != "team"
    n_params = k + 1 + (0 if nested else n_staff - 1)
    if n_clusters < 2 or n <= n_params:
        raise AnalysisInputError(
            f"too few observations for the fixed-effects check: {n} audits, {n_clusters} clusters"
        )
    factor = n_clusters / (n_clusters - 1) * (n - 1) / (n - n_params)
    cov = factor * bread @ (scores.T @ scores) @ bread
    effect, se = float(beta[0]), float(math.sqrt(max(cov[0, 0], 0.0)))
    df = n_clusters - 1
    # scipy.special's functions, which stats.t.ppf and .sf call after checking their arguments.
    crit = float(special.stdtrit(df, 1 - (1 - confidence) / 2))
    clustered = "SEs clustered by team"
    if cluster_word != "team":
        clustered = "SEs clustered by staff (one team only)"
    return MixedResult(
        method="ols_cluster",
        effect=effect,
        se=se,
        ci_low=effect - crit * se,
        ci_high=effect + crit * se,
        p=float(2 * special.stdtr(df, -abs(effect / se))) if se > 0 else math.nan,
        n_observations=n,
        n_staff=n_staff,
        n_teams=n_teams,
        converged=True,
        note=(
            "fell back to OLS with staff and period fixed effects (staff effects absorbed by demeaning, so "
            f"the comparison stays within staff) and {clustered}: {reason}"
        ),
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

    Falls back to OLS with staff and period fixed effects and SEs clustered by team
    (`_fixed_effects_ols`) when there are more than ``max_observations`` rows, when the fit does not
    converge within ``maxiter`` iterations, or when it fails; ``note`` says which. The fallback, like the
    mixed model, compares each person with themselves, so a difference at baseline between staff who
    are trained and staff who are not does not enter the effect (OLS with period effects alone would
    report that difference as an effect of training). With a single team, the team level is dropped.

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
        return _fixed_effects_ols(
            frame, confidence, f"{n} observations exceed the mixed-model limit of {max_observations}"
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
            return _fixed_effects_ols(
                frame, confidence, f"the mixed model did not converge within {maxiter} iterations"
            )
    except (np.linalg.LinAlgError, ValueError) as exc:
        return _fixed_effects_ols(frame, confidence, f"the mixed model failed ({exc})")
    effect, se = float(fit.fe_params["treated"]), float(fit.bse_fe["treated"])
    z = float(special.ndtri(1 - (1 - confidence) / 2))  # stats.norm.ppf's own function
    team_var = float(fit.cov_re.iloc[0, 0]) if n_teams >= 2 else None
    staff_var = float(fit.vcomp[0]) if n_teams >= 2 and len(fit.vcomp) else float(fit.cov_re.iloc[0, 0])
    return MixedResult(
        method="mixedlm",
        effect=effect,
        se=se,
        ci_low=effect - z * se,
        ci_high=effect + z * se,
        p=float(2 * special.ndtr(-abs(effect / se))) if se > 0 else math.nan,
        n_observations=n,
        n_staff=frame["staff"].nunique(),
        n_teams=n_teams,
        converged=True,
        note="" if n_teams >= 2 else "one team only: random intercepts for staff, no team level",
        team_variance=team_var,
        staff_variance=staff_var,
        residual_variance=float(fit.scale),
    )
