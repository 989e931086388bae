"""Paired (before/after) change for one group of people: Kirkpatrick levels 2a and 2b.

Every function takes a DataFrame and column names and returns a frozen result; nothing here touches the
database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ._common import Result, numeric_column, require_columns
from .errors import AnalysisInputError

__all__ = [
    "PairedResult",
    "ReliableChange",
    "d_z_confidence_interval",
    "hake_gain",
    "paired_change",
    "reliable_change",
]


@dataclass(frozen=True)
class ReliableChange(Result):
    """Reliable Change Index (Jacobson and Truax 1991) for each person, with counts.

    Attributes
    ----------
    reliability : float
        The reliability ``r`` used (for example Cronbach's alpha of the scale).
    se_diff : float
        Standard error of a difference score, ``SD_pre * sqrt(2) * sqrt(1 - r)``.
    criterion : float
        Two-sided critical value (1.96 for 95%).
    n_improved, n_unchanged, n_worse : int
        People whose RCI passes the criterion in the better direction, neither, or the worse direction.
    rci : tuple of float
        One RCI per analysed pair, in input order (left out of ``to_dict()``).
    """

    reliability: float
    se_diff: float
    criterion: float
    n_improved: int
    n_unchanged: int
    n_worse: int
    share_improved: float
    share_worse: float
    rci: tuple[float, ...] = ()

    _exclude_from_dict = ("rci",)


@dataclass(frozen=True)
class PairedResult(Result):
    """Paired change, after minus before. See `paired_change` for definitions."""

    n: int
    n_dropped: int
    mean_before: float
    mean_after: float
    sd_before: float
    sd_after: float
    mean_diff: float
    sd_diff: float
    se_diff: float
    ci_low: float
    ci_high: float
    confidence: float
    t: float
    df: int
    p: float
    wilcoxon_statistic: float
    wilcoxon_p: float
    d_z: float
    d_z_ci_low: float
    d_z_ci_high: float
    d_av: float
    g_av: float
    hake_gain: float | None = None
    reliable_change: ReliableChange | None = None


def d_z_confidence_interval(d_z: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact confidence interval for Cohen's d_z by inverting the noncentral t distribution.

    The paired t statistic is ``t = d_z * sqrt(n)`` and follows a noncentral t with ``n - 1`` degrees of
    freedom and noncentrality ``delta = d_z_true * sqrt(n)``. The limits are the noncentralities that put
    the observed t at the upper and lower ``(1 - confidence) / 2`` tails (Steiger and Fouladi 1997;
    Cumming and Finch 2001), divided by ``sqrt(n)``.

    Parameters
    ----------
    d_z : float
        Observed standardised mean difference, mean of differences over their SD.
    n : int
        Number of pairs (at least 2).
    confidence : float
        Coverage of the interval.

    Returns
    -------
    (low, high) : tuple of float
        NaN when ``d_z`` is not finite.

    Examples
    --------
    >>> low, high = d_z_confidence_interval(0.5, 30)
    >>> round(low, 3), round(high, 3)
    (0.116, 0.876)
    """
    if not math.isfinite(d_z) or n < 2:
        return (math.nan, math.nan)
    df = n - 1
    t_obs = d_z * math.sqrt(n)
    tail = (1 - confidence) / 2

    def limit(target: float) -> float:
        # nct.cdf(t_obs; delta) falls monotonically as delta rises, so widen a bracket until it straddles
        # the target, then solve; a fixed bracket fails for large |t|.
        def f(delta: float) -> float:
            # scipy.special's function, which stats.nct.cdf calls after checking its arguments (25
            # times quicker, and the same values: this runs a hundred times per report).
            value = float(special.nctdtr(df, delta, t_obs))
            if math.isnan(value):
                # scipy's nct.cdf can return NaN far in a tail, where the true value is 0 or 1
                value = 0.0 if delta > t_obs else 1.0
            return value - target

        # The limits lie within a few standard errors of t, whose SD is about sqrt(1 + t^2 / (2 df)).
        width = 4.0 * math.sqrt(1 + t_obs**2 / (2 * df)) + 1.0
        low, high = t_obs - width, t_obs + width
        for _ in range(60):
            if f(low) > 0 > f(high):
                break
            width *= 1.5
            low, high = t_obs - width, t_obs + width
        return optimize.brentq(f, low, high, xtol=1e-12, rtol=1e-12, maxiter=500)

    delta_low = limit(1 - tail)
    delta_high = limit(tail)
    return (delta_low / math.sqrt(n), delta_high / math.sqrt(n))


def hake_gain(mean_before: float, mean_after: float, max_score: float) -> float:
    """Hake's (1998) class-average normalised gain.

    .. math:: \\langle g \\rangle = (\\bar{x}_{post} - \\bar{x}_{pre}) / (\\text{max} - \\bar{x}_{pre})

    The share of the possible improvement that was achieved. For percentage scores ``max_score = 100``.
    NaN when the group started at the maximum (nothing left to gain).
    """
    room = max_score - mean_before
    if room <= 0:
        return math.nan
    return (mean_after - mean_before) / room


def reliable_change(
    before: np.ndarray,
    after: np.ndarray,
    reliability: float,
    *,
    confidence: float = 0.95,
    higher_is_better: bool = True,
    sd_before: float | None = None,
) -> ReliableChange:
    """Reliable Change Index per person (Jacobson and Truax 1991).

    .. math::
        SE_{diff} = SD_{pre} \\sqrt{2} \\sqrt{1 - r}, \\qquad RCI_i = (x_{post,i} - x_{pre,i}) / SE_{diff}

    A person changed reliably when ``|RCI| > z_{1 - (1 - confidence)/2}`` (1.96 at 95%): a change larger
    than measurement error alone would produce 95% of the time.

    Parameters
    ----------
    before, after : array_like
        Paired scores (no missing values).
    reliability : float
        Reliability of the measure in [0, 1), e.g. Cronbach's alpha or a test-retest correlation.
    higher_is_better : bool
        Whether a rise counts as improvement (False for, e.g., victim-blaming attitude scales).
    sd_before : float, optional
        SD of the pre-test in a reference population; by default the sample's own.
    """
    if not 0 <= reliability < 1:
        raise AnalysisInputError("reliability must be at least 0 and below 1")
    before = np.asarray(before, dtype=float)
    after = np.asarray(after, dtype=float)
    sd = float(np.std(before, ddof=1)) if sd_before is None else float(sd_before)
    se_diff = sd * math.sqrt(2) * math.sqrt(1 - reliability)
    criterion = float(special.ndtri(1 - (1 - confidence) / 2))  # stats.norm.ppf's own function
    diff = after - before
    with np.errstate(divide="ignore", invalid="ignore"):
        rci = diff / se_diff if se_diff > 0 else np.full_like(diff, np.nan)
    sign = 1.0 if higher_is_better else -1.0
    improved = int(np.sum(sign * rci > criterion))
    worse = int(np.sum(sign * rci < -criterion))
    n = len(diff)
    return ReliableChange(
        reliability=float(reliability),
        se_diff=se_diff,
        criterion=criterion,
        n_improved=improved,
        n_unchanged=n - improved - worse,
        n_worse=worse,
        share_improved=improved / n if n else math.nan,
        share_worse=worse / n if n else math.nan,
        rci=tuple(rci.tolist()),
    )


def _wilcoxon(diff: np.ndarray) -> tuple[float, float]:
    """Wilcoxon signed-rank test on ``diff`` as R's ``wilcox.test(after, before, paired = TRUE)`` reports it.

    Returns ``(V, p)``. ``V`` is R's statistic: the sum of the ranks of ``|d|`` over the positive
    differences (after minus before), after dropping zero differences; ties share their average rank.
    It is not scipy's two-sided statistic, which is ``min(V, n(n + 1)/2 - V)``.

    The p-value follows R's default choice (``exact = NULL``, ``correct = TRUE``): with fewer than 50
    non-zero differences and no ties or zeros, the exact null distribution of V (two-sided: twice the
    smaller tail, at most 1), which scipy's ``method="exact"`` computes; otherwise the normal
    approximation with zeros dropped, the tie-corrected variance
    :math:`n(n+1)(2n+1)/24 - \\sum (t^3 - t)/48` and a continuity correction of 0.5 towards the mean,
    which scipy's ``method="approx", correction=True`` computes on the non-zero differences. (R 4.x
    prints "cannot compute exact p-value with ties/zeroes" in that case.) V is symmetric about its mean, so
    using scipy's min statistic for the p-value gives R's p-value.

    Differences are rounded to 10 decimals first so that floating-point noise (0.7 - 1.9 versus
    -0.2 - 1.0) does not split real ties; R ranks the raw doubles, so on such data R can see no tie and
    use a slightly different variance.
    """
    d = np.round(diff, 10)
    nonzero = d[d != 0]
    if len(nonzero) == 0:
        return (math.nan, math.nan)
    ranks = stats.rankdata(np.abs(nonzero))
    v = float(ranks[nonzero > 0].sum())
    ties = len(np.unique(ranks)) < len(ranks)
    exact = len(nonzero) < 50 and len(nonzero) == len(d) and not ties
    if exact:
        return (v, float(stats.wilcoxon(nonzero, method="exact").pvalue))
    # The normal approximation from the ranks already worked out (scipy's would rank them again).
    n = len(nonzero)
    _, tie_sizes = np.unique(ranks, return_counts=True)
    sd = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - float((tie_sizes**3 - tie_sizes).sum()) / 48)
    if sd == 0:
        return (v, math.nan)
    off_centre = v - n * (n + 1) / 4
    z = (abs(off_centre) - (0.5 if off_centre else 0.0)) / sd
    return (v, min(1.0, math.erfc(z / math.sqrt(2))))


