"""Bulk writes for the largest tables, without a model instance per row."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from django.db import connections, router


def insert_rows(model, fields: list[str], rows: Iterable[tuple], batch_size: int = 5000) -> None:
    """Insert plain tuples into ``model``'s table: ``COPY`` on PostgreSQL, batched ``executemany``
    elsewhere, inside whatever transaction the caller holds.

    For tables whose ids nobody needs back (item answers, scale scores): building and preparing a
    model instance per row took most of the time of the seed and of a 100,000-row audit import.
    Rows must give every non-null column in ``fields`` and be valid already: no save() or field
    defaults run. Database errors arrive as Django's (IntegrityError and so on), as from any query."""
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY runs on the raw psycopg cursor, outside Django's error translation.
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return
        # The table and column names come from the model, quoted by the backend; values are parameters.
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608  # nosec B608
        iterator = iter(rows)
        while batch := list(itertools.islice(iterator, batch_size)):
            cursor.executemany(sql, batch)
