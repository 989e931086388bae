"""Plain-language verdicts: the estimate, its direction and its interval, and nothing the data cannot carry.

Rules (DESIGN.md, "Honest verdicts"):

* a rise or fall is claimed only when the whole confidence interval is on one side of zero;
* an interval that includes zero is "not enough evidence yet", with how many more observations would
  detect a stated change when that can be worked out;
* "no change that matters" is said only when the whole interval lies inside the smallest change of
  interest (an equivalence statement);
* the numbers are rounded to suit the width of the interval, but no number that is not zero is ever shown
  as 0 (or with the wrong sign): a bound of a one-sided interval, an estimate, a bound of an interval that
  includes zero, a detectable change or a margin each get as many more decimals as they need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._common import Result
from .power import further_observations_for_se

__all__ = ["Verdict", "did_verdict", "format_number", "paired_verdict", "verdict"]


@dataclass(frozen=True)
class Verdict(Result):
    """A sentence and the category it falls in.

    ``direction`` is one of ``rise``, ``fall``, ``no_change_that_matters``, ``not_enough_evidence`` and
    ``cannot_estimate``.
    """

    text: str
    direction: str
    estimate: float
    ci_low: float
    ci_high: float
    more_needed: int | None = None


def _decimals(low: float, high: float) -> int:
    # enough places to show the width of the interval to about two significant figures, no more
    width = abs(high - low)
    if width >= 4:
        return 0
    if width >= 0.4:
        return 1
    if width >= 0.04:
        return 2
    return 3


def format_number(value: float, decimals: int) -> str:
    """Round for display, never showing "-0"."""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


#: Most decimals added to keep a non-zero number from showing as 0; anything smaller is shown as 0.
_MAX_DECIMALS = 6


def _nonzero_text(value: float, decimals: int) -> str:
    """``value`` at ``decimals`` places, or more if that would show a non-zero value as 0.

    "A change of 0 points" or "(so far 0 points, ...)" for an estimate of 0.5 reads as a claim of no
    change, which the data do not make.
    """
    for d in range(decimals, max(decimals, _MAX_DECIMALS) + 1):
        text = format_number(value, d)
        if value == 0 or float(text) != 0:
            return text
    return format_number(value, max(decimals, _MAX_DECIMALS))


def _bounds_text(low: float, high: float, decimals: int) -> tuple[str, str, int]:
    # Add decimals until neither bound of a one-sided interval rounds to zero, so the printed interval
    # never contradicts the claim made about it.
    for d in range(decimals, max(decimals, _MAX_DECIMALS) + 1):
        lo, hi = format_number(low, d), format_number(high, d)
        if float(lo) != 0 and float(hi) != 0:
            return lo, hi, d
    last = max(decimals, _MAX_DECIMALS)
    return format_number(low, last), format_number(high, last), last


def _sentence_start(text: str) -> str:
    return text[:1].upper() + text[1:]


def verdict(
    estimate: float,
    ci_low: float,
    ci_high: float,
    *,
    outcome: str = "the score",
    unit: str = "points",
    comparison: str = "",
    confidence: float = 0.95,
    more_needed: int | None = None,
    detectable_change: float | None = None,
    noun: str = "observations",
    smallest_change_of_interest: float | None = None,
    decimals: int | None = None,
) -> Verdict:
    """Describe an estimated change in one sentence.

    Parameters
    ----------
    estimate, ci_low, ci_high : float
        The estimate and its confidence interval, in the outcome's units.
    outcome : str
        What changed, e.g. "referral quality".
    unit : str
        Units of the outcome, e.g. "points" (may be "").
    comparison : str
        Appended to a rise or fall, e.g. "compared with colleagues not yet trained".
    more_needed, detectable_change : optional
        When the interval includes zero: about ``more_needed`` more ``noun`` would detect a change of
        ``detectable_change``.
    smallest_change_of_interest : float, optional
        If the whole interval lies within plus or minus this, the verdict is that there was no change
        that matters.
    decimals : int, optional
        Decimal places; by default chosen from the width of the interval.

    Examples
    --------
    >>> verdict(6.2, 2.1, 10.3, outcome="referral quality",
    ...         comparison="compared with colleagues not yet trained").text
    'Referral quality rose by 6 points (95% CI 2 to 10) compared with colleagues not yet trained.'
    """
    level = f"{round(confidence * 100):g}% CI"

    def units(number_text: str) -> str:
        """The unit after a number as shown: "1 point" and "-1 percentage point", else plural."""
        if not unit:
            return ""
        singular = number_text.lstrip("-") == "1" and unit.endswith("s")
        return f" {unit[:-1]}" if singular else f" {unit}"

    tail = f" {comparison}" if comparison else ""
    if not all(math.isfinite(x) for x in (estimate, ci_low, ci_high)):
        return Verdict(
            text=f"Not enough data to estimate the change in {outcome}.",
            direction="cannot_estimate",
            estimate=estimate,
            ci_low=ci_low,
            ci_high=ci_high,
        )
    places = _decimals(ci_low, ci_high) if decimals is None else decimals
    if ci_low > 0 or ci_high < 0:
        rose = ci_low > 0
        # A fall is reported with positive magnitudes: "fell by 6 points (95% CI 2 to 10)".
        low, high = (ci_low, ci_high) if rose else (-ci_high, -ci_low)
        lo, hi, places = _bounds_text(low, high, places)
        size = format_number(abs(estimate), places)
        word = "rose" if rose else "fell"
        return Verdict(
            text=f"{_sentence_start(outcome)} {word} by {size}{units(size)} ({level} {lo} to {hi}){tail}.",
            direction="rise" if rose else "fall",
            estimate=estimate,
            ci_low=ci_low,
            ci_high=ci_high,
        )
    # Each number keeps the interval's precision unless that would show it as 0: an interval from -0.3 to
    # 5.2 reads "-0.3 to 5", not "0 to 5", which would look as if it stopped at no change.
    lo, hi = _nonzero_text(ci_low, places), _nonzero_text(ci_high, places)
    est = _nonzero_text(estimate, places)
    interval = f"{est}{units(est)}, {level} {lo} to {hi}"
    if (
        smallest_change_of_interest is not None
        and -smallest_change_of_interest < ci_low
        and (ci_high < smallest_change_of_interest)
    ):
        margin = _nonzero_text(smallest_change_of_interest, places)
        return Verdict(
            text=f"No change in {outcome} that matters: the interval rules out changes of "
            f"{margin}{units(margin)} or more either way ({interval}).",
            direction="no_change_that_matters",
            estimate=estimate,
            ci_low=ci_low,
            ci_high=ci_high,
        )
    if more_needed is not None and detectable_change is not None:
        change = _nonzero_text(abs(detectable_change), places)
        if more_needed > 0:
            text = (
                f"Not enough evidence yet: about {more_needed} more {noun} would detect a change of "
                f"{change}{units(change)} in {outcome} (so far {interval})."
            )
        else:
            text = (
                f"Not enough evidence yet of a change in {outcome} ({interval}), although the data are "
                f"already enough to detect a change of {change}{units(change)}."
            )
        return Verdict(
            text=text,
            direction="not_enough_evidence",
            estimate=estimate,
            ci_low=ci_low,
            ci_high=ci_high,
            more_needed=more_needed,
        )
    return Verdict(
        text=f"Not enough evidence yet of a change in {outcome}: {interval}, "
        "an interval that includes no change.",
        direction="not_enough_evidence",
        estimate=estimate,
        ci_low=ci_low,
        ci_high=ci_high,
    )


def _more_needed(se: float, n: int, change: float | None, estimate: float) -> tuple[int | None, float | None]:
    target = change if change is not None else abs(estimate)
    if not target or not math.isfinite(se) or se <= 0:
        return None, None
    return further_observations_for_se(se, n, target), target


def paired_verdict(
    result, *, outcome: str = "the score", unit: str = "points", detectable_change: float | None = None
) -> Verdict:
    """Verdict for a `analysis.stats.paired.PairedResult`.

    When the interval includes zero, the number of further people needed is worked out for
    ``detectable_change`` (by default the size of the change observed so far).
    """
    more, change = _more_needed(result.se_diff, result.n, detectable_change, result.mean_diff)
    return verdict(
        result.mean_diff,
        result.ci_low,
        result.ci_high,
        outcome=outcome,
        unit=unit,
        comparison="from the first to the second measurement",
        confidence=result.confidence,
        more_needed=more,
        detectable_change=change,
        noun="people with both measurements",
    )


def did_verdict(
    result, *, outcome: str = "the outcome", unit: str = "points", detectable_change: float | None = None
) -> Verdict:
    """Verdict for the simple aggregate of a `analysis.stats.did.DidResult`."""
    simple = result.aggregations["simple"]
    comparison = (
        "compared with colleagues never trained"
        if result.control == "never-treated"
        else "compared with colleagues not yet trained"
    )
    more, change = _more_needed(simple.se, result.n_units, detectable_change, simple.att)
    return verdict(
        simple.att,
        simple.ci_low,
        simple.ci_high,
        outcome=outcome,
        unit=unit,
        comparison=comparison,
        confidence=result.confidence,
        more_needed=more,
        detectable_change=change,
        noun="staff followed before and after",
    )
