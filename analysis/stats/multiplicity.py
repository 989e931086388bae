"""Multiple-comparison corrections for per-criterion effects (several rubric criteria, several courses)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._common import Result
from .errors import AnalysisInputError

__all__ = ["Adjusted", "benjamini_hochberg", "holm"]


@dataclass(frozen=True)
class Adjusted(Result):
    """Adjusted p-values (input order; NaN stays NaN and is not counted) and rejections at ``alpha``."""

    method: str
    alpha: float
    p_adjusted: tuple[float, ...]
    reject: tuple[bool, ...]


def _prepare(p_values) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p_values, dtype=float).ravel()
    finite = ~np.isnan(p)
    if np.any((p[finite] < 0) | (p[finite] > 1)):
        raise AnalysisInputError("p-values must be between 0 and 1")
    return p, finite


def holm(p_values, alpha: float = 0.05) -> Adjusted:
    """Holm's (1979) step-down adjustment, controlling the family-wise error rate.

    With the m p-values sorted ascending, :math:`p_{(1)} \\le \\dots \\le p_{(m)}`:

    .. math:: \\tilde p_{(i)} = \\min\\left(1, \\max_{j \\le i} (m - j + 1)\\, p_{(j)}\\right)

    Missing p-values (NaN) are left out of m and returned as NaN.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian Journal of
    Statistics 6, 65-70.
    """
    p, finite = _prepare(p_values)
    values = p[finite]
    m = len(values)
    order = np.argsort(values, kind="stable")
    scaled = (m - np.arange(m)) * values[order]
    # running maximum keeps adjusted p-values monotone in the sorted order (step-down)
    adjusted_sorted = np.minimum(1.0, np.maximum.accumulate(scaled))
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    out = np.full(p.shape, np.nan)
    out[finite] = adjusted
    return Adjusted("holm", alpha, tuple(out.tolist()), tuple(bool(x) for x in (out <= alpha)))


def benjamini_hochberg(p_values, alpha: float = 0.05) -> Adjusted:
    """Benjamini and Hochberg's (1995) step-up adjustment, controlling the false discovery rate.

    .. math:: \\tilde p_{(i)} = \\min\\left(1, \\min_{j \\ge i} \\frac{m}{j} p_{(j)}\\right)

    Missing p-values (NaN) are left out of m and returned as NaN.

    References
    ----------
    Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B 57, 289-300.
    """
    p, finite = _prepare(p_values)
    values = p[finite]
    m = len(values)
    order = np.argsort(values, kind="stable")
    scaled = m / np.arange(1, m + 1) * values[order]
    # running minimum from the largest p-value down (step-up)
    adjusted_sorted = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    out = np.full(p.shape, np.nan)
    out[finite] = adjusted
    return Adjusted("benjamini-hochberg", alpha, tuple(out.tolist()), tuple(bool(x) for x in (out <= alpha)))
