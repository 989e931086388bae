"""No child-identifying data is stored: after the demo seed, no clear case reference it used is in
any text column of any table, nor in anything it logged or printed.

The references are collected as the seeder hashes them: ``practice.demo`` calls
``case_reference_hash(child)`` for every referral, so wrapping that name records exactly the
references used, without changing what the seeder stores (the wrapper returns the same hash) and
without a second copy of its generator to keep in step. The demo's references are fictional, "NB"
and six digits; the scan also looks for anything of that shape, in any case and spacing.
"""

from __future__ import annotations

import io
import logging
import re
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import override_settings

from practice import demo as practice_demo

pytestmark = pytest.mark.django_db

REFERENCE_SHAPE = re.compile(r"nb\s*\d{6}", re.IGNORECASE)
TEXT_TYPES = ("char", "text", "json", "varchar", "clob")


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())
        if record.exc_info:
            self.lines.append(logging.Formatter().formatException(record.exc_info))


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed the demo once for this module, recording the clear references the seeder hashed and
    everything logged or printed, inside a transaction rolled back at the end."""
    used: list[str] = []
    real_hash = practice_demo.case_reference_hash

    def recording_hash(reference: str) -> str:
        used.append(reference)
        return real_hash(reference)

    handler = _Collect()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    out = io.StringIO()
    try:
        with (
            django_db_blocker.unblock(),
            override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
            mock.patch.object(practice_demo, "case_reference_hash", recording_hash),
            transaction.atomic(),
        ):
            call_command("seed_demo", "--seed", "2014", stdout=out, stderr=out)
            yield {"references": set(used), "output": [out.getvalue(), *handler.lines]}
            transaction.set_rollback(True)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _text_values():
    """(table, column, value) for every text-like column of every table."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            description = connection.introspection.get_table_description(cursor, table)
            for column in description:
                field_type = connection.introspection.get_field_type(column.type_code, column)
                if not any(kind in field_type.lower() for kind in TEXT_TYPES):
                    continue
                name = connection.ops.quote_name(column.name)
                cursor.execute(
                    f"SELECT {name} FROM {connection.ops.quote_name(table)} WHERE {name} IS NOT NULL"  # noqa: S608 - names from introspection
                )
                for (value,) in cursor.fetchall():
                    yield table, column.name, str(value)


def test_the_seeder_used_many_references(seeded):
    assert len(seeded["references"]) > 500
    assert all(REFERENCE_SHAPE.fullmatch(r) for r in seeded["references"])


def test_no_clear_case_reference_in_any_table(seeded, django_db_blocker):
    references = {r.upper() for r in seeded["references"]}
    found, scanned = [], 0
    with django_db_blocker.unblock():
        for table, column, value in _text_values():
            scanned += 1
            for match in REFERENCE_SHAPE.findall(value):
                normalised = re.sub(r"\s+", "", match).upper()
                found.append((table, column, "used by the seeder" if normalised in references else "shaped"))
    assert scanned > 10_000  # the scan really read the seeded tables
    assert found == []


def test_no_clear_case_reference_in_logs_or_output(seeded):
    text = "\n".join(seeded["output"])
    assert text.strip()  # the seeder did print and log
    assert not REFERENCE_SHAPE.search(text)
