"""Agreement between raters: the reliability of managers' audits from double-audited referrals."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ._common import Result, numeric_column, require_columns
from .errors import AnalysisInputError

__all__ = [
    "AgreementResult",
    "agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "ratings_matrix",
]

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS = ("nominal", "ordinal", "interval", "ratio")


@dataclass(frozen=True)
class AgreementResult(Result):
    """Agreement statistics for one set of ratings; see `agreement`.

    Statistics that do not apply to the data are None, with the reason in ``notes``.
    """

    n_units: int
    n_raters: int
    n_ratings: int
    level: str
    cohen_kappa: float | None
    weighted_kappa_linear: float | None
    weighted_kappa_quadratic: float | None
    fleiss_kappa: float | None
    krippendorff_alpha: float | None
    n_pairable_units: int
    notes: dict[str, str] = field(default_factory=dict)


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct categories and each value's index among them (-1 for missing)."""
    present = ~pd.isna(values)
    categories = np.unique(values[present].astype(float if values.dtype.kind in "fiub" else object))
    codes = np.full(values.shape, -1, dtype=np.int64)
    codes[present] = np.searchsorted(categories, values[present])
    return categories, codes


def cohen_kappa(
    first: np.ndarray, second: np.ndarray, weights: Literal["linear", "quadratic"] | None = None
) -> float:
    """Cohen's kappa for two raters, optionally weighted (Cohen 1960; 1968).

    .. math:: \\kappa = \\frac{p_o - p_e}{1 - p_e},\\quad
        p_o = \\sum_{ij} w_{ij} p_{ij},\\quad p_e = \\sum_{ij} w_{ij} p_{i\\cdot} p_{\\cdot j}

    with agreement weights :math:`w_{ij} = 1` if i = j else 0 (unweighted),
    :math:`1 - |i - j| / (k - 1)` (linear) or :math:`1 - (i - j)^2 / (k - 1)^2` (quadratic), where i and j
    index the k categories either rater used, in sorted order. Indexing the observed categories matches
    R's ``irr::kappa2`` and ``sklearn.metrics.cohen_kappa_score``. Units missing either rating are
    ignored.

    Parameters
    ----------
    first, second : array_like
        The two raters' ratings of the same units.
    weights : {None, "linear", "quadratic"}
    """
    a = np.asarray(first)
    b = np.asarray(second)
    both = ~(pd.isna(a) | pd.isna(b))
    a, b = a[both], b[both]
    if len(a) == 0:
        return math.nan
    categories, codes = _codes(np.concatenate([a, b]))
    k = len(categories)
    if k < 2:
        return math.nan  # one category only: chance agreement is 1 and kappa is undefined
    table = np.zeros((k, k))
    np.add.at(table, (codes[: len(a)], codes[len(a) :]), 1)
    table /= table.sum()
    i, j = np.indices((k, k))
    if weights is None:
        w = (i == j).astype(float)
    elif weights == "linear":
        w = 1 - np.abs(i - j) / (k - 1)
    elif weights == "quadratic":
        w = 1 - (i - j) ** 2 / (k - 1) ** 2
    else:
        raise AnalysisInputError(f"unknown kappa weights {weights!r}; use linear or quadratic")
    p_o = float((w * table).sum())
    p_e = float((w * np.outer(table.sum(axis=1), table.sum(axis=0))).sum())
    return (p_o - p_e) / (1 - p_e) if p_e < 1 else math.nan


def fleiss_kappa(ratings: np.ndarray) -> float:
    """Fleiss' (1971) kappa for many raters; every unit must have the same number of ratings.

    With :math:`n_{ij}` the number of the m raters putting unit i in category j, N units:

    .. math::
        P_i = \\frac{\\sum_j n_{ij}^2 - m}{m (m - 1)},\\quad p_j = \\frac{\\sum_i n_{ij}}{N m},\\quad
        \\kappa = \\frac{\\bar P - \\sum_j p_j^2}{1 - \\sum_j p_j^2}

    Parameters
    ----------
    ratings : array_like, shape (units, raters)
        Categories; no missing values.

    References
    ----------
    Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological Bulletin
    76, 378-382.
    """
    ratings = np.asarray(ratings)
    if pd.isna(ratings).any():
        raise AnalysisInputError("Fleiss' kappa needs every unit rated by every rater")
    n_units, m = ratings.shape
    if m < 2 or n_units < 1:
        return math.nan
    categories, codes = _codes(ratings)
    counts = np.zeros((n_units, len(categories)))
    np.add.at(counts, (np.repeat(np.arange(n_units), m), codes.ravel()), 1)
    p_i = ((counts**2).sum(axis=1) - m) / (m * (m - 1))
    p_j = counts.sum(axis=0) / (n_units * m)
    p_e = float((p_j**2).sum())
    return (float(p_i.mean()) - p_e) / (1 - p_e) if p_e < 1 else math.nan


