"""On PostgreSQL, outside a transaction, the report's frames are read on two connections at once.
The result must be the same as reading them one after another, errors must reach the caller, and
the second connection must not be left open."""

import io
import threading

import pandas as pd
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings

from analysis import frames as frames_module
from analysis.frames import Selection, build_frames
from training.models import User

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the concurrent reads are PostgreSQL's"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
def test_concurrent_frames_equal_serial_ones_and_leave_no_connection_open(monkeypatch):
    call_command("seed_demo", "--seed", "2014", stdout=io.StringIO())
    lead = User.objects.get(username="lead")
    assert not connection.in_atomic_block
    before = _backends()

    monkeypatch.setattr(frames_module, "FRAME_READERS", 1)
    serial = build_frames(user=lead, selection=Selection())
    monkeypatch.setattr(frames_module, "FRAME_READERS", 2)
    threads = []
    real_thread = threading.Thread

    def spy(*args, **kwargs):
        thread = real_thread(*args, **kwargs)
        threads.append(thread)
        return thread

    monkeypatch.setattr(frames_module.threading, "Thread", spy)
    concurrent = build_frames(user=lead, selection=Selection())

    assert len(threads) == 1 and not threads[0].is_alive()
    for name in ("scores", "item_scores", "invitations", "audits", "criteria", "training", "referrals"):
        got, expected = getattr(concurrent, name), getattr(serial, name)
        assert len(expected) > 0, name
        pd.testing.assert_frame_equal(_sorted(got), _sorted(expected), obj=name)
    pd.testing.assert_frame_equal(concurrent.courses, serial.courses)
    pd.testing.assert_frame_equal(_sorted(concurrent.reaction_items), _sorted(serial.reaction_items))
    assert concurrent.referrals_since == serial.referrals_since
    assert concurrent.questionnaire_courses == serial.questionnaire_courses
    assert _backends() == before  # the second thread closed its connection


def test_reads_run_on_two_threads_and_an_error_reaches_the_caller(monkeypatch):
    monkeypatch.setattr(frames_module, "FRAME_READERS", 2)
    seen = set()
    gate = threading.Barrier(2, timeout=10)

    def reader():
        seen.add(threading.current_thread().name)
        gate.wait()  # both threads must be reading at once to get past this
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone()[0]

    assert frames_module._read_all({"a": reader, "b": reader}) == {"a": 1, "b": 1}
    assert len(seen) == 2

    def broken():
        raise ValueError("a reader failed")

    with pytest.raises(ValueError, match="a reader failed"):
        frames_module._read_all({"broken": broken, "fine": lambda: 1})


def test_inside_a_transaction_everything_is_read_on_the_callers_connection(monkeypatch):
    monkeypatch.setattr(frames_module, "FRAME_READERS", 2)
    seen = set()

    def reader():
        seen.add(threading.current_thread().name)
        return 1

    with transaction.atomic():
        frames_module._read_all({"a": reader, "b": reader, "c": reader})
    assert seen == {threading.current_thread().name}


def _workers() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        return cursor.fetchone()[0]


@pytest.mark.parametrize("readers", [1, 2])
def test_frames_are_read_without_parallel_workers_and_the_setting_is_put_back(monkeypatch, readers):
    monkeypatch.setattr(frames_module, "FRAME_READERS", readers)
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 3")
    seen = []

    def reader():
        seen.append(_workers())
        return 1

    frames_module._read_all({"a": reader, "b": reader, "c": reader})
    assert seen == ["0", "0", "0"]
    assert _workers() == "3"  # the caller's connection as it was
    with connection.cursor() as cursor:
        cursor.execute("RESET max_parallel_workers_per_gather")
