"""Small-number suppression, as official statistics do: a figure about fewer than five people is
shown as "c" (confidential) in pages, exports and the API, because with so few people a reader
could work out something about an individual."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

SUPPRESSED = "c"
MIN_CELL = 5
# Keys of a figures dictionary that count people: when one of them is under MIN_CELL, every other
# figure in the same dictionary describes those few people and is hidden with it.
PEOPLE_KEYS = ("n", "n_people", "n_treated_units")


def is_suppressed(count: int | float | None, threshold: int = MIN_CELL) -> bool:
    return count is None or pd.isna(count) or count < threshold


def small_count(count: int | float | None, threshold: int = MIN_CELL) -> Any:
    """A count of people as it may be shown: "c" when it is 1 to ``threshold - 1``.

    Zero is shown: "nobody reliably worse" is not about anyone. Used for counts that are figures in
    their own right (people reliably improved), not the size of a row, which `suppress` handles.
    """
    if count is None or pd.isna(count):
        return None
    return SUPPRESSED if 0 < count < threshold else int(count)


def suppress(
    table: pd.DataFrame,
    *,
    count_column: str = "n",
    columns: Iterable[str] | None = None,
    threshold: int = MIN_CELL,
) -> pd.DataFrame:
    """Replace figures in rows about fewer than ``threshold`` people with "c".

    ``columns`` are the figures to hide (default: every column but the labels, which are the
    non-numeric ones). The count itself is hidden too, since "3 people" is itself disclosive.
    """
    small = np.array(
        [n == SUPPRESSED or is_suppressed(n, threshold) for n in table[count_column]], dtype=bool
    )
    if columns is None:
        columns = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    # The count is always hidden with its figures, even when the caller lists only the figures.
    hidden = {*columns, count_column}
    # The copy built at once from its columns, by position: assigning each hidden column to a copy
    # cost about as much as the rest of the work together.
    parts = {}
    for position, label in enumerate(table.columns):
        column = table.iloc[:, position]
        if label in hidden:
            # Objects, so that a "c" can stand among numbers (and whole numbers stay whole).
            values = np.array(column.to_numpy(dtype=object), dtype=object)
            values[small] = SUPPRESSED
            parts[position] = values
        else:
            parts[position] = column.array  # as it is: its dtype, and no alignment on the index
    out = pd.DataFrame(parts, index=table.index)
    out.columns = table.columns
    return out


def suppress_figures(figures: Any, threshold: int = MIN_CELL) -> Any:
    """The figures of a section as they may leave the report (the API's ``figures``).

    Any dictionary holding a count of people (see `PEOPLE_KEYS`) under ``threshold`` has every
    value replaced by "c", nested ones included: its estimate, interval and even its direction
    ("rise") describe those few people. Sections already build their figures this way; this is
    the last guard before they are published.
    """
    if isinstance(figures, Mapping):
        counts = [figures[k] for k in PEOPLE_KEYS if k in figures]
        if any(c == SUPPRESSED or (_number(c) is not None and _number(c) < threshold) for c in counts):
            return {str(k): _hidden(v) for k, v in figures.items()}
        return {str(k): suppress_figures(v, threshold) for k, v in figures.items()}
    if isinstance(figures, (list, tuple)):
        return [suppress_figures(v, threshold) for v in figures]
    return figures


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(float(value)) else None


def _hidden(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _hidden(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_hidden(v) for v in value]
    return SUPPRESSED
