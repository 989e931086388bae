"""Numbers in report tables as people read them: counts as whole numbers, never "-0.0".

A pandas column holding a count next to missing values, or a "value" column mixing a count with
statistics, is stored as floats, so 127 people would print as "127.0" in the page, the PDF and
the CSV; rounding a small negative estimate gives -0.0, which prints as "-0.0". Every table the
report publishes (its own and those behind charts) passes through `tidy_numbers`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
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
    ``dtype=object`` so that its count stays a Python integer; this keeps it so. Columns are worked
    on as numpy arrays and the copy built at once: a report tidies about thirty small tables, and
    pandas' own per-column steps (copy, drop missing, round, compare, assign) cost about half a
    millisecond a table.
    """
    columns = []
    for label in frame.columns:
        values = frame[label]
        count = is_count_column(str(label))
        if values.dtype == np.float64:
            array = values.to_numpy()
            finite = array[~np.isnan(array)]
            if count and len(finite) and (finite == np.round(finite)).all():
                columns.append(
                    _objects([None if math.isnan(v) else int(v) for v in array.tolist()], frame.index)
                )
            else:
                columns.append(pd.Series(array + 0.0, index=frame.index))
        elif pd.api.types.is_float_dtype(values):  # a nullable float column: pandas' own way
            finite = values.dropna()
            if count and len(finite) and (finite == finite.round()).all():
                columns.append(_objects([None if pd.isna(v) else int(v) for v in values], frame.index))
            else:
                columns.append(values + 0.0)
        elif values.dtype == object:
            columns.append(_objects([tidy_value(v, count=count) for v in values], frame.index))
        else:
            columns.append(values)
    # Built by position, then given the frame's own labels (whatever they are: tuples, numbers).
    out = pd.concat(columns, axis=1, ignore_index=True) if columns else frame.iloc[:, :0].copy()
    out.columns = frame.columns
    return out


def _objects(values: list, index: pd.Index) -> pd.Series:
    # A plain list would be re-inferred (whole numbers and None become floats again).
    return pd.Series(values, index=index, dtype=object)
