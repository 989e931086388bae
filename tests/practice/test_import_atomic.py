"""Referral and audit imports are atomic when the database fails partway through the write, not only
when a row fails validation: the batches already written, and every other change the import made
on the way (re-referral flags, audit schedule entries, the rubric version frozen), are gone.

The refusal is a real rule in the database (tests/security/db_faults.py), hit by a row that passes
every check the import makes, in the second batch. The batch size is made small so a few rows make
several batches. Audit answers are written with COPY on PostgreSQL and one executemany on SQLite
(``training.bulk.insert_rows``); the refusal is hit there. Runs on SQLite and, with
DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, IntegrityError, connection
from django.utils import timezone

from practice import imports
from practice.imports import audit_import, referral_import
from practice.models import AssignmentStatus, Audit, AuditAssignment, AuditReason, Referral
from surveys.models import Answer, InstrumentVersion, Response, ScaleScore
from tests.factories import ReferralFactory
from tests.practice.conftest import CODES
from tests.security.db_faults import database_refuses, writes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _small_batches(monkeypatch):
    monkeypatch.setattr(imports, "BATCH", 2)


def _everything_an_import_touches():
    return {
        "referrals": sorted(Referral.objects.values_list("id", "case_hash", "made_on", "is_rereferral")),
        "audits": sorted(Audit.objects.values_list("id", "referral_id", "status")),
        "responses": Response.objects.count(),
        "answers": Answer.objects.count(),
        "scores": ScaleScore.objects.count(),
        "assignments": sorted(AuditAssignment.objects.values_list("id", "status")),
        "versions": sorted(InstrumentVersion.objects.values_list("id", "frozen_at")),
    }


def test_referral_import_leaves_nothing_when_the_database_refuses_the_second_batch(manager, our_staff):
    # A referral already stored, for the child the file's first row refers earlier: the import
    # recomputes and stores its re-referral flag before it inserts anything.
    later = ReferralFactory(staff=our_staff, case_reference="NB300001", made_on=dt.date(2025, 3, 1))
    assert later.is_rereferral is False
    database_refuses(table="practice_referral", column="local_label", value="Refused Label")
    before = _everything_an_import_touches()
    data = (
        "work_email,made_on,case_reference,route,concerns,outcome,local_label\n"
        f"{our_staff.work_email},2025-01-10,NB300001,police,neglect,pending,\n"
        f"{our_staff.work_email},2025-01-11,NB300002,police,neglect,pending,\n"
        f"{our_staff.work_email},2025-01-12,NB300003,police,neglect,pending,Refused Label\n"
    )
    with writes() as done, pytest.raises(DatabaseError):
        referral_import(data=data.encode(), by=manager)

    assert ("UPDATE", "practice_referral", 1) in done, "the stored flag was not changed first"
    assert done[-1] == ("INSERT", "practice_referral", 3), "the first batch was not written first"
    assert _everything_an_import_touches() == before
    later.refresh_from_db()
    assert later.is_rereferral is False


def test_audit_import_leaves_nothing_when_the_database_refuses_answers_of_the_second_batch(
    manager, our_staff
):
    referrals = [ReferralFactory(staff=our_staff, case_reference=f"NB30010{n}") for n in range(3)]
    AuditAssignment.objects.create(
        referral=referrals[0],
        reason=AuditReason.BASELINE,
        due_on=timezone.localdate(),
        assigned_manager=manager,
    )
    # Grade 4 is one the import accepts; the database is made to refuse it, and only the third
    # audit (the second batch) has it.
    database_refuses(table="surveys_answer", column="value", value="4")
    before = _everything_an_import_touches()
    header = "referral_id,auditor,audit_date," + ",".join(CODES) + "\n"
    rows = [
        f"{referral.pk},{manager.username},2025-02-0{n + 1}," + ",".join(grade for _ in CODES) + "\n"
        for n, (referral, grade) in enumerate(zip(referrals, ("3", "3", "4"), strict=True))
    ]
    # COPY runs on psycopg's own cursor; the importer wraps its errors as Django's, so the refusal
    # arrives as IntegrityError on both databases.
    with writes() as done, pytest.raises(IntegrityError):
        audit_import(data=(header + "".join(rows)).encode(), by=manager)

    # The first batch was written in full (its audits, and the schedule entry marked done) before the
    # second batch's responses, whose answers the database refused.
    audits_before = len(before["audits"])
    assert ("INSERT", "practice_audit", audits_before) in done, done
    assert ("UPDATE", "practice_auditassignment", len(before["assignments"])) in done, done
    if connection.vendor == "postgresql":  # the answers went by COPY, which the log does not see
        assert done[-1] == ("INSERT", "surveys_response", before["responses"] + 2), done
    else:
        assert done[-1] == ("INSERT", "surveys_answer", before["answers"] + 2 * len(CODES)), done
    assert _everything_an_import_touches() == before
    assert AuditAssignment.objects.get(referral=referrals[0]).status == AssignmentStatus.DUE
