"""``tidy_numbers``: counts as whole numbers, no negative zeros, everything else as it was."""

import math

import numpy as np
import pandas as pd

from analysis.tidy import tidy_numbers


def test_counts_become_whole_numbers_and_negative_zeros_zero():
    frame = pd.DataFrame(
        {
            "measure": ["a", "b", "c"],
            "n": [127.0, np.nan, 3.0],
            "n_trained": [1.5, 2.0, 3.0],  # not whole: left as floats
            "estimate": [-0.0, 1.25, np.nan],
            "value": pd.Series([12.0, -0.0, "c"], dtype=object),
            "n_mixed": pd.Series([4.0, None, "c"], dtype=object),
            "flag": [True, False, True],
            "year": [2024, 2025, 2026],
            "rate": pd.array([-0.0, 0.5, None], dtype="Float64"),
        }
    )
    got = tidy_numbers(frame)
    assert list(got.columns) == list(frame.columns)
    assert got["n"].tolist() == [127, None, 3] and got["n"].dtype == object
    assert all(type(v) is int for v in got["n"].dropna())
    assert got["n_trained"].tolist() == [1.5, 2.0, 3.0]
    assert math.copysign(1, got["estimate"][0]) == 1 and got["estimate"][1] == 1.25
    assert np.isnan(got["estimate"][2]) and got["estimate"].dtype == np.float64
    assert math.copysign(1, got["value"][1]) == 1 and got["value"][2] == "c"
    assert got["n_mixed"].tolist() == [4, None, "c"] and type(got["n_mixed"][0]) is int
    assert got["flag"].tolist() == [True, False, True] and got["year"].tolist() == [2024, 2025, 2026]
    assert math.copysign(1, got["rate"][0]) == 1 and str(got["rate"].dtype) == "Float64"
    assert frame["estimate"][0] == 0 and math.copysign(1, frame["estimate"][0]) == -1  # a copy


def test_labels_of_any_kind_and_empty_frames_are_kept():
    frame = pd.DataFrame({("pre", 0): [-0.0], ("post", 0): [1.0]})
    got = tidy_numbers(frame)
    assert list(got.columns) == [("pre", 0), ("post", 0)]
    assert math.copysign(1, got[("pre", 0)][0]) == 1
    empty = pd.DataFrame({"n": pd.Series([], dtype=float), "label": pd.Series([], dtype=object)})
    assert list(tidy_numbers(empty).columns) == ["n", "label"] and tidy_numbers(empty).empty
    assert tidy_numbers(pd.DataFrame()).empty
