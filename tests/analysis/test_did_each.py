"""staggered_did_each: several outcomes of one panel estimated together must give, outcome by
outcome, exactly what staggered_did gives for that outcome alone (or the error it raises)."""

import numpy as np
import pandas as pd
import pytest

from analysis.stats import did
from analysis.stats.did import staggered_did, staggered_did_each
from analysis.stats.errors import AnalysisInputError

from .simulate import staggered_panel

OPTIONS = {"control": "not-yet-treated", "drop_uncomparable_cohorts": True}


def _same(together, alone, path="result"):
    """Two results equal, field by field and item by item, floats to 1e-12 (the arrays are summed
    in another order when outcomes are stacked)."""
    if hasattr(together, "to_dict"):
        together, alone = together.to_dict(), alone.to_dict()
    if isinstance(together, dict):
        assert together.keys() == alone.keys(), path
        for name in together:
            _same(together[name], alone[name], f"{path}.{name}")
    elif isinstance(together, (list, tuple)):
        assert len(together) == len(alone), path
        for i, (a, b) in enumerate(zip(together, alone, strict=True)):
            _same(a, b, f"{path}[{i}]")
    elif isinstance(together, float):
        assert together == pytest.approx(alone, rel=1e-12, abs=1e-12, nan_ok=True), path
    else:
        assert together == alone, path


def _panel_with_criteria():
    """An unbalanced staggered panel with four outcomes: two on every row (different true effects),
    one missing on a random fifth of the rows, one missing for every row of the second cohort."""
    rng = np.random.default_rng(7)
    frame = staggered_panel(rng, n_units=250, n_periods=7, cohorts=(3, 5), audits_per_unit=8)
    frame["same_rows"] = frame["outcome"] * 0.5 + rng.normal(0, 1, len(frame)) + (frame["first_treated"] > 0)
    frame["some_missing"] = frame["outcome"].where(rng.random(len(frame)) > 0.2)
    frame["no_second_cohort"] = frame["outcome"].where(frame["first_treated"] != 5)
    return frame


def test_each_outcome_is_what_staggered_did_gives_it_alone():
    frame = _panel_with_criteria()
    outcomes = ["outcome", "same_rows", "some_missing", "no_second_cohort"]
    results = staggered_did_each(frame, "unit", "period", outcomes, "first_treated", **OPTIONS)
    assert list(results) == outcomes
    for outcome in outcomes:
        _same(results[outcome], staggered_did(frame, "unit", "period", outcome, "first_treated", **OPTIONS))
    # The outcomes really differ, so a result copied from another outcome would have failed above.
    simple = {k: r.aggregations["simple"].att for k, r in results.items()}
    assert len({round(v, 6) for v in simple.values()}) == len(outcomes)
    assert results["no_second_cohort"].cohorts == (3,)


def test_outcomes_estimated_a_few_at_a_time_when_they_do_not_fit_at_once(monkeypatch):
    frame = _panel_with_criteria()
    outcomes = ["outcome", "same_rows"]
    together = staggered_did_each(frame, "unit", "period", outcomes, "first_treated", **OPTIONS)
    # Room for one outcome's influence functions at a time.
    monkeypatch.setattr(did, "INFLUENCE_BUDGET", 1)
    in_turn = staggered_did_each(frame, "unit", "period", outcomes, "first_treated", **OPTIONS)
    for outcome in outcomes:
        _same(in_turn[outcome], together[outcome])


def test_an_outcome_that_cannot_be_estimated_gets_the_error_and_leaves_the_others():
    frame = _panel_with_criteria()
    frame["text"] = "n/a"
    frame["empty"] = np.nan
    # Only never-treated rows: the same "no treated units" as staggered_did says.
    frame["untreated_only"] = frame["outcome"].where(frame["first_treated"] == 0)
    outcomes = ["text", "outcome", "empty", "untreated_only"]
    results = staggered_did_each(frame, "unit", "period", outcomes, "first_treated", **OPTIONS)
    _same(results["outcome"], staggered_did(frame, "unit", "period", "outcome", "first_treated", **OPTIONS))
    for outcome in ("text", "empty", "untreated_only"):
        assert isinstance(results[outcome], AnalysisInputError)
        with pytest.raises(AnalysisInputError) as alone:
            staggered_did(frame, "unit", "period", outcome, "first_treated", **OPTIONS)
        assert str(results[outcome]) == str(alone.value)


def test_errors_in_the_shared_columns_are_raised():
    frame = _panel_with_criteria()
    with pytest.raises(AnalysisInputError, match="not found"):
        staggered_did_each(frame, "unit", "period", ["outcome", "missing"], "first_treated")
    frame["period"] = frame["period"] + 0.5
    with pytest.raises(AnalysisInputError, match="whole-number periods"):
        staggered_did_each(frame, "unit", "period", ["outcome"], "first_treated")
    with pytest.raises(AnalysisInputError, match="no data rows"):
        staggered_did_each(
            pd.DataFrame(columns=frame.columns), "unit", "period", ["outcome"], "first_treated"
        )


def test_only_simple_gives_the_full_results_simple_aggregation_counts_and_notes():
    frame = _panel_with_criteria()
    # A period with no treated units observed makes skipped cells, before and after training,
    # so that counting the pre-treatment cells it no longer estimates is tested too.
    frame = frame[~((frame["period"] == 2) & (frame["first_treated"] == 5))]
    outcomes = ["outcome", "some_missing", "no_second_cohort"]
    full = staggered_did_each(frame, "unit", "period", outcomes, "first_treated", **OPTIONS)
    simple = staggered_did_each(
        frame, "unit", "period", outcomes, "first_treated", only_simple=True, **OPTIONS
    )
    assert full["outcome"].n_cells_skipped > 0
    for outcome in outcomes:
        whole, alone = full[outcome].to_dict(), simple[outcome].to_dict()
        assert alone["att_gt"] == alone["event_study"] == alone["group_effects"] == []
        assert list(alone["aggregations"]) == ["simple"]
        for name in ("att_gt", "event_study", "group_effects"):
            del whole[name], alone[name]
        whole["aggregations"] = {"simple": whole["aggregations"]["simple"]}
        _same(alone, whole, outcome)
