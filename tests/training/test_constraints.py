"""Rules the data must obey are enforced by the database itself, whatever the code path."""

import datetime as dt

import pytest
from django.db import IntegrityError

from tests.factories import AttendanceFactory, CourseFactory, StaffMemberFactory, TrainingSessionFactory
from training.models import Attendance, TrainingSession

pytestmark = pytest.mark.django_db


def test_session_must_end_after_it_starts():
    course = CourseFactory()
    start = dt.datetime(2025, 3, 3, 9, 30, tzinfo=dt.UTC)
    with pytest.raises(IntegrityError):
        TrainingSession.objects.create(course=course, start=start, end=start, venue="Room 1")


def test_session_ending_before_start_is_refused_even_by_bulk_insert():
    course = CourseFactory()
    start = dt.datetime(2025, 3, 3, 9, 30, tzinfo=dt.UTC)
    with pytest.raises(IntegrityError):
        TrainingSession.objects.bulk_create(
            [TrainingSession(course=course, start=start, end=start - dt.timedelta(hours=1))]
        )


def test_one_attendance_row_per_person_per_session():
    attendance = AttendanceFactory()
    with pytest.raises(IntegrityError):
        Attendance.objects.create(session=attendance.session, staff=attendance.staff, status="booked")


def test_same_person_can_attend_two_different_sessions():
    person = StaffMemberFactory()
    AttendanceFactory(staff=person)
    AttendanceFactory(staff=person, session=TrainingSessionFactory())
    assert person.attendances.count() == 2


def test_course_duration_must_be_positive():
    with pytest.raises(IntegrityError):
        CourseFactory(duration_hours=0)
