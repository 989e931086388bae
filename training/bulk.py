"""Bulk writes for the largest tables, without a model instance per row."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from django.db import connections, router

# Field types whose Python values every backend driver takes as they are. Other fields (dates and
# times on SQLite, JSON everywhere) go through the field's own get_db_prep_save.
PLAIN_TYPES = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "FloatField",
    "ForeignKey",
    "IntegerField",
    "OneToOneField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
}
# psycopg adapts these itself, so COPY on PostgreSQL skips the per-value call.
POSTGRESQL_PLAIN_TYPES = PLAIN_TYPES | {"DateField", "DateTimeField", "DecimalField"}


def _preparers(model, fields: list[str], connection) -> list:
    plain = POSTGRESQL_PLAIN_TYPES if connection.vendor == "postgresql" else PLAIN_TYPES
    preparers = []
    for name in fields:
        field = model._meta.get_field(name)
        if field.get_internal_type() in plain:
            preparers.append(None)
        else:
            preparers.append(lambda value, field=field: field.get_db_prep_save(value, connection))
    return preparers


def insert_rows(model, fields: list[str], rows: Iterable[tuple], batch_size: int = 5000) -> None:
    """Insert plain tuples into ``model``'s table: ``COPY`` on PostgreSQL, batched ``executemany``
    elsewhere, inside whatever transaction the caller holds.

    For tables whose ids nobody needs back (item answers, scale scores): building and preparing a
    model instance per row took most of the time of the seed and of a 100,000-row audit import.
    Rows must give every non-null column in ``fields`` (``auto_now`` dates too) and be valid
    already: no save() or field defaults run. Values are Python values, as on a model instance;
    dates, times and JSON are converted for the database here. Database errors arrive as Django's
    (IntegrityError and so on), as from any query."""
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    preparers = _preparers(model, fields, connection)
    if any(preparers):
        rows = (
            tuple(
                value if prepare is None else prepare(value)
                for prepare, value in zip(preparers, row, strict=True)
            )
            for row in rows
        )
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


def insert_rows_with_ids(
    model, fields: list[str], rows: Iterable[tuple], batch_size: int = 5000
) -> list[int]:
    """Insert like ``insert_rows`` and return the new rows' ids, in row order.

    For rows that others point at (invitations, responses, referrals). On PostgreSQL one query
    takes the ids from the table's sequence and the rows are copied with them, which is several
    times quicker than ``bulk_create``'s INSERT ... RETURNING. Elsewhere (SQLite, for the smaller
    scales) it is ``bulk_create``, which runs ``pre_save`` (``auto_now`` dates are set there)."""
    rows = list(rows)
    if not rows:
        return []
    connection = connections[router.db_for_write(model)]
    pk = model._meta.pk
    if connection.vendor != "postgresql":
        attnames = [model._meta.get_field(name).attname for name in fields]
        created = model.objects.bulk_create(
            [model(**dict(zip(attnames, row, strict=True))) for row in rows], batch_size=batch_size
        )
        return [instance.pk for instance in created]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_serial_sequence(%s, %s)",
            [connection.ops.quote_name(model._meta.db_table), pk.column],
        )
        [sequence] = cursor.fetchone()
        cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, len(rows)])
        # Ascending, as bulk_create would give them, even if another session took ids meanwhile.
        ids = sorted(value for (value,) in cursor.fetchall())
    insert_rows(
        model,
        [pk.name, *fields],
        ((pk_value, *row) for pk_value, row in zip(ids, rows, strict=True)),
        batch_size,
    )
    return ids
