"""CSV imports: every row valid and saved, or nothing saved and every error listed."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import StaffMemberFactory, TrainingSessionFactory
from tests.training.page_tables import table_rows
from training.imports import attendance_import, staff_import
from training.models import Attendance, StaffMember

pytestmark = pytest.mark.django_db

PROBLEMS = "Problems by row"

GOOD_STAFF = """name,work_email,profession,organisation,team,start_date_in_role,active
Jo Bloggs,jo.bloggs@council.example,social_worker,council,Assessment North,2021-04-01,yes
Sam Patel,SAM.PATEL@council.example,Social worker,Council,assessment north,31/01/2019,
Kim Lee,kim.lee@council.example,family_support,council,Assessment South,,no
"""


def test_good_staff_file_saves_every_row(lead, team, other_team):
    result = staff_import(data=GOOD_STAFF.encode(), by=lead)

    assert result.ok, result.errors
    assert (result.created, result.updated) == (3, 0)
    sam = StaffMember.objects.get(work_email="sam.patel@council.example")
    assert sam.team == team
    assert str(sam.start_date_in_role) == "2019-01-31"
    assert StaffMember.objects.get(work_email="kim.lee@council.example").active is False


def test_reimport_updates_people_by_email_instead_of_duplicating(lead, team, other_team):
    staff_import(data=GOOD_STAFF.encode(), by=lead)
    moved = GOOD_STAFF.replace(
        "jo.bloggs@council.example,social_worker,council,Assessment North",
        "jo.bloggs@council.example,social_worker,council,Assessment South",
    )
    result = staff_import(data=moved.encode(), by=lead)

    assert (result.created, result.updated) == (0, 3)
    assert StaffMember.objects.count() == 3
    assert StaffMember.objects.get(work_email="jo.bloggs@council.example").team == other_team


def test_bad_staff_file_saves_nothing_and_lists_every_error_by_row_and_column(lead, team, our_staff):
    bad = """name,work_email,profession,organisation,team,start_date_in_role
