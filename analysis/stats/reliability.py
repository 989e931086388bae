"""Internal consistency of a questionnaire scale or a test: Cronbach's alpha and item statistics."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from ._common import Result, numeric_column, require_columns
from .errors import AnalysisInputError

__all__ = ["ItemStatistics", "ReliabilityResult", "alpha_coefficient", "cronbach_alpha", "feldt_interval"]


@dataclass(frozen=True)
class ItemStatistics(Result):
    """One item of a scale.

    Attributes
    ----------
    item : str
        Column name.
    mean : float
        Item mean over the analysed respondents.
    difficulty : float or None
        Proportion correct for 0/1 items, otherwise mean / maximum score (None when no maximum is known).
    item_rest_correlation : float
        Pearson correlation of the item with the sum of the other items (the "corrected" item-total
        correlation, which does not count the item against itself).
    alpha_if_deleted : float
        Alpha of the scale without this item.
    """

    item: str
    mean: float
    difficulty: float | None
    item_rest_correlation: float
    alpha_if_deleted: float


@dataclass(frozen=True)
class ReliabilityResult(Result):
    """Cronbach's alpha with its Feldt interval; see `cronbach_alpha`."""

    n: int
    n_dropped: int
    n_items: int
    alpha: float
    alpha_ci_low: float
    alpha_ci_high: float
    confidence: float
    items: tuple[ItemStatistics, ...]


def alpha_coefficient(values: np.ndarray) -> float:
    """Cronbach's alpha of complete answers (a row per respondent, a column per item), alone:
    NaN when the total score does not vary. `cronbach_alpha` checks its input and adds the
    interval and item statistics."""
    k = values.shape[1]
    item_var = values.var(axis=0, ddof=1).sum()
    total_var = values.sum(axis=1).var(ddof=1)
    if k < 2 or total_var <= 0:
        return math.nan
    return k / (k - 1) * (1 - item_var / total_var)


def feldt_interval(alpha: float, n: int, k: int, confidence: float = 0.95) -> tuple[float, float]:
    """Feldt (1965) confidence interval for Cronbach's alpha.

    ``(1 - alpha_true) / (1 - alpha_hat)`` follows an F distribution with ``n - 1`` and
    ``(n - 1)(k - 1)`` degrees of freedom, so

    .. math:: [1 - (1 - \\hat\\alpha) F_{1-\\gamma/2},\\; 1 - (1 - \\hat\\alpha) F_{\\gamma/2}]

    with :math:`\\gamma = 1 - confidence` (Feldt, Woodruff and Salih 1987, eq. 3).

    References
    ----------
    Feldt, L. S. (1965). The approximate sampling distribution of Kuder-Richardson reliability
    coefficient twenty. Psychometrika 30, 357-370.
    """
    if not math.isfinite(alpha) or n < 2 or k < 2:
        return (math.nan, math.nan)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - confidence) / 2
    return (
        # scipy.special's function, which stats.f.ppf calls after checking its arguments.
        1 - (1 - alpha) * float(special.fdtri(df1, df2, 1 - tail)),
        1 - (1 - alpha) * float(special.fdtri(df1, df2, tail)),
    )


def cronbach_alpha(
    data: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    confidence: float = 0.95,
    max_score: float | Mapping[str, float] | None = None,
) -> ReliabilityResult:
    """Cronbach's alpha of a set of items, with the Feldt interval and item statistics.

    .. math:: \\alpha = \\frac{k}{k-1} \\left(1 - \\frac{\\sum_j s_j^2}{s_X^2}\\right)

    where :math:`s_j^2` is the variance of item j and :math:`s_X^2` the variance of the total score
    (sample variances, ddof = 1). Respondents missing any item are dropped (listwise deletion) and
    counted in ``n_dropped``: alpha is defined on complete response vectors.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent, one column per item (numeric).
    columns : sequence of str, optional
        Item columns; default every column.
    confidence : float
        Coverage of the Feldt interval.
    max_score : float or mapping, optional
        Maximum item score (one for all items, or per item) for the difficulty index. Items scored 0/1
        need none: their difficulty is the proportion correct.

    Returns
    -------
    ReliabilityResult

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests. Psychometrika 16,
    297-334. Feldt, L. S. (1965), see `feldt_interval`.

    Examples
    --------
    >>> frame = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4]})
    >>> round(cronbach_alpha(frame).alpha, 3)
    0.954
    """
    columns = list(data.columns) if columns is None else list(columns)
    require_columns(data, columns)
    if len(columns) < 2:
        raise AnalysisInputError(f"need at least 2 items for Cronbach's alpha, got {len(columns)}")
    frame = pd.DataFrame({c: numeric_column(data, c) for c in columns})
    complete = frame.dropna()
    n = len(complete)
    if n < 2:
        raise AnalysisInputError(f"too few complete respondents: {n} (need at least 2)")
    values = complete.to_numpy(dtype=float)
    k = values.shape[1]
    alpha = alpha_coefficient(values)
    low, high = feldt_interval(alpha, n, k, confidence)

    total = values.sum(axis=1)
    items = []
    for j, name in enumerate(columns):
        col = values[:, j]
        rest = total - col
        with np.errstate(invalid="ignore", divide="ignore"):
            r = float(np.corrcoef(col, rest)[0, 1]) if col.std() > 0 and rest.std() > 0 else math.nan
        if np.isin(col, (0.0, 1.0)).all():
            difficulty: float | None = float(col.mean())
        elif max_score is not None:
            top = max_score[name] if isinstance(max_score, Mapping) else max_score
            difficulty = float(col.mean() / top)
        else:
            difficulty = None
        items.append(
            ItemStatistics(
                item=str(name),
                mean=float(col.mean()),
                difficulty=difficulty,
                item_rest_correlation=r,
                alpha_if_deleted=alpha_coefficient(np.delete(values, j, axis=1)) if k > 2 else math.nan,
            )
        )
    return ReliabilityResult(
        n=n,
        n_dropped=len(frame) - n,
        n_items=k,
        alpha=alpha,
        alpha_ci_low=low,
        alpha_ci_high=high,
        confidence=confidence,
        items=tuple(items),
    )
