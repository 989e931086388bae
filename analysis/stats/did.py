"""Staggered difference-in-differences (Callaway and Sant'Anna 2021) for practice change (level 3).

Staff are trained at different times, so the two-way fixed-effects regression is biased (it uses already
trained staff as controls and can give negative weights to some effects). Instead each training cohort g
is compared, period by period, with staff who are never trained or not yet trained, giving group-time
average treatment effects ATT(g, t), which are then averaged in a few interpretable ways.

The estimator here is the unconditional one (no covariates), for panel data. Audits are irregular, so
several audits of one person in one period are first averaged, and people may be missing periods: each
ATT(g, t) uses the people observed in both of the periods it compares.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Literal

import numpy as np
import pandas as pd

from ._common import Result, numeric_column, require_columns
from .errors import AnalysisInputError

__all__ = [
    "DidAggregate",
    "DidResult",
    "EventTimeEffect",
    "GroupEffect",
    "GroupTimeEffect",
    "staggered_did",
    "staggered_did_each",
]

Control = Literal["never-treated", "not-yet-treated"]
CONTROLS = ("never-treated", "not-yet-treated")


@dataclass(frozen=True)
class GroupTimeEffect(Result):
    """ATT(g, t): the effect in period ``time`` for the cohort first treated in period ``group``.

    ``base_period`` is the period the change is measured from: the last period before treatment for
    post-treatment cells (a "long difference"), the period just before ``time`` for pre-treatment cells
    (the "varying" base period of the R package ``did``), so pre-treatment cells test parallel trends
    one step at a time. ``treated_change`` and ``comparison_change`` are the two mean changes whose
    difference is ``att``; their SEs use the usual ``s / sqrt(n)``.
    """

    group: int
    time: int
    event_time: int
    base_period: int
    post: bool
    att: float
    se: float
    ci_low: float
    ci_high: float
    n_treated: int
    n_comparison: int
    treated_change: float
    treated_change_se: float
    comparison_change: float
    comparison_change_se: float


@dataclass(frozen=True)
class DidAggregate(Result):
    """A summary effect with its standard error and pointwise confidence interval."""

    att: float
    se: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class EventTimeEffect(Result):
    """Average effect ``event_time`` periods after training (negative: before, for parallel trends)."""

    event_time: int
    att: float
    se: float
    ci_low: float
    ci_high: float
    n_groups: int


@dataclass(frozen=True)
class GroupEffect(Result):
    """Average post-training effect for one cohort."""

    group: int
    att: float
    se: float
    ci_low: float
    ci_high: float
    n_units: int


@dataclass(frozen=True)
class DidResult(Result):
    """Result of `staggered_did`.

    ``aggregations`` has keys ``simple`` (post-treatment ATT(g, t) weighted by cohort size), ``group``
    (cohort averages weighted by cohort size) and ``dynamic`` (mean over event times 0, 1, ...).
    """

    att_gt: tuple[GroupTimeEffect, ...]
    aggregations: dict[str, DidAggregate]
    event_study: tuple[EventTimeEffect, ...]
    group_effects: tuple[GroupEffect, ...]
    control: str
    confidence: float
    n_units: int
    n_treated_units: int
    n_never_treated_units: int
    n_observations: int
    n_unit_periods: int
    periods: tuple[int, ...]
    cohorts: tuple[int, ...]
    n_always_treated_dropped: int
    n_cells_skipped: int
    notes: tuple[str, ...] = field(default_factory=tuple)


def _integer_valued(values: np.ndarray, column: str) -> np.ndarray:
    finite = values[np.isfinite(values)]
    if np.any(finite != np.round(finite)):
        example = finite[finite != np.round(finite)][0]
        raise AnalysisInputError(f"column {column!r} must hold whole-number periods; found {example:g}")
    return values


def _small_sample(n: int) -> float:
    return math.sqrt(n / (n - 1)) if n > 1 else 1.0


def _no_correction(n: int) -> float:
    return 1.0


def _weighted_aggregates(
    member: np.ndarray,
    att: np.ndarray,
    influence: np.ndarray,
    cell_cohort: np.ndarray,
    unit_cohort: np.ndarray,
    cohort_share: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Averages of ATT(g, t) weighted by cohort share, and their influence functions, for several
    aggregates and outcomes at once: row a of ``member`` (aggregates x cells, boolean) picks
    aggregate a's cells; ``att`` is outcomes x cells and ``influence`` cells x outcomes x units.
    Returns the estimates (outcomes x aggregates) and their influence functions (aggregates x
    outcomes x units).

    The weights ``p_g / sum p_g`` are estimated (cohort shares in the sample), so their own influence
    function is added, as in Callaway and Sant'Anna (2021, Appendix) and ``did::aggte``'s ``wif``. For
    weights :math:`w_k = p_{g(k)} / S` the term reduces to, for unit i in cohort G_i,

    .. math:: (A_i - B_i \\hat\\theta) / S,

    where :math:`A_i` sums the ATTs of the cells belonging to unit i's cohort, :math:`B_i` counts them and
    :math:`S = \\sum_k p_{g(k)}`. That avoids building a units x cells indicator matrix.
    """
    weights = member * cohort_share[cell_cohort]
    total = weights.sum(axis=1)
    weights /= total[:, None]
    estimate = att @ weights.T
    in_cohort = (cell_cohort[:, None] == np.arange(len(cohort_share))).astype(float)  # cells x cohorts
    sum_att = (member[:, None, :] * att[None, :, :]) @ in_cohort  # aggregates x outcomes x cohorts
    count = member @ in_cohort  # aggregates x cohorts
    # The term for a unit of each cohort, and a last column of zeros for untreated units (cohort -1).
    per_cohort = np.zeros((len(member), att.shape[0], len(cohort_share) + 1))
    per_cohort[:, :, :-1] = (sum_att - count[:, None, :] * estimate.T[:, :, None]) / total[:, None, None]
    psi = np.tensordot(weights, influence, axes=(1, 0))
    psi += per_cohort[:, :, unit_cohort]
    return estimate, psi


