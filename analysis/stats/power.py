"""Power, minimum detectable effects and how many more observations an evaluation needs.

Exact calculations use the noncentral t distribution (two-sided tests, both rejection tails counted, as
``statsmodels.stats.power`` does). Clustering (audits within staff, staff within teams) inflates variance by
the design effect :math:`1 + (m - 1)\\rho` (Kish 1965), so the effective sample size is ``n / deff``.
"""

from __future__ import annotations

import math

from scipy import optimize, special

from .errors import AnalysisInputError

__all__ = [
    "additional_observations_needed",
    "design_effect",
    "further_observations_for_se",
    "paired_mde",
    "paired_n_for_effect",
    "paired_power",
    "two_group_mde",
    "two_group_n_for_effect",
    "two_group_power",
]


def _check(alpha: float, power: float | None = None) -> None:
    if not 0 < alpha < 1:
        raise AnalysisInputError("alpha must be between 0 and 1")
    if power is not None and not alpha < power < 1:
        raise AnalysisInputError("power must be above alpha and below 1")


def design_effect(cluster_size: float, icc: float) -> float:
    """Kish's design effect for equal clusters of size m with intraclass correlation rho: 1 + (m - 1) rho."""
    if cluster_size < 1:
        raise AnalysisInputError("cluster size must be at least 1")
    if not 0 <= icc <= 1:
        raise AnalysisInputError("the intraclass correlation must be between 0 and 1")
    return 1 + (cluster_size - 1) * icc


def _t_power(ncp: float, df: float, alpha: float) -> float:
    # scipy.special's functions, which stats.t.ppf and stats.nct.cdf call after checking their
    # arguments (about 80 us a call, and a root finder calls this some twenty times).
    crit = special.stdtrit(df, 1 - alpha / 2)
    value = float(1 - special.nctdtr(df, ncp, crit) + special.nctdtr(df, ncp, -crit))
    if math.isnan(value):
        # scipy's nct returns NaN for extreme noncentralities, where power is ~1 and the normal
        # approximation is accurate; root finders probe such points while bracketing.
        value = float(special.ndtr(ncp - crit) + special.ndtr(-crit - ncp))
    return value


def paired_power(d: float, n: float, alpha: float = 0.05) -> float:
    """Power of the two-sided paired t test for standardised effect d_z with n pairs.

    .. math:: 1 - \\beta = P(|T'| > t_{n-1, 1-\\alpha/2}), \\quad T' \\sim t'(n - 1, d\\sqrt{n})
    """
    _check(alpha)
    return _t_power(d * math.sqrt(n), n - 1, alpha)


