"""``analysis.rows.read_frame`` must give, on PostgreSQL's CSV-text path, exactly the frame the
plain path (row tuples) gives: the same values under the same names, with missing values,
booleans, dates, exact floats and text holding commas, quotes and line breaks."""

import datetime as dt

import pandas as pd
import pytest
from django.db import connection
from django.db.models import Case, F, FloatField, Value, When
from django.db.models.functions import Cast

from analysis import rows as rows_module
from analysis.rows import frame_from_rows, read_frame
from practice.models import Outcome, Referral
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db

# Read under their own names, but for the referral's and the person's ids.
SAME_NAMES = ["made_on", "outcome_on", "outcome", "notes", "notes_or_null", "is_rereferral", "ratio"]
COLUMNS = ["referral", "staff", *SAME_NAMES]
AWKWARD_NOTES = ['comma, then "quotes"', "a line\nbreak", "", "NA", "trailing \\ backslash"]


@pytest.fixture
def referrals(our_staff, their_staff):
    made = []
    for k, notes in enumerate(AWKWARD_NOTES * 3):
        made_on = dt.date(2025, 1, 1) + dt.timedelta(days=k * 40)
        made.append(
            ReferralFactory(
                staff=our_staff if k % 2 else their_staff,
                made_on=made_on,
                outcome_on=made_on + dt.timedelta(days=30) if k % 3 else None,
                outcome=Outcome.ACCEPTED if k % 3 else Outcome.PENDING,
                notes=notes,
                is_rereferral=bool(k % 4 == 0),
            )
        )
    return made


def _query():
    return (
        Referral.objects.order_by("id")
        .annotate(
            # A float that only survives a round trip through text if written in full.
            ratio=Cast(F("id"), FloatField()) / Value(3.0, output_field=FloatField()),
            # Text that may be NULL as well as empty (the notes cannot be NULL).
            notes_or_null=Case(When(outcome_on__isnull=True, then=Value(None)), default=F("notes")),
        )
        .values_list("id", "staff_id", *SAME_NAMES)
    )


def _expected() -> pd.DataFrame:
    frame = frame_from_rows(_query(), COLUMNS)
    for name in ("made_on", "outcome_on"):
        frame[name] = pd.to_datetime(frame[name]).astype("datetime64[s]")
    return frame


def _read(**options) -> pd.DataFrame:
    return read_frame(
        _query(),
        COLUMNS,
        text=["outcome", "notes", "notes_or_null"],
        booleans=["is_rereferral"],
        dates=["made_on", "outcome_on"],
        **options,
    )


@pytest.mark.parametrize("streamed", [False, True])
def test_read_frame_gives_the_plain_paths_frame(referrals, streamed, monkeypatch):
    # Chunks of 4 rows, so a streamed read is made of several parts.
    monkeypatch.setattr(rows_module, "CHUNK_ROWS", 4)
    got = _read(streamed=streamed)
    expected = _expected()
    assert len(got) == len(referrals) == 15
    assert got["notes"].tolist() == [r.notes for r in referrals]
    assert got["notes_or_null"].isna().tolist() == [r.outcome_on is None for r in referrals]
    assert got["notes_or_null"].fillna("NULL").tolist() == [
        "NULL" if r.outcome_on is None else r.notes for r in referrals
    ]
    assert "" in got["notes"].tolist() and "" in got["notes_or_null"].tolist()
    assert got["ratio"].tolist() == [r.pk / 3.0 for r in referrals]
    assert got["is_rereferral"].tolist() == [r.is_rereferral for r in referrals]
    assert got["outcome_on"].isna().sum() == 5
    assert str(got["made_on"].dtype) == "datetime64[s]"
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_an_empty_result_has_the_columns(db):
    got = read_frame(
        Referral.objects.values_list("id", "made_on"), ["referral", "made_on"], dates=["made_on"]
    )
    assert got.empty and list(got.columns) == ["referral", "made_on"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the CSV-text path is PostgreSQL's")
def test_a_column_count_that_does_not_match_the_names_is_refused(referrals):
    with pytest.raises(ValueError, match="selects 2 columns, not 3"):
        read_frame(Referral.objects.values_list("id", "made_on"), ["a", "b", "c"])


def test_a_type_for_a_column_not_named_is_refused(db):
    with pytest.raises(ValueError, match="not among the columns"):
        read_frame(Referral.objects.values_list("id"), ["referral"], dates=["made_on"])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the estimate is PostgreSQL's statistics")
def test_a_table_is_streamed_when_its_estimate_is_large_or_missing(referrals, monkeypatch):
    from analysis.rows import worth_streaming

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'practice_referral'")
        if cursor.fetchone()[0] < 0:  # never analysed: no estimate, so streamed to be safe
            assert worth_streaming(Referral)
        cursor.execute("ANALYZE practice_referral")
    assert not worth_streaming(Referral)  # 15 rows
    monkeypatch.setattr(rows_module, "STREAM_ABOVE_ROWS", 10)
    assert worth_streaming(Referral)


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the plain path")
def test_other_databases_always_read_in_chunks(db):
    from analysis.rows import worth_streaming

    assert worth_streaming(Referral)