def staggered_did(
    data: pd.DataFrame,
    unit: str,
    time: str,
    outcome: str,
    first_treated: str,
    *,
    control: Control = "never-treated",
    confidence: float = 0.95,
    drop_uncomparable_cohorts: bool = False,
    small_sample_correction: bool = True,
) -> DidResult:
    """Callaway and Sant'Anna (2021) staggered difference-in-differences, without covariates.

    For cohort g (units first treated in period g) and period t, with base period b (the last period
    before g when t >= g; the period before t when t < g) and :math:`\\Delta Y_i = Y_{it} - Y_{ib}`:

    .. math:: ATT(g, t) = \\overline{\\Delta Y}_{G = g} - \\overline{\\Delta Y}_{C}

    where C is the comparison group: never-treated units, or (``not-yet-treated``) units with
    :math:`G = 0` or :math:`G > \\max(t, b)` and :math:`G \\ne g` -- units untreated in both periods
    compared. Only units observed in both periods enter a cell. The influence function of a cell, for
    N units in the sample, is :math:`(N / n_g)(\\Delta Y_i - \\overline{\\Delta Y}_g)` for treated units,
    :math:`-(N / n_C)(\\Delta Y_i - \\overline{\\Delta Y}_C)` for comparison units and 0 otherwise, so
    :math:`SE = \\sqrt{\\sum_i \\psi_i^2} / N`; one row per unit makes the standard error clustered by
    unit. With ``small_sample_correction`` (the default) each group's part of :math:`\\psi` is multiplied by
    :math:`\\sqrt{n / (n - 1)}`, so a single 2 x 2 comparison's SE is the Welch SE
    :math:`\\sqrt{s_t^2 / n_t + s_c^2 / n_c}` with unbiased variances, as Card and Krueger (1994) report;
    without it the SEs are those of the R package ``did`` (``att_gt(..., bstrap = FALSE)`` and
    ``aggte(..., bstrap = FALSE)``), which divide by n, exactly. The two differ by a factor between 1
    and :math:`\\sqrt{n / (n - 1)}` for the smallest group in a cell (at most 2.6% for a cohort of 20,
    0.3% for 150).
    Aggregations (weights proportional to cohort size; see `_weighted_aggregate`):

    * ``simple``: all post-treatment cells (t >= g), weighted by cohort share;
    * ``group``: each cohort's mean over its post-treatment cells, then weighted by cohort share;
    * ``dynamic``: the event-time effects :math:`\\theta(e)` (cells with t - g = e, weighted by cohort
      share), averaged over e >= 0; ``event_study`` lists every :math:`\\theta(e)` including e < 0.

    Intervals are pointwise normal ones. Units treated in or before the first period have no
    pre-treatment data and are dropped; cohorts first treated after the last period are never treated
    within the data and are counted as never treated.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data: one row per observation (e.g. per audit). Several rows for a unit in a period are
        averaged first.
    unit, time, outcome, first_treated : str
        Column names. ``time`` holds whole-number periods; ``first_treated`` the period in which the unit
        was first treated, 0 or missing for never treated, constant within unit.
    control : {"never-treated", "not-yet-treated"}
    confidence : float
        Coverage of the intervals.
    drop_uncomparable_cohorts : bool
        If False (default), a cohort with no comparison units in any post-treatment period is an error;
        if True it is dropped with a note.
    small_sample_correction : bool
        If True (default), the :math:`\\sqrt{n / (n - 1)}` factor above (Welch SE for a 2 x 2, as Card and
        Krueger report); if False, the analytic SEs of R's ``did`` package. The default keeps the issue's
        Card and Krueger check (SE 1.34, through the command) exact; the R form gives 1.334 there.

    Returns
    -------
    DidResult

    Raises
    ------
    AnalysisInputError
        For missing columns, non-numeric values, a first-treated period that varies within a unit, no
        treated units, too few units, or a cohort without a comparison group.

    References
    ----------
    Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time periods.
    Journal of Econometrics 225(2), 200-230.
    """
    result = staggered_did_each(
        data,
        unit,
        time,
        [outcome],
        first_treated,
        control=control,
        confidence=confidence,
        drop_uncomparable_cohorts=drop_uncomparable_cohorts,
        small_sample_correction=small_sample_correction,
    )[outcome]
    if isinstance(result, AnalysisInputError):
        raise result
    return result


