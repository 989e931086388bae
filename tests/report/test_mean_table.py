"""``impact._mean_table`` must give what pandas' group-by-then-pivot gives, on the kinds of keys the
report groups by: categories, integers and booleans, with missing keys, missing values and
combinations seen more than once."""

import numpy as np
import pandas as pd
import pytest

from analysis.impact import _blocks, _mean_table


def _frame(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    person = rng.integers(1, 30, n).astype(float)
    person[rng.random(n) < 0.05] = np.nan  # a missing key: left out
    score = rng.normal(50, 10, n)
    score[rng.random(n) < 0.1] = np.nan  # a missing value: not counted
    return pd.DataFrame(
        {
            "construct": pd.Categorical(
                rng.choice(["knowledge", "attitudes", "confidence"], n),
                categories=["attitudes", "confidence", "knowledge"],
            ),
            "person": person,
            "session": rng.integers(1, 4, n),
            "phase": pd.Categorical(
                rng.choice(["pre", "post", "follow_up"], n), categories=["follow_up", "post", "pre"]
            ),
            "offset_days": rng.choice([0, 42, 91], n),
            "after": rng.random(n) < 0.5,
            "score": score,
        }
    )


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(
    ("index", "columns"),
    [
        (["construct", "person", "session"], ["phase", "offset_days"]),
        (["person", "session"], ["phase"]),
        (["person", "construct"], ["after"]),
    ],
)
def test_it_is_the_grouped_means_pivoted(seed, index, columns):
    frame = _frame(seed)
    expected = frame.groupby(index + columns, observed=True)["score"].mean().unstack(columns)
    if len(columns) > 1:
        expected = expected.sort_index(axis=1)
    got = _mean_table(frame, index, columns, "score")
    pd.testing.assert_frame_equal(got, expected, check_index_type=True, check_column_type=True, rtol=1e-12)


def test_a_combination_with_only_missing_values_is_a_row_with_a_missing_mean():
    frame = pd.DataFrame({"person": [1, 1, 2], "phase": ["pre", "post", "pre"], "score": [1.0, 3.0, np.nan]})
    got = _mean_table(frame, ["person"], ["phase"], "score")
    assert got.index.tolist() == [1, 2] and got.columns.tolist() == ["post", "pre"]
    assert got.loc[1, "pre"] == 1.0 and got.loc[1, "post"] == 3.0
    assert np.isnan(got.loc[2, "pre"]) and np.isnan(got.loc[2, "post"])


def test_no_rows_give_an_empty_table():
    frame = _frame(0).iloc[:0]
    got = _mean_table(frame, ["person", "session"], ["phase"], "score")
    assert got.empty


def test_a_key_seen_only_beside_a_missing_key_is_in_no_level():
    # Person 3 only ever has a missing session: no row, and no level of the row labels, is theirs
    # (sections read the labels' levels, as pandas' grouping would give them).
    frame = pd.DataFrame(
        {"person": [1, 2, 3], "session": [1.0, 1.0, np.nan], "phase": ["pre"] * 3, "score": [1.0, 2.0, 3.0]}
    )
    got = _mean_table(frame, ["person", "session"], ["phase"], "score")
    assert got.index.tolist() == [(1, 1.0), (2, 1.0)]
    assert got.index.levels[0].tolist() == [1, 2]


@pytest.mark.parametrize("seed", range(3))
def test_where_takes_the_rows_the_frame_filtered_by_it_would(seed):
    frame = _frame(seed)
    # Whole constructs and persons left out, so that their levels must go too.
    where = (frame["construct"] != "confidence").to_numpy() & (frame["person"] != 3).to_numpy()
    for index, columns in (
        (["construct", "person", "session"], ["phase", "offset_days"]),
        (["person"], ["phase"]),
    ):
        got = _mean_table(frame, index, columns, "score", where=where)
        expected = _mean_table(frame[where], index, columns, "score")
        pd.testing.assert_frame_equal(got, expected, check_index_type=True, check_column_type=True)
        if len(index) > 1:
            assert got.index.levels[0].tolist() == ["attitudes", "knowledge"]


def test_blocks_are_each_first_levels_rows():
    frame = _frame(4)
    table = _mean_table(frame, ["construct", "person", "session"], ["phase", "offset_days"], "score")
    blocks = list(_blocks(table))
    assert [value for value, _ in blocks] == ["attitudes", "confidence", "knowledge"]
    for value, block in blocks:
        np.testing.assert_array_equal(block, table.xs(value, level="construct").to_numpy())
