import math
import pickle

import numpy as np
import pandas as pd

from analysis.charts import Chart, before_after_chart, event_study_chart, interval_chart, phase_chart
from analysis.suppression import SUPPRESSED, suppress


def test_small_cells_are_shown_as_c_including_the_count():
    table = pd.DataFrame({"team": ["A", "B", "C"], "n": [12, 4, 5], "mean": [3.2, 4.1, 2.9]})
    out = suppress(table)
    assert out["team"].tolist() == ["A", "B", "C"]
    assert out["n"].tolist() == [12, SUPPRESSED, 5]
    assert out["mean"].tolist() == [3.2, SUPPRESSED, 2.9]


def test_missing_count_is_suppressed():
    out = suppress(pd.DataFrame({"n": [None, 9], "share": [50.0, 20.0]}))
    assert out["share"].tolist() == [SUPPRESSED, 20.0]


def test_suppression_copies_the_table_and_keeps_its_other_columns_as_they_were():
    # Repeated index labels and a label of another type: the copy is built by position.
    table = pd.DataFrame(
        {
            "course": pd.Categorical(["A", "B", "C"]),
            "n": [3, 10, 7],
            "mean": [1.5, 2.5, np.nan],
            2024: pd.array([1, None, 3], dtype="Int64"),
        },
        index=[4, 4, 9],
    )
    before = table.copy()
    out = suppress(table, columns=["mean"])
    assert list(out.columns) == ["course", "n", "mean", 2024] and list(out.index) == [4, 4, 9]
    assert out["n"].tolist() == [SUPPRESSED, 10, 7]
    assert out["mean"].tolist()[:2] == [SUPPRESSED, 2.5] and math.isnan(out["mean"].iloc[2])
    assert out["course"].dtype == "category" and out[2024].dtype == "Int64"
    assert out[2024].iloc[0] == 1  # not listed, so not hidden
    pd.testing.assert_frame_equal(table, before)


def test_event_study_chart_is_inline_svg_with_text_alternative_and_table():
    effects = pd.DataFrame(
        {
            "event_time": [-2, -1, 0, 1, 2],
            "att": [0.1, -0.2, 3.0, 5.5, 4.0],
            "ci_low": [-1, -1.2, 1.0, 3.0, 1.5],
            "ci_high": [1.2, 0.8, 5.0, 8.0, 6.5],
        }
    )
    chart = event_study_chart(effects, outcome="referral quality score")
    assert chart.svg.startswith("<svg")
    assert "<?xml" not in chart.svg
    assert "Months since training" in chart.svg  # text stays text in the SVG
    assert "from -2 to 2 months" in chart.alt_text
    assert "highest at 1 months (5.5)" in chart.alt_text
    assert chart.table.equals(effects)
    # No inline styles: the content security policy would make browsers ignore them (black charts).
    assert "style=" not in chart.svg and "<style" not in chart.svg
    assert 'fill="#1d70b8"' in chart.svg


def test_charts_are_deterministic():
    effects = pd.DataFrame(
        {"event_time": [0, 1], "att": [1.0, 2.0], "ci_low": [0.0, 1.0], "ci_high": [2.0, 3.0]}
    )
    assert event_study_chart(effects, outcome="x").svg == event_study_chart(effects, outcome="x").svg


def test_phase_chart_leaves_gaps_for_suppressed_means():
    means = pd.DataFrame(
        {"scale": ["Knowledge"] * 3, "phase": ["Pre", "Post", "Follow-up"], "mean": [55.0, 78.0, SUPPRESSED]}
    )
    chart = phase_chart(means, measure="% correct")
    assert "Knowledge: Pre 55.0, Post 78.0" in chart.alt_text
    assert "Follow-up" not in chart.alt_text.split("Knowledge:")[1]


def test_interval_and_before_after_charts_describe_every_row():
    est = pd.DataFrame(
        {
            "label": ["Clear reason", "Child's voice"],
            "estimate": [0.3, np.nan],
            "ci_low": [0.1, np.nan],
            "ci_high": [0.5, np.nan],
        }
    )
    chart = interval_chart(est, measure="grade points")
    assert "Clear reason 0.3 (95% CI 0.1 to 0.5)" in chart.alt_text
    assert "Child's voice no estimate" in chart.alt_text
    shares = pd.DataFrame(
        {
            "measure": ["Accepted", "No further action"],
            "before": [40.0, 30.0],
            "after": [math.nan, SUPPRESSED],
        }
    )
    text = before_after_chart(shares).alt_text
    assert "Accepted: 40.0% before, not shown after" in text
    assert "No further action: 30.0% before, not shown after" in text


def test_a_chart_is_drawn_when_first_read_then_kept_and_an_undrawn_one_can_be_pickled():
    effects = pd.DataFrame(
        {"event_time": [0, 1], "att": [1.0, 2.0], "ci_low": [0.0, 1.0], "ci_high": [2.0, 3.0]}
    )
    chart = event_study_chart(effects, outcome="x", key="study")
    assert not chart.is_drawn
    # A cached report is pickled before its charts are drawn (JSON, CSV): the drawing must travel.
    restored = pickle.loads(pickle.dumps(chart))  # noqa: S301  # our own bytes, as the cache does
    svg = chart.svg
    assert chart.is_drawn and svg.startswith("<svg") and 'id="study-' in svg
    assert restored.svg == svg
    calls = []

    def draw():
        calls.append(1)
        return "<svg></svg>"

    counted = Chart("k", "t", draw, "alt", effects)
    assert counted.svg == counted.svg == "<svg></svg>"
    assert calls == [1]