def staggered_did_each(
    data: pd.DataFrame,
    unit: str,
    time: str,
    outcomes: Sequence[str],
    first_treated: str,
    *,
    control: Control = "never-treated",
    confidence: float = 0.95,
    drop_uncomparable_cohorts: bool = False,
    small_sample_correction: bool = True,
    only_simple: bool = False,
) -> dict[str, DidResult | AnalysisInputError]:
    """`staggered_did` of each of several outcomes of the same units and periods, such as the
    criteria of an audit rubric: ``result[outcome]`` is the `DidResult` that
    ``staggered_did(data, unit, time, outcome, first_treated, ...)`` returns, or the
    `AnalysisInputError` it would raise, so an outcome that cannot be estimated leaves the others
    be. Rows where an outcome is missing are left out of that outcome's estimate only.

    Outcomes present on the same rows have the same cells, comparison groups and weights, so those
    are worked out once and only the changes and their influence functions per outcome, as arrays
    with a row per outcome (a rubric's eleven criteria in about the time of four single calls).

    With ``only_simple``, each result holds the ``simple`` aggregation alone, with no ATT(g, t),
    event study or cohort effects (empty): for a caller that reads one figure per outcome, such as
    a table of criteria or of courses. Its simple aggregation, counts and notes are those of the
    full result; the pre-treatment cells, which enter no simple average, are only counted.

    Raises
    ------
    AnalysisInputError
        For a missing column, no rows, or a bad unit, time or first-treated column: these concern
        every outcome.
    """
    _check_control(control)
    require_columns(data, [unit, time, *outcomes, first_treated])
    if len(data) == 0:
        raise AnalysisInputError("no data rows")
    t_raw, g_raw, unit_raw = _design_columns(data, unit, time, first_treated)
    usable = np.isfinite(t_raw) & ~pd.isna(unit_raw)
    results: dict[str, DidResult | AnalysisInputError] = {}
    # Outcomes by the rows they are present on: each such set is estimated together.
    present_on: dict[bytes, list[tuple[str, np.ndarray]]] = {}
    for outcome in outcomes:
        try:
            y_raw = numeric_column(data, outcome).to_numpy()
        except AnalysisInputError as error:
            results[outcome] = error
            continue
        keep = usable & np.isfinite(y_raw)
        if not keep.any():
            results[outcome] = AnalysisInputError(
                f"no rows with a {unit!r}, a {time!r} and an {outcome!r} value"
            )
            continue
        present_on.setdefault(np.packbits(keep).tobytes(), []).append((outcome, y_raw))
    for together in present_on.values():
        keep = usable & np.isfinite(together[0][1])
        try:
            estimated: list[DidResult | AnalysisInputError] = list(
                _estimate(
                    t_raw[keep],
                    g_raw[keep],
                    unit_raw[keep],
                    np.stack([y_raw[keep] for _, y_raw in together]),
                    time=time,
                    first_treated=first_treated,
                    control=control,
                    confidence=confidence,
                    drop_uncomparable_cohorts=drop_uncomparable_cohorts,
                    small_sample_correction=small_sample_correction,
                    only_simple=only_simple,
                )
            )
        except AnalysisInputError as error:
            estimated = [error] * len(together)
        results.update(zip([outcome for outcome, _ in together], estimated, strict=True))
    return {outcome: results[outcome] for outcome in outcomes}


