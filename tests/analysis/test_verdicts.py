"""Every wording branch of the plain-language verdicts, and the rule that an interval spanning zero is
never called a rise or fall."""

import math

import numpy as np
import pandas as pd
import pytest

from analysis.stats.did import staggered_did
from analysis.stats.paired import paired_change
from analysis.stats.verdicts import did_verdict, format_number, paired_verdict, verdict

from .simulate import staggered_panel


def test_rise():
    v = verdict(
        6.2, 2.1, 10.3, outcome="referral quality", comparison="compared with colleagues not yet trained"
    )
    assert (
        v.text
        == "Referral quality rose by 6 points (95% CI 2 to 10) compared with colleagues not yet trained."
    )
    assert v.direction == "rise"


@pytest.mark.parametrize(
    ("estimate", "low", "high", "unit", "expected"),
    [
        (1.3, 1.1, 11.0, "percentage points", "rose by 1 percentage point (95% CI 1 to 11)"),
        (-1.2, -12.0, -1.1, "points", "fell by 1 point (95% CI 1 to 12)"),
        (2.2, 1.1, 9.3, "points", "rose by 2 points (95% CI 1 to 9)"),
        (1.2, 0.3, 8.0, "points", "rose by 1.2 points"),
        (0.9, -2.1, 3.9, "points", "so far 1 point, 95% CI -2 to 4"),
    ],
)
def test_a_unit_after_one_is_singular(estimate, low, high, unit, expected):
    v = verdict(estimate, low, high, outcome="the score", unit=unit, more_needed=10, detectable_change=5)
    assert expected in v.text


def test_fall_uses_positive_magnitudes():
    v = verdict(-6.2, -10.3, -2.1, outcome="victim-blaming", unit="points")
    assert v.text == "Victim-blaming fell by 6 points (95% CI 2 to 10)."
    assert v.direction == "fall"


def test_bounds_never_round_to_zero_in_a_claim():
    v = verdict(0.9, 0.004, 1.8, outcome="confidence", unit="")
    assert v.direction == "rise"
    assert "95% CI 0 to" not in v.text
    assert "(95% CI 0.004 to 1.800)" in v.text


def test_interval_spanning_zero_is_not_enough_evidence():
    v = verdict(2.0, -1.0, 5.0, outcome="referral quality")
    assert v.direction == "not_enough_evidence"
    assert v.text == (
        "Not enough evidence yet of a change in referral quality: 2 points, 95% CI -1 to 5, "
        "an interval that includes no change."
    )
    assert "rose" not in v.text and "fell" not in v.text


def test_not_enough_evidence_with_more_observations_needed():
    v = verdict(
        2.0, -1.0, 5.0, outcome="referral quality", more_needed=40, detectable_change=5, noun="audits"
    )
    assert v.text.startswith(
        "Not enough evidence yet: about 40 more audits would detect a change of 5 points in referral quality"
    )
    assert v.text.endswith("(so far 2 points, 95% CI -1 to 5).")
    assert v.more_needed == 40


def test_not_enough_evidence_although_already_powered():
    v = verdict(0.5, -1.0, 2.0, outcome="knowledge", more_needed=0, detectable_change=3)
    assert "already enough to detect a change of 3.0 points" in v.text
    assert v.direction == "not_enough_evidence"


def test_no_change_that_matters():
    v = verdict(0.2, -0.8, 1.1, outcome="attitudes", smallest_change_of_interest=2)
    assert v.direction == "no_change_that_matters"
    assert v.text.startswith(
        "No change in attitudes that matters: the interval rules out changes of 2.0 points"
    )


def test_equivalence_is_not_claimed_when_interval_is_too_wide():
    v = verdict(0.2, -3.0, 3.4, outcome="attitudes", smallest_change_of_interest=2)
    assert v.direction == "not_enough_evidence"


def test_cannot_estimate():
    v = verdict(math.nan, math.nan, math.nan, outcome="referral quality")
    assert v.direction == "cannot_estimate"
    assert v.text == "Not enough data to estimate the change in referral quality."


def test_confidence_level_and_no_negative_zero():
    v = verdict(3.0, 1.0, 5.0, confidence=0.9)
    assert "(90% CI 1 to 5)" in v.text
    assert format_number(-0.0001, 2) == "0.00"


@pytest.mark.parametrize(("low", "high"), [(-0.01, 9.0), (-9.0, 0.01), (-5.0, 5.0), (0.0, 3.0)])
def test_never_claims_a_direction_when_the_interval_touches_zero(low, high):
    assert verdict((low + high) / 2, low, high).direction not in {"rise", "fall"}


def test_paired_verdict_includes_people_needed_when_inconclusive():
    frame = pd.DataFrame({"pre": [10, 12, 9, 11, 10], "post": [11, 11, 10, 13, 9]})
    v = paired_verdict(paired_change(frame, "pre", "post"), outcome="knowledge")
    assert v.direction == "not_enough_evidence"
    assert "more people with both measurements would detect a change" in v.text


def test_did_verdict_names_the_comparison_group():
    rng = np.random.default_rng(12)
    frame = staggered_panel(rng, n_units=600, n_periods=6, cohorts=(3, 5), effect=3.0)
    v = did_verdict(
        staggered_did(frame, "unit", "period", "outcome", "first_treated", control="not-yet-treated"),
        outcome="referral quality",
    )
    assert v.direction == "rise"
    assert v.text.startswith("Referral quality rose by")
    assert v.text.endswith("compared with colleagues not yet trained.")


def test_small_estimate_and_detectable_change_never_print_as_zero():
    # The audit's case: estimate 0.5 with 95% CI -1.69 to 2.69. The interval is over 4 points wide, so
    # it is shown to whole numbers, but the estimate and the detectable change of 0.5 must not become
    # "0 points" (which reads as "no change"). Expected text written out by hand.
    v = verdict(0.5, -1.69, 2.69, more_needed=153, detectable_change=0.5, noun="staff", outcome="the outcome")
    assert v.text == (
        "Not enough evidence yet: about 153 more staff would detect a change of 0.5 points in the "
        "outcome (so far 0.5 points, 95% CI -2 to 3)."
    )
    assert " 0 points" not in v.text


@pytest.mark.parametrize(
    ("estimate", "low", "high", "expected"),
    [
        # a bound of an interval that includes zero keeps its sign: "-0.3 to 5", not "0 to 5"
        (2.4, -0.3, 5.1, "2 points, 95% CI -0.3 to 5,"),
        (-2.4, -5.1, 0.3, "-2 points, 95% CI -5 to 0.3,"),
        # an estimate of 0.04 inside a 0.5-wide interval needs a second decimal
        (0.04, -0.2, 0.3, "0.04 points, 95% CI -0.2 to 0.3,"),
        # a true zero stays "0"
        (0.0, -3.0, 3.0, "0 points, 95% CI -3 to 3,"),
    ],
)
def test_numbers_in_an_inconclusive_verdict_are_never_falsely_zero(estimate, low, high, expected):
    assert expected in verdict(estimate, low, high).text


def test_equivalence_margin_is_not_rounded_to_zero():
    # interval 0.02 wide -> 3 decimals; a margin of 0.0004 needs 4
    v = verdict(0.0001, -0.0002, 0.0003, smallest_change_of_interest=0.0004, unit="")
    assert v.direction == "no_change_that_matters"
    assert "changes of 0.0004 or more" in v.text