Good Person,good@council.example,social_worker,council,Assessment North,2021-04-01
,not-an-email,astronaut,council,Assessment North,2021-13-01
Dup One,dup@council.example,social_worker,council,No Such Team,
Dup Two,dup@council.example,social_worker,council,Assessment North,
"""
    before = list(StaffMember.objects.values_list("id", "name"))
    result = staff_import(data=bad.encode(), by=lead)

    assert not result.ok
    found = {(e.row, e.column) for e in result.errors}
    assert found == {
        (3, "name"),
        (3, "work_email"),
        (3, "profession"),
        (3, "start_date_in_role"),
        (4, "team"),
        (5, "work_email"),
    }
    assert "also on row 4" in next(e.message for e in result.errors if e.row == 5)
    assert list(StaffMember.objects.values_list("id", "name")) == before  # the good row was not saved


def test_a_name_too_long_to_store_is_an_error_for_its_row_not_a_database_failure(lead, team, other_team):
    too_long = "A" * 201
    data = GOOD_STAFF.replace("Jo Bloggs", too_long)
    result = staff_import(data=data.encode(), by=lead)

    assert not result.ok
    assert [(e.row, e.column) for e in result.errors] == [(2, "name")]
    assert "200 characters" in result.errors[0].message
    assert too_long not in result.errors[0].message
    assert not StaffMember.objects.filter(work_email="sam.patel@council.example").exists()


def test_staff_file_missing_a_column_is_rejected_before_any_row(lead, team):
    result = staff_import(data=b"name,work_email,team\nA,a@b.example,X\n", by=lead)
    assert {(e.row, e.column) for e in result.errors} == {(1, "profession"), (1, "organisation")}


def test_staff_file_with_unknown_column_is_rejected(lead, team):
    result = staff_import(data=GOOD_STAFF.replace("active", "actve").encode(), by=lead)
    assert [(e.row, e.column) for e in result.errors] == [(1, "actve")]


def test_non_utf8_file_gets_a_clear_error(lead):
    result = staff_import(data="name\ncaf\u00e9".encode("utf-16"), by=lead)
    assert "CSV UTF-8" in result.errors[0].message


def test_lead_cannot_import_into_another_partnerships_team(lead, other_org):
    from tests.factories import TeamFactory

    TeamFactory(organisation=other_org, name="Far Team")
    data = "name,work_email,profession,organisation,team\nA B,ab@x.example,social_worker,elsewhere,Far Team\n"
    result = staff_import(data=data.encode(), by=lead)
    assert [(e.row, e.column) for e in result.errors] == [(2, "team")]
    assert not StaffMember.objects.filter(work_email="ab@x.example").exists()


def test_manager_may_not_import_staff(manager, team):
    result = staff_import(data=GOOD_STAFF.encode(), by=manager)
    assert not result.ok
    assert StaffMember.objects.count() == 0


def test_good_attendance_file_saves_and_updates(trainer, our_staff, their_staff):
    session = TrainingSessionFactory(course__owner=trainer)
    Attendance.objects.create(session=session, staff=our_staff, status="booked")
    data = (
        f"session_id,work_email,status\n{session.pk},{our_staff.work_email},attended\n"
        f"{session.pk},{their_staff.work_email},No-show\n"
    ).replace("No-show", "no_show")
    result = attendance_import(data=data.encode(), by=trainer)

    assert result.ok, result.errors
    assert (result.created, result.updated) == (1, 1)
    assert dict(Attendance.objects.values_list("staff__name", "status")) == {
        "Alex Ours": "attended",
        "Blake Theirs": "no_show",
    }


def test_bad_attendance_file_saves_nothing(trainer, our_staff):
    session = TrainingSessionFactory(course__owner=trainer)
    someone_elses = TrainingSessionFactory()
    data = (
        "session_id,work_email,status\n"
        f"{session.pk},{our_staff.work_email},attended\n"
        f"{someone_elses.pk},{our_staff.work_email},attended\n"
        f"{session.pk},nobody@council.example,maybe\n"
        f"{session.pk},{our_staff.work_email},attended\n"
    )
    result = attendance_import(data=data.encode(), by=trainer)

    assert {(e.row, e.column) for e in result.errors} == {
        (3, "session_id"),
        (4, "work_email"),
        (4, "status"),
        (5, "work_email"),
    }
    assert Attendance.objects.count() == 0


def test_import_page_shows_errors_and_saves_nothing(client, lead, team):
    client.force_login(lead)
    upload = SimpleUploadedFile(
        "staff.csv", b"name,work_email,profession,organisation,team\nX,bad,vet,council,Nope\n"
    )
    response = client.post("/imports/staff/", {"file": upload})

    assert response.status_code == 200
    body = response.content.decode()
    assert "Nothing was imported: 3 problems found" in body
    assert "not one of" in body
    assert [row[:2] for row in table_rows(body, PROBLEMS)] == [
        ["2", "work_email"],
        ["2", "profession"],
        ["2", "team"],
    ]
    assert StaffMember.objects.count() == 0


def test_import_page_success_redirects_with_count(client, lead, team, other_team):
    client.force_login(lead)
    response = client.post(
        "/imports/staff/", {"file": SimpleUploadedFile("s.csv", GOOD_STAFF.encode())}, follow=True
    )
    assert response.redirect_chain == [("/imports/staff/", 302)]
    assert "Imported 3 rows: 3 new, 0 updated." in response.content.decode()
    assert set(StaffMember.objects.values_list("work_email", flat=True)) == {
        "jo.bloggs@council.example",
        "sam.patel@council.example",
        "kim.lee@council.example",
    }


def test_attendance_import_page_saves_a_good_file(client, trainer, our_staff, their_staff):
    session = TrainingSessionFactory(course__owner=trainer)
    Attendance.objects.create(session=session, staff=our_staff, status="booked")
    data = (
        "session_id,work_email,status\n"
        f"{session.pk},{our_staff.work_email},attended\n"
        f"{session.pk},{their_staff.work_email},partial\n"
    )
    client.force_login(trainer)

    response = client.post(
        "/imports/attendance/", {"file": SimpleUploadedFile("register.csv", data.encode())}, follow=True
    )

    assert response.redirect_chain == [("/imports/attendance/", 302)]
    assert "Imported 2 rows: 1 new, 1 updated." in response.content.decode()
    assert dict(Attendance.objects.filter(session=session).values_list("staff__name", "status")) == {
        "Alex Ours": "attended",
        "Blake Theirs": "partial",
    }


def test_attendance_import_page_lists_every_error_by_row_and_column_and_saves_nothing(
    client, trainer, our_staff
):
    session = TrainingSessionFactory(course__owner=trainer)
    booked = Attendance.objects.create(session=session, staff=our_staff, status="booked")
    someone_elses = TrainingSessionFactory()
    data = (
        "session_id,work_email,status\n"
        f"{session.pk},{our_staff.work_email},attended\n"
        f"{someone_elses.pk},{our_staff.work_email},attended\n"
        f"{session.pk},nobody@council.example,maybe\n"
        f"soon,{our_staff.work_email},attended\n"
    )
    client.force_login(trainer)

    response = client.post(
        "/imports/attendance/", {"file": SimpleUploadedFile("register.csv", data.encode())}
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "Nothing was imported: 4 problems found" in body
    assert {(row[0], row[1]) for row in table_rows(body, PROBLEMS)} == {
        ("3", "session_id"),
        ("4", "work_email"),
        ("4", "status"),
        ("5", "session_id"),
    }
    assert all(row[2] for row in table_rows(body, PROBLEMS))  # each with its message
    booked.refresh_from_db()
    assert booked.status == "booked"  # row 2 was good, and still not saved
    assert Attendance.objects.count() == 1


def test_attendance_import_page_refuses_a_file_that_is_not_csv(client, trainer):
    client.force_login(trainer)
    response = client.post("/imports/attendance/", {"file": SimpleUploadedFile("register.xlsx", b"PK")})
    assert response.status_code == 200
    assert "The selected file must be a CSV." in response.content.decode()
    assert Attendance.objects.count() == 0


def test_existing_staff_outside_scope_cannot_be_overwritten(lead, team, other_org):
    from tests.factories import TeamFactory

    far = StaffMemberFactory(team=TeamFactory(organisation=other_org), work_email="far@x.example", name="Far")
    data = (
        "name,work_email,profession,organisation,team\n"
        "Hijack,far@x.example,social_worker,council,Assessment North\n"
    )
    result = staff_import(data=data.encode(), by=lead)
    assert not result.ok
    far.refresh_from_db()
    assert far.name == "Far"