def paired_change(
    data: pd.DataFrame,
    before: str,
    after: str,
    *,
    confidence: float = 0.95,
    max_score: float | None = None,
    reliability: float | None = None,
    higher_is_better: bool = True,
) -> PairedResult:
    """Change from ``before`` to ``after`` in the same people.

    Pairs with either side missing are dropped and counted in ``n_dropped``.

    With differences :math:`d_i = after_i - before_i`, mean :math:`\\bar d`, SD :math:`s_d`, n pairs:

    * mean difference and its CI: :math:`\\bar d \\pm t_{n-1, 1-\\alpha/2} s_d / \\sqrt n`;
    * paired t: :math:`t = \\bar d / (s_d / \\sqrt n)`, df = n - 1, two-sided p;
    * Wilcoxon signed-rank test on :math:`d_i`, as R's ``wilcox.test(paired = TRUE)`` reports it
      (`_wilcoxon`): the statistic is R's V, the sum of the ranks of the positive differences;
    * Cohen's :math:`d_z = \\bar d / s_d` with an exact CI from the noncentral t
      (`d_z_confidence_interval`);
    * :math:`d_{av} = \\bar d / ((s_{before} + s_{after}) / 2)` and Hedges' :math:`g_{av} = d_{av} J`
      with :math:`J = 1 - 3 / (4 (2n) - 9)`, as Lakens (2013, eq. 4 applied to d_av) recommends;
    * Hake's normalised gain when ``max_score`` is given (`hake_gain`);
    * the Reliable Change Index per person when ``reliability`` is given (`reliable_change`).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person.
    before, after : str
        Column names of the two measurements.
    confidence : float
        Coverage of all intervals.
    max_score : float, optional
        Maximum possible score (100 for percentages), for Hake's gain.
    reliability : float, optional
        Reliability of the measure, for the Reliable Change Index.
    higher_is_better : bool
        Direction of improvement for the Reliable Change counts.

    Returns
    -------
    PairedResult

    References
    ----------
    Lakens, D. (2013). Calculating and reporting effect sizes to facilitate cumulative science.
    Frontiers in Psychology 4, 863. Jacobson, N. S. and Truax, P. (1991). Clinical significance.
    J. Consulting and Clinical Psychology 59, 12-19. Hake, R. R. (1998). Am. J. Physics 66, 64-74.

    Examples
    --------
    >>> frame = pd.DataFrame({"pre": [50, 60, 55, 70, 65], "post": [58, 66, 57, 79, 70]})
    >>> result = paired_change(frame, "pre", "post")
    >>> result.mean_diff, result.n
    (6.0, 5)
    """
    require_columns(data, [before, after])
    x = numeric_column(data, before).to_numpy()
    y = numeric_column(data, after).to_numpy()
    keep = ~(np.isnan(x) | np.isnan(y))
    n_dropped = int(np.sum(~keep))
    x, y = x[keep], y[keep]
    n = len(x)
    if n < 2:
        raise AnalysisInputError(
            f"too few complete pairs: {n} with both {before!r} and {after!r} (need at least 2)"
        )
    diff = y - x
    mean_diff = float(diff.mean())
    sd_diff = float(diff.std(ddof=1))
    se = sd_diff / math.sqrt(n)
    df = n - 1
    t_crit = float(special.stdtrit(df, 1 - (1 - confidence) / 2))  # stats.t.ppf's own function
    if se > 0:
        t_stat = mean_diff / se
        p = float(2 * stats.t.sf(abs(t_stat), df))
        d_z = mean_diff / sd_diff
    else:
        # Every difference is identical: the t statistic is undefined rather than infinite evidence.
        t_stat, p, d_z = math.nan, math.nan, math.nan
    d_low, d_high = d_z_confidence_interval(d_z, n, confidence)

    w_stat, w_p = _wilcoxon(diff)

    sd_before = float(x.std(ddof=1))
    sd_after = float(y.std(ddof=1))
    sd_av = (sd_before + sd_after) / 2
    d_av = mean_diff / sd_av if sd_av > 0 else math.nan
    # Lakens (2013) corrects d_av with the between-subjects form of Hedges' J, taking n1 + n2 = 2n.
    g_av = d_av * (1 - 3 / (4 * (2 * n) - 9))

    return PairedResult(
        n=n,
        n_dropped=n_dropped,
        mean_before=float(x.mean()),
        mean_after=float(y.mean()),
        sd_before=sd_before,
        sd_after=sd_after,
        mean_diff=mean_diff,
        sd_diff=sd_diff,
        se_diff=se,
        ci_low=mean_diff - t_crit * se,
        ci_high=mean_diff + t_crit * se,
        confidence=confidence,
        t=t_stat,
        df=df,
        p=p,
        wilcoxon_statistic=w_stat,
        wilcoxon_p=w_p,
        d_z=d_z,
        d_z_ci_low=d_low,
        d_z_ci_high=d_high,
        d_av=d_av,
        g_av=g_av,
        hake_gain=None if max_score is None else hake_gain(float(x.mean()), float(y.mean()), max_score),
        reliable_change=(
            None
            if reliability is None
            else reliable_change(x, y, reliability, confidence=confidence, higher_is_better=higher_is_better)
        ),
    )
