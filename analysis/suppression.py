"""Small-number suppression, as official statistics do: a figure about fewer than five people is
shown as "c" (confidential) in pages, exports and the API, because with so few people a reader
could work out something about an individual."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

SUPPRESSED = "c"
MIN_CELL = 5


def is_suppressed(count: int | float | None, threshold: int = MIN_CELL) -> bool:
    return count is None or pd.isna(count) or count < threshold


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
    out = table.copy()
    small = out[count_column].map(lambda n: is_suppressed(n, threshold))
    if columns is None:
        columns = [c for c in out.columns if pd.api.types.is_numeric_dtype(out[c])]
    # The count is always hidden with its figures, even when the caller lists only the figures.
    columns = list(dict.fromkeys([*columns, count_column]))
    for column in columns:
        out[column] = out[column].astype(object)
        out.loc[small, column] = SUPPRESSED
    return out