def _check_control(control: str) -> None:
    if control not in CONTROLS:
        raise AnalysisInputError(f"unknown control group {control!r}; use never-treated or not-yet-treated")


def _design_columns(
    data: pd.DataFrame, unit: str, time: str, first_treated: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Periods, cohorts (0 for never treated) and units of every row, checked."""
    t_raw = _integer_valued(numeric_column(data, time).to_numpy(), time)
    g_raw = _integer_valued(numeric_column(data, first_treated).to_numpy(), first_treated)
    g_raw = np.where(np.isnan(g_raw) | (g_raw <= 0), 0.0, g_raw)
    return t_raw, g_raw, data[unit].to_numpy()


# Most numbers held at once for the influence functions (outcomes x units x cells) of outcomes
# estimated together: 64 MiB. More outcomes than fit are estimated a few at a time.
INFLUENCE_BUDGET = 8 * 2**20


def _estimate(
    t_raw: np.ndarray,
    g_raw: np.ndarray,
    unit_raw: np.ndarray,
    y_raw: np.ndarray,
    *,
    time: str,
    first_treated: str,
    control: Control,
    confidence: float,
    drop_uncomparable_cohorts: bool,
    small_sample_correction: bool,
    only_simple: bool,
) -> list[DidResult]:
    """The estimates for each row of ``y_raw`` (outcomes x rows, every value finite), on rows with
    a period and a unit: the cohort and period bookkeeping once, then `_estimate_outcomes`."""
    n_obs = y_raw.shape[1]
    unit_code, unit_labels = pd.factorize(unit_raw)
    n_all = len(unit_labels)
    cohort_of_unit = np.zeros(n_all)
    cohort_of_unit[unit_code] = g_raw
    varies = cohort_of_unit[unit_code] != g_raw
    if varies.any():
        bad = unit_labels[unit_code[np.flatnonzero(varies)[0]]]
        raise AnalysisInputError(
            f"{first_treated!r} differs between rows of unit {bad}; it must be constant within a unit"
        )

    periods, period_idx = np.unique(t_raw, return_inverse=True)
    periods = periods.astype(np.int64)
    n_periods = len(periods)
    if n_periods < 2:
        raise AnalysisInputError(f"need at least 2 periods in {time!r}; found {n_periods}")
    # Average several audits of a unit in one period; bincount keeps this a vectorised pass.
    flat = unit_code * n_periods + period_idx
    counts = np.bincount(flat, minlength=n_all * n_periods)
    sums = np.stack([np.bincount(flat, weights=y, minlength=n_all * n_periods) for y in y_raw])
    with np.errstate(invalid="ignore", divide="ignore"):
        y_all = (sums / counts).reshape(len(y_raw), n_all, n_periods)
    observed_all = (counts > 0).reshape(n_all, n_periods)
    n_unit_periods = int(np.count_nonzero(counts))

    notes: list[str] = []
    late = cohort_of_unit > periods[-1]
    if late.any():
        notes.append(
            f"{int(late.sum())} units first treated after the last period ({periods[-1]}) "
            "count as never treated"
        )
        cohort_of_unit[late] = 0
    always = (cohort_of_unit > 0) & (cohort_of_unit <= periods[0])
    n_always = int(always.sum())
    if n_always:
        notes.append(
            f"{n_always} units treated in or before the first period ({periods[0]}) have no pre-treatment "
            "data and were dropped"
        )
    big_g = cohort_of_unit[~always]
    n_units = len(big_g)
    cohorts = np.unique(big_g[big_g > 0]).astype(np.int64)
    never = big_g == 0
    n_treated_units = int((big_g > 0).sum())
    if len(cohorts) == 0:
        raise AnalysisInputError(
            f"no treated units: every {first_treated!r} is 0, empty, or in or before the first period"
        )
    if control == "never-treated" and not never.any():
        raise AnalysisInputError(
            "no comparison group: no unit is never treated; try --control not-yet-treated"
        )
    n_possible_controls = int(never.sum()) if control == "never-treated" else int((big_g != cohorts[0]).sum())
    if n_possible_controls == 0:
        raise AnalysisInputError(
            f"no comparison group for the cohort first treated in period {cohorts[0]}: every unit is in it "
            "and none is never treated or treated later"
        )
    if n_treated_units < 2 or n_possible_controls < 2:
        raise AnalysisInputError(
            f"too few units: {n_treated_units} treated and {n_possible_controls} comparison units "
            "(need at least 2 of each)"
        )
    # A row per period, then per outcome: each cell reads two periods, which are then contiguous.
    y_in = np.ascontiguousarray(y_all[:, ~always].transpose(2, 0, 1))
    panel = _Panel(
        periods=periods,
        cohorts=cohorts,
        big_g=big_g,
        never=never,
        observed_in=np.ascontiguousarray(observed_all[~always].T),
        control=control,
        confidence=confidence,
        drop_uncomparable_cohorts=drop_uncomparable_cohorts,
        correction=_small_sample if small_sample_correction else _no_correction,
        only_simple=only_simple,
        counts={
            "n_units": n_units,
            "n_treated_units": n_treated_units,
            "n_never_treated_units": int(never.sum()),
            "n_observations": n_obs,
            "n_unit_periods": n_unit_periods,
            "n_always_treated_dropped": n_always,
        },
        notes=notes,
    )
    per_chunk = max(1, INFLUENCE_BUDGET // (n_units * len(cohorts) * (n_periods - 1)))
    results: list[DidResult] = []
    for start in range(0, len(y_raw), per_chunk):
        results.extend(_estimate_outcomes(panel, y_in[:, start : start + per_chunk]))
    return results


@dataclass(frozen=True)
class _Panel:
    """What `_estimate_outcomes` needs of the units, periods and cohorts, shared by the outcomes."""

    periods: np.ndarray
    cohorts: np.ndarray
    big_g: np.ndarray  # each unit's cohort, 0 for never treated
    never: np.ndarray
    observed_in: np.ndarray  # periods x units
    control: Control
    confidence: float
    drop_uncomparable_cohorts: bool
    correction: Callable[[int], float]
    only_simple: bool
    counts: dict[str, int]
    notes: list[str]


def _estimate_outcomes(panel: _Panel, y_in: np.ndarray) -> list[DidResult]:
    """ATT(g, t) and the aggregations of each outcome in ``y_in`` (periods x outcomes x units)."""
    periods, cohorts, big_g, never = panel.periods, panel.cohorts, panel.big_g, panel.never
    n_periods, n_outcomes, n_units = y_in.shape
    observed_in = panel.observed_in
    correction = panel.correction
    z = NormalDist().inv_cdf(1 - (1 - panel.confidence) / 2)
    # Comparison units in period t, before the cell's own cohort is taken out: untreated in both
    # compared periods (t > b always, so untreated at t suffices).
    if panel.control == "never-treated":
        comparison_in = np.broadcast_to(never, (n_periods, n_units))
    else:
        comparison_in = never | (big_g > periods[:, None])
    cells: list[tuple[int, int, int, int, int, int]] = []  # cohort index, period, base, post, n_t, n_c
    # Each cell's influence function, outcomes x units, filled in as the cells are estimated.
    influence = np.zeros((len(cohorts) * (n_periods - 1), n_outcomes, n_units))
    changes: list[tuple[np.ndarray, ...]] = []  # each cell's mean changes and sums of squares
    skipped = 0
    cohorts_without_comparison: list[int] = []
    for c_idx, g in enumerate(cohorts):
        treated = big_g == g
        not_treated = ~treated
        first_post = int(np.searchsorted(periods, g))  # index of the first period >= g
        post_base = first_post - 1
        any_post_comparison = False
        for ti in range(1, n_periods):
            is_post = ti >= first_post
            base = post_base if is_post else ti - 1
            both = observed_in[ti] & observed_in[base]
            if panel.only_simple and not is_post:
                # A pre-treatment cell enters no simple average: it is not estimated, only counted
                # among the skipped cells when it has no treated or no comparison units (the notes
                # report how many were skipped).
                if not ((treated & both).any() and (comparison_in[ti] & not_treated & both).any()):
                    skipped += 1
                continue
            # Positions rather than masks: picking and placing values by position is several times
            # faster, and there are some forty cells per estimate.
            tr = np.flatnonzero(treated & both)
            co = np.flatnonzero(comparison_in[ti] & not_treated & both)
            n_t, n_c = len(tr), len(co)
            if is_post and n_c > 0:
                any_post_comparison = True
            if n_t == 0 or n_c == 0:
                skipped += 1
                continue
            delta = y_in[ti] - y_in[base]
            d_t, d_c = delta.take(tr, axis=1), delta.take(co, axis=1)
            m_t, m_c = d_t.sum(axis=1) / n_t, d_c.sum(axis=1) / n_c
            r_t, r_c = d_t - m_t[:, None], d_c - m_c[:, None]
            ss_t, ss_c = np.einsum("ij,ij->i", r_t, r_t), np.einsum("ij,ij->i", r_c, r_c)
            # The sqrt(n / (n - 1)) factors are a small-sample correction: for a single comparison they turn
            # sum(psi^2) / N^2 into s_t^2 / n_t + s_c^2 / n_c with unbiased variances (the Welch standard
            # error, as Card and Krueger 1994 report); R's did leaves them out; they vanish as n grows.
            scale_t = (n_units / n_t) * correction(n_t)
            scale_c = (n_units / n_c) * correction(n_c)
            psi = influence[len(cells)]
            psi[:, tr] = scale_t * r_t
            psi[:, co] = -scale_c * r_c
            cells.append((c_idx, ti, base, int(is_post), n_t, n_c))
            # sum(psi^2): the treated and comparison units are disjoint, so their parts add.
            se = np.sqrt(scale_t * scale_t * ss_t + scale_c * scale_c * ss_c) / n_units
            changes.append((m_t - m_c, se, m_t, m_c, ss_t, ss_c))
        if not any_post_comparison:
            cohorts_without_comparison.append(int(g))

    notes = list(panel.notes)
    if cohorts_without_comparison:
        listed = ", ".join(str(g) for g in cohorts_without_comparison)
        if not panel.drop_uncomparable_cohorts:
            raise AnalysisInputError(
                f"no comparison group for the cohort first treated in period {listed}: no {panel.control} "
                "units are observed in its post-treatment periods"
            )
        notes.append(f"cohorts first treated in period {listed} have no comparison group and were dropped")
    if skipped:
        notes.append(
            f"{skipped} group-time cells had no treated or no comparison units observed and were skipped"
        )

    cell_arr = np.array(cells, dtype=np.int64).reshape(-1, 6)
    cell_cohort = cell_arr[:, 0]
    post = cell_arr[:, 3].astype(bool)
    if not post.any():
        raise AnalysisInputError("no post-treatment period could be estimated for any cohort")
    # Outcomes x cells, and cells x outcomes x units.
    att, cell_se, m_t, m_c, ss_t, ss_c = (np.array(part).T for part in zip(*changes, strict=True))
    influence = influence[: len(cells)]
    # Cohort shares P(G = g) over all units in the analysis, as did::aggte computes them.
    cohort_share = np.array([(big_g == g).mean() for g in cohorts])
    unit_cohort = np.full(n_units, -1, dtype=np.int64)
    treated_units = big_g > 0
    unit_cohort[treated_units] = np.searchsorted(cohorts, big_g[treated_units])

    def standard_errors(psi: np.ndarray) -> np.ndarray:
        """Of each aggregate and outcome, from influence functions (aggregates x outcomes x units)."""
        return np.sqrt(np.einsum("aku,aku->ak", psi, psi)) / n_units

    simple_att, simple_psi = _weighted_aggregates(
        post[None, :], att, influence, cell_cohort, unit_cohort, cohort_share
    )
    simple_se = standard_errors(simple_psi)

    def aggregate(estimate: float, se: float) -> DidAggregate:
        return DidAggregate(att=estimate, se=se, ci_low=estimate - z * se, ci_high=estimate + z * se)

    def result(
        k: int,
        att_gt: Sequence[GroupTimeEffect] = (),
        event_study: Sequence[EventTimeEffect] = (),
        group_effects: Sequence[GroupEffect] = (),
        **aggregations: DidAggregate,
    ) -> DidResult:
        return DidResult(
            att_gt=tuple(att_gt),
            aggregations={
                "simple": aggregate(float(simple_att[k, 0]), float(simple_se[0, k])),
                **aggregations,
            },
            event_study=tuple(event_study),
            group_effects=tuple(group_effects),
            control=panel.control,
            confidence=panel.confidence,
            periods=tuple(periods.tolist()),
            cohorts=tuple(cohorts.tolist()),
            n_cells_skipped=skipped,
            notes=tuple(notes),
            **panel.counts,
        )

    if panel.only_simple:
        return [result(k) for k in range(n_outcomes)]

    # Each cohort's effect: the plain mean of its post-treatment cells.
    cohorts_with_post = np.unique(cell_cohort[post])
    in_group = (cell_cohort[None, :] == cohorts_with_post[:, None]) & post[None, :]
    group_mean = in_group / in_group.sum(axis=1, keepdims=True)
    group_att = att @ group_mean.T
    group_psi = np.tensordot(group_mean, influence, axes=(1, 0))
    group_se = standard_errors(group_psi)
    group_size = [int((big_g == cohorts[c_idx]).sum()) for c_idx in cohorts_with_post]
    overall_att, overall_psi = _weighted_aggregates(
        np.ones((1, len(cohorts_with_post)), dtype=bool),
        group_att,
        group_psi,
        cohorts_with_post,
        unit_cohort,
        cohort_share,
    )
    overall_se = standard_errors(overall_psi)

    event_times = periods[cell_arr[:, 1]] - cohorts[cell_cohort]
    events = np.unique(event_times)
    at_event = event_times[None, :] == events[:, None]
    event_att, event_psi = _weighted_aggregates(
        at_event, att, influence, cell_cohort, unit_cohort, cohort_share
    )
    event_se = standard_errors(event_psi)
    n_groups = at_event.sum(axis=1).tolist()
    after = events >= 0
    dynamic_att = event_att[:, after].mean(axis=1)
    dynamic_se = standard_errors(event_psi[after].mean(axis=0)[None])[0]

    cell_rows = [
        (
            int(cohorts[c_idx]),
            int(periods[ti]),
            int(periods[ti] - cohorts[c_idx]),
            int(periods[base]),
            bool(is_post),
            n_t,
            n_c,
        )
        for c_idx, ti, base, is_post, n_t, n_c in cell_arr.tolist()
    ]
    results = []
    for k in range(n_outcomes):
        estimates = []
        for (g, t, e, b, is_post, n_t, n_c), a, se, mt, mc, st, sc in zip(
            cell_rows,
            att[k].tolist(),
            cell_se[k].tolist(),
            m_t[k].tolist(),
            m_c[k].tolist(),
            ss_t[k].tolist(),
            ss_c[k].tolist(),
            strict=True,
        ):
            estimates.append(
                GroupTimeEffect(
                    group=g,
                    time=t,
                    event_time=e,
                    base_period=b,
                    post=is_post,
                    att=a,
                    se=se,
                    ci_low=a - z * se,
                    ci_high=a + z * se,
                    n_treated=n_t,
                    n_comparison=n_c,
                    treated_change=mt,
                    treated_change_se=math.sqrt(st / (n_t - 1) / n_t) if n_t > 1 else math.nan,
                    comparison_change=mc,
                    comparison_change_se=math.sqrt(sc / (n_c - 1) / n_c) if n_c > 1 else math.nan,
                )
            )
        group_effects = []
        for j, c_idx in enumerate(cohorts_with_post.tolist()):
            agg = aggregate(float(group_att[k, j]), float(group_se[j, k]))
            group_effects.append(
                GroupEffect(
                    group=int(cohorts[c_idx]),
                    att=agg.att,
                    se=agg.se,
                    ci_low=agg.ci_low,
                    ci_high=agg.ci_high,
                    n_units=group_size[j],
                )
            )
        event_study = []
        for j, e in enumerate(events.tolist()):
            agg = aggregate(float(event_att[k, j]), float(event_se[j, k]))
            event_study.append(
                EventTimeEffect(
                    event_time=e,
                    att=agg.att,
                    se=agg.se,
                    ci_low=agg.ci_low,
                    ci_high=agg.ci_high,
                    n_groups=n_groups[j],
                )
            )
        results.append(
            result(
                k,
                estimates,
                event_study,
                group_effects,
                group=aggregate(float(overall_att[k, 0]), float(overall_se[0, k])),
                dynamic=aggregate(float(dynamic_att[k]), float(dynamic_se[k])),
            )
        )
    return results
