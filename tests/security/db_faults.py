"""Making the database itself refuse a write in the middle of a bulk import.

An import validates every row before it writes, so a database error during the write is what
validation could not foresee: another writer got there first, a constraint was added later, the
disk filled up. To test that such an error leaves nothing behind, ``database_refuses`` adds a real
rule to the database for one test: PostgreSQL gets a CHECK constraint (``NOT VALID``, so rows
already there are not checked), SQLite a trigger that aborts the statement. Either way the refusal
comes from the database during the import's INSERT, UPDATE or COPY, as a real failure would, and
both are DDL inside the test's transaction, so they vanish when the test rolls back.

``writes`` records the INSERT and UPDATE statements the import ran, with how many rows their table
held just before each, so a test can show that rows really had been written (the first batch)
before the database refused one.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

from django.db import connection

REFUSAL = "refused_by_the_test"


def database_refuses(*, table: str, column: str, value: str) -> None:
    """From now until the test ends, writing ``value`` into ``table.column`` fails in the database."""
    assert re.fullmatch(r"[a-z_]+", table) and re.fullmatch(r"[a-z_]+", column), (table, column)
    assert re.fullmatch(r"[A-Za-z0-9 _-]+", value), value  # it is written into the DDL below
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE refuses while foreign-key checks of rows inserted earlier in this
            # transaction are pending (Django's keys are deferred): run them now, then defer again.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute(
                f'ALTER TABLE "{table}" ADD CONSTRAINT {REFUSAL}_{column} '
                f"CHECK (\"{column}\" <> '{value}') NOT VALID"
            )
        else:
            for operation in ("INSERT", "UPDATE"):
                cursor.execute(
                    f'CREATE TRIGGER {REFUSAL}_{table}_{operation.lower()} BEFORE {operation} ON "{table}" '
                    f"WHEN NEW.\"{column}\" = '{value}' BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
                )


@contextmanager
def writes():
    """Yield a list that fills with (statement, table, rows in the table just before it) for every
    INSERT and UPDATE run while the context is open. The last entry is the statement the database
    refused; its row count shows what the import had written by then. (COPY on PostgreSQL is not
    seen: it does not go through Django's cursor wrapper.)"""
    seen: list[tuple[str, str, int]] = []

    def record(execute, sql, params, many, context):
        match = re.match(r'\s*(INSERT INTO|UPDATE)\s+"?([a-z_]+)"?', sql, re.IGNORECASE)
        if match:
            verb, table = match.group(1).split()[0].upper(), match.group(2)
            with context["connection"].cursor() as cursor:
                cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608  (a table name from Django)
                seen.append((verb, table, cursor.fetchone()[0]))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield seen
