"""Turning a query's rows into a pandas frame, quickly on PostgreSQL.

Reading a report's frames was mostly Python work, not the database's: the driver builds a Python
object for every value and a tuple for every row, and pandas then walks them to build its columns.
For the scale scores of a local authority (129,000 rows of four numbers) that took about 400 ms,
of which the query itself is about 80 ms. On PostgreSQL the database can instead write the rows
as CSV text, and pandas' C parser reads that text into columns without a Python object per
value: the same frame in about 260 ms, most of it now the database's.

Columns named in ``text`` are quoted CSV-style, so a comma, a quote or a line break in them cannot
shift the columns; numbers are written as PostgreSQL writes them (a float in full, so it reads
back exactly). Other databases get the plain path, which gives the same frame (the tests compare
the two on PostgreSQL).
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Sequence

import pandas as pd
from django.db import connections, transaction
from django.db.models import Model, QuerySet
from django.db.models.expressions import Col

# Rows are turned into a frame this many at a time, so a national report never holds millions of
# Python tuples (or lines of text) at once.
CHUNK_ROWS = 100_000
# Above this many rows in its table (the planner's estimate), a frame is worth streaming (see
# ``read_frame``): below it, one string of every line is quicker (about 30% less time for the 129,000
# scale scores of a local authority) and small enough to hold twice.
STREAM_ABOVE_ROWS = 1_000_000
# Work memory for a streamed read (see ``read_frame``): joining ten million scores to two million
# responses spilled its hash tables to disk in 32 batches with the default 4 MB.
STREAMED_WORK_MEM = "64MB"


def frame_from_rows(rows: Iterable[Sequence], columns: list[str]) -> pd.DataFrame:
    """A frame from row tuples, built ``CHUNK_ROWS`` rows at a time (a tuple costs about ten times
    its values' size in a frame)."""
    iterator = iter(rows)
    parts = []
    while chunk := list(itertools.islice(iterator, CHUNK_ROWS)):
        parts.append(pd.DataFrame(chunk, columns=columns))
    if len(parts) <= 1:
        return parts[0] if parts else pd.DataFrame([], columns=columns)
    # A chunk whose column is all missing has object dtype; the whole column's type is inferred again.
    return pd.concat(parts, ignore_index=True).infer_objects()


def worth_streaming(model: type[Model], using: str = "default") -> bool:
    """Whether a frame read from ``model``'s table should be ``streamed``: on PostgreSQL when the
    planner's statistics put the table above ``STREAM_ABOVE_ROWS`` rows, or have no estimate yet
    (a table never analysed); elsewhere always, as the plain path reads in chunks either way."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
            [connection.ops.quote_name(model._meta.db_table)],
        )
        [estimate] = cursor.fetchone()
    return estimate < 0 or estimate > STREAM_ABOVE_ROWS


def read_frame(
    rows: QuerySet,
    columns: list[str],
    *,
    text: Sequence[str] = (),
    booleans: Sequence[str] = (),
    dates: Sequence[str] = (),
    streamed: bool = False,
) -> pd.DataFrame:
    """The rows of a ``values_list`` queryset as a frame with these column names.

    ``booleans`` and ``dates`` name the columns that hold them (dates come back as ``datetime64``,
    as ``ImpactFrames`` holds them); ``text`` the columns holding strings. ``streamed`` reads the
    rows in chunks through a server-side cursor, in a transaction of its own, so that a national
    report never holds the whole result twice over (the driver's copy and the frame's): for a
    large table only (``worth_streaming``), since at smaller sizes it takes about 40% longer.
    """
    unknown = (set(text) | set(booleans) | set(dates)) - set(columns)
    if unknown:
        raise ValueError(f"not among the columns: {sorted(unknown)}")
    if connections[rows.db].vendor == "postgresql":
        frame = _read_csv_text(rows, columns, text=text, booleans=booleans, dates=dates, streamed=streamed)
        for name in booleans:
            frame[name] = frame[name].map({1: True, 0: False})
        for name in dates:
            frame[name] = (_EPOCH + pd.to_timedelta(frame[name], unit="D")).astype("datetime64[s]")
        return frame
    if streamed:
        with transaction.atomic(using=rows.db):
            frame = frame_from_rows(rows.iterator(CHUNK_ROWS), columns)
    else:
        frame = frame_from_rows(rows, columns)
    for name in dates:
        frame[name] = pd.to_datetime(frame[name]).astype("datetime64[s]")
    return frame


_EPOCH = pd.Timestamp("1970-01-01")


def _read_csv_text(
    rows: QuerySet,
    columns: list[str],
    *,
    text: Sequence[str],
    booleans: Sequence[str],
    dates: Sequence[str],
    streamed: bool,
) -> pd.DataFrame:
    compiler = rows.query.get_compiler(using=rows.db)
    sql, params = compiler.as_sql()
    if compiler.col_count != len(columns):
        # The text below is matched to the names by position: a query that selects more (or
        # fewer) columns than named would silently put values under the wrong names.
        raise ValueError(f"the query selects {compiler.col_count} columns, not {len(columns)}")
    aliases = [f"c{k}" for k in range(len(columns))]
    # A text value is quoted. The parser reads an empty one as missing, like NULL: for a column
    # that cannot be NULL, that can only have been an empty string, so it is filled back in; a text
    # value that may be NULL starts with one extra character that the parser's caller strips (a
    # Python call per value, which is why the others go without). Dates are written as days since
    # 1970 and booleans as 1 or 0: numbers are quicker to write and to read back than YYYY-MM-DD
    # and t or f.
    never_null = _never_null(rows, compiler, columns)
    prefixed = [name for name in text if name not in never_null]
    fields = []
    for alias, name in zip(aliases, columns, strict=True):
        if name in text and name in never_null:
            fields.append(f"""'"' || replace({alias}::text, '"', '""') || '"'""")
        elif name in text:
            fields.append(f"""'"_' || replace({alias}::text, '"', '""') || '"'""")
        elif name in dates:
            fields.append(f"({alias} - DATE '1970-01-01')")
        elif name in booleans:
            fields.append(f"{alias}::int")
        else:
            fields.append(alias)
    # concat() writes a missing value as an empty field, which the parser reads as missing.
    separator = ", ',', "
    line = f"concat({separator.join(fields)})"
    source = f"({sql}) AS rows_read ({', '.join(aliases)})"
    connection = connections[rows.db]
    if not streamed:
        # One value holding every line: one Python string, whatever the number of rows. A text
        # value holds at most 1 GB, about twenty million lines of a few numbers (the national
        # referrals are 1.4 million); a frame that could outgrow that is read ``streamed``.
        with connection.cursor() as cursor:
            # The SQL is Django's own for the queryset, with its values passed as parameters.
            cursor.execute(f"SELECT string_agg({line}, E'\\n') FROM {source}", params)  # noqa: S608  # nosec B608
            [csv] = cursor.fetchone()
        return _parse(csv or "", columns, text, prefixed)
    parts = []
    # In a transaction of its own: outside one, PostgreSQL would first copy the whole result aside
    # for a cursor WITH HOLD. Read through an ordinary cursor, the client library holds the whole
    # result before the first line is parsed (1.2 GB more at the peak of a national report).
    with transaction.atomic(using=rows.db), connection.cursor() as settings:
        # Both settings last until this transaction ends. Every row is read, so the planner should
        # not favour plans that return the first rows quickly (it assumes a cursor reads a tenth).
        settings.execute("SET LOCAL cursor_tuple_fraction = 1")
        settings.execute(f"SET LOCAL work_mem = '{STREAMED_WORK_MEM}'")
        with connection.chunked_cursor() as cursor:
            cursor.execute(f"SELECT {line} FROM {source}", params)  # noqa: S608  # nosec B608
            while chunk := cursor.fetchmany(CHUNK_ROWS):
                parts.append(_parse("\n".join(row[0] for row in chunk), columns, text, prefixed))
    if not parts:
        return _parse("", columns, text, prefixed)
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _never_null(rows: QuerySet, compiler, columns: list[str]) -> set[str]:
    """The columns that are a NOT NULL field of the queryset's own table (a joined table's field
    can still come back NULL from an outer join, and an expression may give NULL)."""
    return {
        name
        for (expression, _, _), name in zip(compiler.select, columns, strict=True)
        if isinstance(expression, Col)
        and expression.alias == rows.query.base_table
        and not expression.target.null
    }


def _parse(csv: str, columns: list[str], text: Sequence[str], prefixed: Sequence[str]) -> pd.DataFrame:
    if not csv:
        return pd.DataFrame([], columns=columns)
    frame = pd.read_csv(
        io.StringIO(csv),
        names=columns,
        header=None,
        dtype=dict.fromkeys(text, str),
        # Only an empty field (NULL) is missing: a value such as "NA" is a value, not a gap.
        keep_default_na=False,
        na_values=[""],
    )
    for name in text:
        frame[name] = frame[name].str.slice(1) if name in prefixed else frame[name].fillna("")
    return frame