def krippendorff_alpha(ratings: np.ndarray, level: Level = "nominal") -> float:
    """Krippendorff's alpha from the coincidence matrix, allowing missing ratings.

    Units with fewer than two ratings carry no information about agreement and are ignored. For each
    remaining unit u with :math:`m_u` ratings, every ordered pair of its ratings adds
    :math:`1 / (m_u - 1)` to the coincidence matrix :math:`o_{ck}`; :math:`n_c = \\sum_k o_{ck}`,
    :math:`n = \\sum_c n_c`. Then

    .. math:: \\alpha = 1 - (n - 1) \\frac{\\sum_{c,k} o_{ck}\\, \\delta^2_{ck}}
                                        {\\sum_{c,k} n_c n_k\\, \\delta^2_{ck}}

    with the difference function :math:`\\delta^2` of the level of measurement: nominal
    :math:`[c \\ne k]`; ordinal :math:`(\\sum_{g=c}^{k} n_g - (n_c + n_k)/2)^2`; interval :math:`(c - k)^2`;
    ratio :math:`((c - k)/(c + k))^2`.

    Parameters
    ----------
    ratings : array_like, shape (units, raters)
        NaN (or None) for a missing rating. Ordinal, interval and ratio levels need numeric values.
    level : {"nominal", "ordinal", "interval", "ratio"}

    References
    ----------
    Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
    Communication, University of Pennsylvania. https://repository.upenn.edu/asc_papers/43
    """
    if level not in LEVELS:
        raise AnalysisInputError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")
    ratings = np.asarray(ratings)
    categories, codes = _codes(ratings)
    if level != "nominal" and categories.dtype == object:
        raise AnalysisInputError(f"the {level} level needs numeric ratings")
    k = len(categories)
    if level == "interval" and k >= 2:
        return _interval_alpha(np.where(codes >= 0, categories[np.maximum(codes, 0)], np.nan))
    n_units = ratings.shape[0]
    # counts[u, c]: how many of unit u's ratings fall in category c
    counts = np.zeros((n_units, max(k, 1)))
    rows, cols = np.nonzero(codes >= 0)
    np.add.at(counts, (rows, codes[rows, cols]), 1)
    m_u = counts.sum(axis=1)
    pairable = m_u >= 2
    counts, m_u = counts[pairable], m_u[pairable]
    if len(m_u) == 0 or k < 2:
        return math.nan
    # o_ck = sum_u (n_uc n_uk - [c = k] n_uc) / (m_u - 1): ordered pairs of different ratings in a unit
    scaled = counts / (m_u - 1)[:, None]
    coincidence = scaled.T @ counts - np.diag(scaled.sum(axis=0))
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    values = categories.astype(float) if categories.dtype != object else None
    c_idx, k_idx = np.indices((k, k))
    if level == "nominal":
        delta = (c_idx != k_idx).astype(float)
    elif level == "ordinal":
        cum = np.cumsum(n_c)
        lo, hi = np.minimum(c_idx, k_idx), np.maximum(c_idx, k_idx)
        # sum of n_g for g from the lower to the higher category, less half of each end category
        delta = (cum[hi] - cum[lo] + n_c[lo] - (n_c[lo] + n_c[hi]) / 2) ** 2
    elif level == "interval":
        delta = (values[:, None] - values[None, :]) ** 2
    else:
        total = values[:, None] + values[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            delta = np.where(total != 0, ((values[:, None] - values[None, :]) / total) ** 2, 0.0)
    expected = float((np.outer(n_c, n_c) * delta).sum())
    if expected == 0:
        return math.nan
    return 1 - (n - 1) * float((coincidence * delta).sum()) / expected


def _interval_alpha(values: np.ndarray) -> float:
    """Krippendorff's alpha at the interval level without the coincidence matrix.

    With :math:`\\delta^2_{ck} = (c - k)^2`, both sums of the alpha formula are sums of squared
    differences between pairs of ratings, and those are sums of squared deviations: over the ordered
    pairs within unit u, :math:`2 m_u \\sum_i (v_{ui} - \\bar v_u)^2`; over all ordered pairs of the n
    pairable ratings, :math:`2 n \\sum (v - \\bar v)^2`. The same alpha in O(ratings): audit scores
    have hundreds of distinct values, and the k x k matrix took most of the auditor agreement's time.
    ``values`` is units x raters, NaN for a missing rating.
    """
    present = ~np.isnan(values)
    m_u = present.sum(axis=1)
    pairable = m_u >= 2
    values, present, m_u = values[pairable], present[pairable], m_u[pairable]
    if len(m_u) == 0:
        return math.nan
    unit_mean = np.where(present, values, 0.0).sum(axis=1) / m_u
    within = (np.where(present, values - unit_mean[:, None], 0.0) ** 2).sum(axis=1)
    observed = float((2 * m_u * within / (m_u - 1)).sum())
    pooled = values[present]
    n = len(pooled)
    expected = 2 * n * float(((pooled - pooled.mean()) ** 2).sum())
    if expected == 0:
        return math.nan
    return 1 - (n - 1) * observed / expected


def ratings_matrix(data: pd.DataFrame, unit: str, rater: str, rating: str, *, numeric: bool) -> pd.DataFrame:
    """Pivot long ratings (one row per unit and rater) into a units x raters matrix, NaN for missing.

    A rater rating the same unit twice is an error rather than being averaged, because agreement is
    about single ratings.
    """
    require_columns(data, [unit, rater, rating])
    frame = data[[unit, rater, rating]].copy()
    if numeric:
        frame[rating] = numeric_column(frame, rating)
    else:
        frame[rating] = frame[rating].where(~frame[rating].astype("string").str.strip().isin(["", "<NA>"]))
    frame = frame.dropna(subset=[unit, rater])
    duplicated = frame.duplicated(subset=[unit, rater])
    if duplicated.any():
        row = frame[duplicated].iloc[0]
        raise AnalysisInputError(f"rater {row[rater]!r} rated unit {row[unit]!r} more than once")
    return frame.pivot(index=unit, columns=rater, values=rating)


def agreement(
    data: pd.DataFrame, unit: str, rater: str, rating: str, *, level: Level = "nominal"
) -> AgreementResult:
    """All agreement statistics that suit a set of ratings in long form.

    * Cohen's kappa and linear and quadratic weighted kappa: exactly two raters (units rated by both);
      weighted kappa needs numeric (ordered) ratings.
    * Fleiss' kappa: every unit rated by every rater (complete data), at least two raters.
    * Krippendorff's alpha at the requested level: any number of raters, missing ratings allowed.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per rating.
    unit, rater, rating : str
        Column names: the thing rated (e.g. a referral), who rated it, and the rating.
    level : {"nominal", "ordinal", "interval", "ratio"}
        Level of measurement for Krippendorff's alpha.

    Returns
    -------
    AgreementResult

    Raises
    ------
    AnalysisInputError
        For missing columns, non-numeric ratings at an ordered level, a rater rating a unit twice, fewer
        than two rated units or raters, or fewer than two units rated by at least two raters.
    """
    if level not in LEVELS:
        raise AnalysisInputError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")
    require_columns(data, [unit, rater, rating])
    raw = data[rating]
    is_numeric = pd.api.types.is_numeric_dtype(raw)
    if not is_numeric and level != "nominal":
        # ordered levels need numbers; numeric_column names the first offending value
        numeric_column(data, rating)
        is_numeric = True
    if not is_numeric:
        # Text that is all numbers (read as strings) is still treated as numbers.
        try:
            numeric_column(data, rating)
            is_numeric = True
        except AnalysisInputError:
            is_numeric = False
    matrix = ratings_matrix(data, unit, rater, rating, numeric=is_numeric)
    matrix = matrix.dropna(how="all")
    n_units, n_raters = matrix.shape
    if n_units < 2:
        raise AnalysisInputError(f"too few rated units: {n_units} (need at least 2)")
    if n_raters < 2:
        raise AnalysisInputError(f"too few raters: {n_raters} (need at least 2)")
    values = matrix.to_numpy(dtype=float if is_numeric else object)
    rated = ~pd.isna(values)
    n_pairable = int((rated.sum(axis=1) >= 2).sum())
    if n_pairable < 2:
        # Agreement is measured on units rated more than once; without two of them every statistic is
        # undefined, and a result of nulls would look like a successful analysis.
        raise AnalysisInputError(
            f"too few units rated by at least two raters: {n_pairable} (need at least 2)"
        )
    notes: dict[str, str] = {}
    categories = pd.unique(values[rated])
    if len(categories) == 1:
        only = categories[0]
        shown = f"{only:g}" if isinstance(only, (float, np.floating)) else str(only)
        notes["categories"] = (
            f"every rating is {shown!r}: with a single category, agreement expected by chance is complete, "
            "so kappa and alpha are undefined (null)"
        )

    kappa = linear = quadratic = None
    if n_raters == 2:
        kappa = cohen_kappa(values[:, 0], values[:, 1])
        if is_numeric:
            linear = cohen_kappa(values[:, 0], values[:, 1], "linear")
            quadratic = cohen_kappa(values[:, 0], values[:, 1], "quadratic")
        else:
            notes["weighted_kappa"] = "weighted kappa needs numeric, ordered ratings"
    else:
        notes["cohen_kappa"] = f"Cohen's and weighted kappa need exactly two raters; there are {n_raters}"

    fleiss = None
    if pd.isna(values).any():
        notes["fleiss_kappa"] = (
            "Fleiss' kappa needs every unit rated by every rater; some ratings are missing"
        )
    else:
        fleiss = fleiss_kappa(values)

    return AgreementResult(
        n_units=n_units,
        n_raters=n_raters,
        n_ratings=int((~pd.isna(values)).sum()),
        level=level,
        cohen_kappa=kappa,
        weighted_kappa_linear=linear,
        weighted_kappa_quadratic=quadratic,
        fleiss_kappa=fleiss,
        krippendorff_alpha=krippendorff_alpha(values, level),
        n_pairable_units=n_pairable,
        notes=notes,
    )