def paired_mde(n: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest d_z the paired t test detects with the given power (solves `paired_power` for d)."""
    _check(alpha, power)
    if n < 2:
        raise AnalysisInputError("need at least 2 pairs")
    return optimize.brentq(lambda d: paired_power(d, n, alpha) - power, 1e-9, 50, xtol=1e-12)


def paired_n_for_effect(d: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Number of pairs needed to detect d_z (rounded up)."""
    _check(alpha, power)
    if d == 0 or not math.isfinite(d):
        raise AnalysisInputError("the effect to detect must be a non-zero number")
    n = optimize.brentq(lambda m: paired_power(abs(d), m, alpha) - power, 2, 1e9, xtol=1e-9)
    return math.ceil(n - 1e-9)


def two_group_power(
    d: float,
    n1: float,
    n2: float | None = None,
    alpha: float = 0.05,
    *,
    icc: float = 0.0,
    cluster_size: float = 1,
) -> float:
    """Power of the two-sided two-sample t test (or a two-period DiD on change scores) for effect d.

    Observations are clustered: each group's effective size is ``n / deff``. With effective sizes
    :math:`n_1', n_2'`, the noncentrality is :math:`d \\sqrt{n_1' n_2' / (n_1' + n_2')}` on
    :math:`n_1' + n_2' - 2` degrees of freedom.
    """
    _check(alpha)
    n2 = n1 if n2 is None else n2
    deff = design_effect(cluster_size, icc)
    e1, e2 = n1 / deff, n2 / deff
    return _t_power(d * math.sqrt(e1 * e2 / (e1 + e2)), e1 + e2 - 2, alpha)


def two_group_mde(
    n1: float,
    n2: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    *,
    icc: float = 0.0,
    cluster_size: float = 1,
) -> float:
    """Minimum detectable standardised difference between two groups (e.g. trained vs comparison)."""
    _check(alpha, power)
    return optimize.brentq(
        lambda d: two_group_power(d, n1, n2, alpha, icc=icc, cluster_size=cluster_size) - power,
        1e-9,
        50,
        xtol=1e-12,
    )


def two_group_n_for_effect(
    d: float,
    alpha: float = 0.05,
    power: float = 0.8,
    *,
    ratio: float = 1.0,
    icc: float = 0.0,
    cluster_size: float = 1,
) -> int:
    """Observations needed in group 1 (group 2 has ``ratio`` times as many) to detect effect d."""
    _check(alpha, power)
    if d == 0 or not math.isfinite(d):
        raise AnalysisInputError("the effect to detect must be a non-zero number")
    n = optimize.brentq(
        lambda m: two_group_power(abs(d), m, ratio * m, alpha, icc=icc, cluster_size=cluster_size) - power,
        1.5 * design_effect(cluster_size, icc) + 1e-6,
        1e9,
        xtol=1e-9,
    )
    return math.ceil(n - 1e-9)


def further_observations_for_se(
    se: float, n: int, effect: float, alpha: float = 0.05, power: float = 0.8
) -> int:
    """How many more observations would make an estimate with standard error ``se`` from ``n``
    observations able to detect ``effect`` (normal approximation).

    The minimum detectable effect is :math:`(z_{1-\\alpha/2} + z_{power})\\, SE` (Bloom 1995) and SE falls
    as :math:`1/\\sqrt{n}`, so :math:`n_{needed} = n (SE (z_{1-\\alpha/2} + z_{power}) / effect)^2`.
    Works for any estimator whose SE scales that way (a paired mean, a DiD ATT, a mixed-model effect),
    assuming new observations resemble the old ones.
    """
    _check(alpha, power)
    if effect == 0 or not math.isfinite(effect) or not math.isfinite(se) or se <= 0 or n < 1:
        raise AnalysisInputError(
            "need a positive standard error, at least 1 observation and a non-zero effect"
        )
    multiplier = special.ndtri(1 - alpha / 2) + special.ndtri(power)  # stats.norm.ppf's own function
    needed = n * (se * multiplier / abs(effect)) ** 2
    return max(0, math.ceil(needed - n - 1e-9))


def additional_observations_needed(
    effect: float,
    sd: float,
    n_current: int,
    *,
    design: str = "paired",
    alpha: float = 0.05,
    power: float = 0.8,
    icc: float = 0.0,
    cluster_size: float = 1,
) -> int:
    """Further observations needed to detect a raw ``effect`` given the outcome's ``sd``.

    ``design="paired"``: ``sd`` is the SD of the differences and observations are pairs.
    ``design="two_group"``: ``sd`` is the outcome SD within groups, observations are counted in total
    over two equal groups, clustered with the given ``icc`` and ``cluster_size``.
    Returns 0 when the current sample is already enough.
    """
    if sd <= 0 or not math.isfinite(sd):
        raise AnalysisInputError("the standard deviation must be positive")
    d = abs(effect) / sd
    if design == "paired":
        needed = paired_n_for_effect(d, alpha, power)
    elif design == "two_group":
        needed = 2 * two_group_n_for_effect(d, alpha, power, icc=icc, cluster_size=cluster_size)
    else:
        raise AnalysisInputError(f"unknown design {design!r}; use paired or two_group")
    return max(0, needed - int(n_current))
