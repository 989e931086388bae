"""Numbers in report tables as people read them: counts as whole numbers, never "-0.0".

A pandas column holding a count next to missing values, or a "value" column mixing a count with
statistics, is stored as floats, so 127 people would print as "127.0" in the page, the PDF and
the CSV; rounding a small negative estimate gives -0.0, which prints as "-0.0". Every table the
report publishes (its own and those behind charts) passes through `tidy_numbers`.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

# Columns holding counts of people, referrals or audits.
COUNT_PREFIXES = ("n_", "reliably_")
COUNT_COLUMNS = ("n", "base", "invited", "answered")


def is_count_column(name: str) -> bool:
    return name in COUNT_COLUMNS or name.startswith(COUNT_PREFIXES)


def tidy_value(value: Any, *, count: bool = False) -> Any:
    if isinstance(value, bool) or not isinstance(value, float):
        return value
    if not math.isfinite(value):
        return value
    if count and value.is_integer():
        return int(value)
    return value + 0.0  # -0.0 + 0.0 is 0.0


def tidy_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with negative zeros made zero and whole-number counts held as integers.

    A column mixing a count with statistics (a "value" column) should be built with
    ``dtype=object`` so that its count stays a Python integer; this keeps it so.
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        count = is_count_column(str(column))
        if pd.api.types.is_float_dtype(values):
            finite = values.dropna()
            if count and len(finite) and (finite == finite.round()).all():
                out[column] = _objects([None if pd.isna(v) else int(v) for v in values], out.index)
            else:
                out[column] = values + 0.0
        elif values.dtype == object:
            out[column] = _objects([tidy_value(v, count=count) for v in values], out.index)
    return out


def _objects(values: list, index: pd.Index) -> pd.Series:
    # A plain list would be re-inferred (whole numbers and None become floats again).
    return pd.Series(values, index=index, dtype=object)
