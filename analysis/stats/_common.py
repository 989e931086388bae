"""Small helpers shared by the statistics modules: result serialisation and input checks."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .errors import AnalysisInputError

__all__ = ["Result", "clean_for_json", "numeric_column", "require_columns"]


def clean_for_json(value: Any) -> Any:
    """Convert a result value into plain JSON-safe Python.

    NaN and infinities become ``None`` because JSON has no spelling for them (``json.dumps`` would
    otherwise write the invalid token ``NaN``). numpy scalars become Python scalars.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.to_dict() if hasattr(value, "to_dict") else clean_for_json(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): clean_for_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_for_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return [clean_for_json(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


class Result:
    """Mixin for frozen result dataclasses: ``to_dict()`` gives the snake_case JSON keys."""

    #: Fields left out of ``to_dict()`` (per-person arrays that would swamp a report).
    _exclude_from_dict: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-safe dictionary (NaN becomes ``None``)."""
        out = {}
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            if field.name in self._exclude_from_dict:
                continue
            out[field.name] = clean_for_json(getattr(self, field.name))
        return out


def require_columns(data: pd.DataFrame, columns: Iterable[str]) -> None:
    """Raise `AnalysisInputError` naming the first missing column and listing the available ones."""
    if not isinstance(data, pd.DataFrame):
        raise AnalysisInputError("expected a pandas DataFrame")
    for column in columns:
        if column not in data.columns:
            available = ", ".join(str(c) for c in data.columns) or "(none)"
            raise AnalysisInputError(f"column {column!r} not found; available columns: {available}")


def numeric_column(data: pd.DataFrame, column: str, *, row_word: str = "row") -> pd.Series:
    """Return ``data[column]`` as float, raising a one-line error that quotes the first bad value.

    Empty cells are allowed and become NaN (missing); text such as ``"n/a"`` or ``"7,5"`` is not,
    because silently turning it into a missing value would quietly change the sample. Infinities
    (``inf``, ``-inf``, ``Infinity``, or a number too large for a float such as ``1e999``) count as
    non-numeric too: no score, period or rating is infinite, and one would turn every mean into
    ``inf`` and every statistic into NaN. ``row_word`` names the index in the message (the command
    line indexes rows by their line in the file).
    """
    raw = data[column]
    if raw.dtype.kind in "biu":  # numpy booleans and integers: every value is a finite number
        return pd.Series(raw.to_numpy(dtype=float), index=raw.index, name=raw.name)
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype(float)
    if pd.api.types.is_numeric_dtype(raw):
        converted = raw.astype(float)
        bad = np.isinf(converted.to_numpy())
    else:
        as_text = raw.astype("string").str.strip()
        blank = (as_text.isna() | (as_text == "")).to_numpy()
        converted = pd.to_numeric(as_text.where(~blank), errors="coerce").astype(float)
        values = converted.to_numpy()
        bad = (np.isnan(values) | np.isinf(values)) & ~blank
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        label = data.index[position]
        raise AnalysisInputError(
            f"column {column!r} has a non-numeric value {str(raw.iloc[position])!r} ({row_word} {label})"
        )
    return converted
