"""``frames._criteria`` decodes each audit's stored grades against its rubric version's criteria."""

import pandas as pd
import pytest

from analysis.frames import _criteria

RUBRIC = pd.DataFrame(
    {
        "version": [1, 1, 1, 2, 2],
        "item": [10, 11, 12, 20, 21],
        "criterion": ["a", "b", "c", "a", "d"],
        "label": ["A", "B", "C", "A", "D"],
    }
)


def _audits(grades: list[str], versions: list[int]) -> pd.DataFrame:
    # Read from the database, the strings come back as a pandas string column.
    return pd.DataFrame(
        {
            "audit": range(1, len(grades) + 1),
            "version": versions,
            "criterion_grades": pd.array(grades, dtype="str"),
        }
    )


def test_grades_are_decoded_in_rubric_order_and_ungraded_or_unstored_ones_left_out():
    got = _criteria(_audits(["430", "", "21", "102"], [1, 1, 2, 1]), RUBRIC)
    assert list(zip(got["audit"], got["criterion"].astype(str), got["grade"], strict=True)) == [
        (1, "a", 4),
        (4, "a", 1),
        (1, "b", 3),
        (4, "c", 2),
        (3, "a", 2),
        (3, "d", 1),
    ]
    assert got["label"].astype(str).tolist() == ["A", "A", "B", "C", "A", "D"]


def test_a_grade_string_of_the_wrong_length_for_its_version_is_refused():
    with pytest.raises(ValueError, match="version 2 store grades for other than its 2 criteria"):
        _criteria(_audits(["430", "213"], [1, 2]), RUBRIC)
