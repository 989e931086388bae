"""Imports are atomic when the database fails partway through the write, not only when a row fails
validation: rows already written by the time the database refuses one are gone afterwards.

The refusal is a real rule in the database (tests/security/db_faults.py), hit by a row that passes
every check the import makes, after other rows of the same file were written. Runs on SQLite and,
with DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection

from tests.factories import AttendanceFactory, StaffMemberFactory, TrainingSessionFactory
from tests.security.db_faults import database_refuses, writes
from training.imports import attendance_import, staff_import
from training.models import Attendance, AttendanceStatus, StaffMember

pytestmark = pytest.mark.django_db


def _staff_rows():
    return sorted(
        StaffMember.objects.values_list("id", "name", "work_email", "profession", "team_id", "active")
    )


def test_staff_import_leaves_nothing_when_the_database_refuses_an_update_after_the_inserts(
    lead, team, our_staff
):
    # New people are inserted first, then existing people updated; the database refuses the update.
    database_refuses(table="training_staffmember", column="name", value="Refused Name")
    before = _staff_rows()
    data = (
        "name,work_email,profession,organisation,team\n"
        "New Person,new.person@council.example,social_worker,council,Assessment North\n"
        "Another Person,another@council.example,social_worker,council,Assessment North\n"
        f"Refused Name,{our_staff.work_email},social_worker,council,Assessment North\n"
    )
    with writes() as done, pytest.raises(DatabaseError):
        staff_import(data=data.encode(), by=lead)

    # The refused statement is the update, run when the two new people were already in the table.
    assert done[-1] == ("UPDATE", "training_staffmember", len(before) + 2), done
    assert _staff_rows() == before
    assert not StaffMember.objects.filter(
        work_email__in=["new.person@council.example", "another@council.example"]
    )


def test_staff_import_of_new_people_only_leaves_nothing_when_a_later_insert_fails(lead, team):
    # Enough people that SQLite splits the bulk insert into several statements (at most 999
    # parameters each): the last of them is refused after the others were written. PostgreSQL
    # inserts them in one statement, whose last row is refused.
    database_refuses(table="training_staffmember", column="name", value="Refused Name")
    rows = [
        f"Person {n},person{n}@council.example,social_worker,council,Assessment North" for n in range(400)
    ]
    rows.append("Refused Name,refused@council.example,social_worker,council,Assessment North")
    data = "name,work_email,profession,organisation,team\n" + "\n".join(rows) + "\n"
    before = _staff_rows()
    with writes() as done, pytest.raises(DatabaseError):
        staff_import(data=data.encode(), by=lead)

    inserts = [rows_before for verb, table, rows_before in done if table == "training_staffmember"]
    if connection.vendor == "sqlite":
        assert len(inserts) > 1 and inserts[-1] > len(before), done
    else:
        assert inserts == [len(before)], done
    assert _staff_rows() == before


def test_attendance_import_leaves_nothing_when_the_database_refuses_an_update_after_the_inserts(
    trainer, team, our_staff
):
    session = TrainingSessionFactory(course__owner=trainer)
    AttendanceFactory(session=session, staff=our_staff, status=AttendanceStatus.BOOKED)
    newcomers = [
        StaffMemberFactory(team=team, name=f"Newcomer {n}", work_email=f"newcomer{n}@council.example")
        for n in range(2)
    ]
    # "no_show" is a status the import accepts; the database is made to refuse it.
    database_refuses(table="training_attendance", column="status", value=AttendanceStatus.NO_SHOW)
    before = sorted(Attendance.objects.values_list("id", "session_id", "staff_id", "status"))
    data = "session_id,work_email,status\n" + "".join(
        f"{session.pk},{person.work_email},attended\n" for person in newcomers
    )
    data += f"{session.pk},{our_staff.work_email},no_show\n"
    with writes() as done, pytest.raises(DatabaseError):
        attendance_import(data=data.encode(), by=trainer)

    assert done[-1] == ("UPDATE", "training_attendance", len(before) + 2), done
    assert sorted(Attendance.objects.values_list("id", "session_id", "staff_id", "status")) == before
    assert not Attendance.objects.filter(staff__in=newcomers).exists()
