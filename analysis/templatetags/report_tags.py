"""Display helpers for report tables: readable column names, numbers aligned as numbers and empty
cells for missing numbers."""

import math
import numbers

import pandas as pd
from django import template

from analysis.suppression import SUPPRESSED

register = template.Library()

COLUMN_LABELS = {
    "n": "People",
    "base": "Out of",
    "counting": "Counting",
    "months_since_training": "Months since training",
    "question": "Question",
    "mean_gain": "Mean knowledge gain (points)",
    "learning_group": "People grouped by knowledge gain",
    "r": "r",
    "p": "p",
    "mean_change": "Mean change in audit score",
    "p_holm": "p (Holm)",
    "ci_low": "95% CI from",
    "ci_high": "95% CI to",
    "d_z": "d_z",
    "d_z_ci_low": "d_z CI from",
    "d_z_ci_high": "d_z CI to",
    "g_av": "g_av",
    "hake_gain": "Hake's gain",
    "alpha": "Cronbach's alpha",
    "reliably_improved": "Reliably improved",
    "reliably_worse": "Reliably worse",
    "att": "Effect",
    "se": "Standard error",
    "clear_after_correction": "Clear after correction",
    "n_before": "Referrals before",
    "n_after": "Referrals after",
    "n_comparison": "Comparison staff",
    "event_time": "Quarters since training",
    "group": "Cohort (quarter trained)",
    "time": "Quarter",
    "delivery_mode": "Delivery",
    "label": "Course",
}


@register.filter
def column_label(name: str) -> str:
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    if name.startswith("retained_"):
        return f"Change kept, {name.removeprefix('retained_')} (%)"
    return name.replace("_", " ").capitalize()


def _is_number(value) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _numeric(frame: pd.DataFrame) -> list[bool]:
    """Whether each column holds numbers (suppressed "c" and empty cells aside): those columns are
    right-aligned and never broken across lines."""
    flags = []
    for column in frame.columns:
        values = [v for v in frame[column] if v is not None and v != SUPPRESSED and not _missing(v)]
        flags.append(bool(values) and all(_is_number(v) for v in values))
    return flags


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


@register.filter
def table_columns(frame: pd.DataFrame) -> list[tuple[str, bool]]:
    return list(zip(frame.columns, _numeric(frame), strict=True))


def _decimals(value: float) -> int:
    text = repr(float(value))
    return 0 if "e" in text or "." not in text else min(len(text.split(".")[1].rstrip("0")), 4)


@register.filter
def table_rows(frame: pd.DataFrame) -> list[list[tuple[object, bool]]]:
    """Rows as (value, numeric) pairs. In a column of numbers every figure is shown to the same
    number of decimal places (4.40 beside 6.99, not 4.4), so that they line up and read alike."""
    flags = _numeric(frame)
    places = [
        max((_decimals(v) for v in frame[c] if isinstance(v, float) and math.isfinite(v)), default=0)
        if numeric
        else 0
        for c, numeric in zip(frame.columns, flags, strict=True)
    ]
    rows = []
    for row in frame.itertuples(index=False, name=None):
        cells = []
        for value, numeric, d in zip(row, flags, places, strict=True):
            if numeric and isinstance(value, float) and math.isfinite(value):
                value = f"{float(value) + 0.0:.{d}f}"
            cells.append((value, numeric))
        rows.append(cells)
    return rows


@register.filter
def cell(value) -> str:
    if value is None or _missing(value):
        return "\u2013"  # an en dash, as GOV.UK tables show an empty figure
    if isinstance(value, float) and value == 0:
        return "0.0"  # never "-0.0"
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    return value
