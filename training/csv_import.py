"""Shared machinery for all-or-nothing CSV imports.

Every import in the product (staff directory, attendance, past referrals and audits) reads a
file, checks every row, and either saves all rows or none. Users get every problem at once,
each named by row and column, so they can fix the spreadsheet in one pass.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_IMPORT_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class RowError:
    row: int  # the spreadsheet row number: the header is row 1, the first record row 2
    column: str
    message: str

    def __str__(self) -> str:
        return f"Row {self.row}, column {self.column}: {self.message}"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def saved(self) -> int:
        return self.created + self.updated


class ImportRejected(Exception):
    """Raised inside the import transaction so that nothing is saved when any row is bad."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} problems found; nothing was saved.")
        self.errors = errors


def normalise_header(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def read_rows(
    data: bytes | str, *, required: Iterable[str], optional: Iterable[str] = ()
) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """Decode a CSV file and return (row number, cells) pairs, or the file-level errors.

    Headers are matched case-insensitively, ignoring spaces and hyphens. Unknown columns are
    an error rather than silently dropped, because a misspelt optional column would otherwise
    lose data without anyone noticing.
    """
    required, optional = list(required), list(optional)
    if isinstance(data, bytes):
        if len(data) > MAX_IMPORT_BYTES:
            return [], [RowError(1, "(file)", "The file is larger than 20 MB. Split it into smaller files.")]
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return [], [RowError(1, "(file)", "The file must be saved as CSV UTF-8.")]
    else:
        text = data
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return [], [RowError(1, "(file)", "The file is empty.")]
    columns = [normalise_header(h) for h in header]
    errors = [RowError(1, col, "This column is missing.") for col in required if col not in columns]
    known = set(required) | set(optional)
    errors += [
        RowError(1, col, "This column is not recognised.") for col in columns if col and col not in known
    ]
    if errors:
        return [], errors
    rows = []
    for row_number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines at the end of spreadsheets are common and harmless
        if len(cells) > len(columns):
            errors.append(
                RowError(row_number, "(row)", f"Has {len(cells)} cells but the header has {len(columns)}.")
            )
            continue
        padded = cells + [""] * (len(columns) - len(cells))
        rows.append(
            (row_number, {col: cell.strip() for col, cell in zip(columns, padded, strict=True) if col})
        )
    if not rows and not errors:
        errors.append(RowError(2, "(file)", "The file has a header but no rows."))
    return rows, errors


def parse_date(value: str) -> dt.date:
    """Accept ISO dates and the day-first dates that UK spreadsheets produce."""
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError("Enter a date like 2025-03-31 or 31/03/2025.")


def parse_bool(value: str, *, default: bool) -> bool:
    lowered = value.strip().lower()
    if not lowered:
        return default
    if lowered in {"yes", "y", "true", "1"}:
        return True
    if lowered in {"no", "n", "false", "0"}:
        return False
    raise ValueError("Enter yes or no.")


def match_choice(value: str, choices: Iterable[tuple[str, str]]) -> str:
    """Match a code or a human label (either case) to a choice's stored value."""
    lowered = value.strip().lower()
    for code, label in choices:
        if lowered in {code.lower(), str(label).lower()}:
            return code
    allowed = ", ".join(code for code, _ in choices)
    raise ValueError(f"{value!r} is not one of: {allowed}.")
