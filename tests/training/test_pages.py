"""The server-rendered pages, as each role uses them."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import AttendanceFactory, CourseFactory, StaffMemberFactory, TrainingSessionFactory
from training.models import Attendance, Course, TrainingSession

pytestmark = pytest.mark.django_db


def test_pages_need_sign_in(client):
    response = client.get("/courses/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_sign_in_and_out(client, trainer):
    from tests.factories import TEST_PASSWORD

    response = client.post("/accounts/login/", {"username": "trainer", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_wrong_password_shows_error_summary(client, trainer):
    response = client.post("/accounts/login/", {"username": "trainer", "password": "wrong"})
    assert "There is a problem" in response.content.decode()


def test_session_expires_after_hours_of_inactivity(settings):
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert 15 * 60 <= settings.SESSION_COOKIE_AGE <= 12 * 60 * 60


@pytest.mark.parametrize("who", ["trainer", "manager", "lead", "admin_user"])
def test_each_role_has_a_dashboard(client, request, who, team):
    client.force_login(request.getfixturevalue(who))
    response = client.get("/")
    assert response.status_code == 200
    assert "Welcome" in response.content.decode()


def test_trainer_creates_a_course_through_the_form(client, trainer):
    client.force_login(trainer)
    response = client.post(
        "/courses/new/",
        {
            "title": "Exploitation basics",
            "topic": "cse",
            "delivery_mode": "face_to_face",
            "duration_hours": "3",
            "target_professions": ["social_worker", "police"],
        },
    )
    course = Course.objects.get(title="Exploitation basics")
    assert response.status_code == 302
    assert course.owner == trainer
    assert course.target_professions == ["social_worker", "police"]


def test_course_form_errors_are_summarised(client, trainer):
    client.force_login(trainer)
    body = client.post("/courses/new/", {"title": "", "duration_hours": "0"}).content.decode()
    assert "There is a problem" in body
    assert 'href="#id_title"' in body
    assert not Course.objects.exists()


def test_trainer_adds_a_session_and_rejects_end_before_start(client, trainer):
    course = CourseFactory(owner=trainer)
    client.force_login(trainer)
    bad = client.post(
        f"/courses/{course.slug}/sessions/new/",
        {"start": "2025-06-02T10:00", "end": "2025-06-02T09:00", "venue": "Hall", "capacity": 20},
    )
    assert "The session must end after it starts." in bad.content.decode()
    good = client.post(
        f"/courses/{course.slug}/sessions/new/",
        {"start": "2025-06-02T09:00", "end": "2025-06-02T12:00", "venue": "Hall", "capacity": 20},
    )
    assert good.status_code == 302
    session = TrainingSession.objects.get(course=course)
    assert session.trainer == trainer


def test_trainer_marks_a_whole_sessions_attendance_on_one_page(client, trainer, team):
    session = TrainingSessionFactory(course__owner=trainer)
    people = StaffMemberFactory.create_batch(3, team=team)
    client.force_login(trainer)
    client.post(f"/sessions/{session.pk}/attendance/", {"add": "1", "staff": [p.pk for p in people]})
    assert Attendance.objects.filter(session=session, status="booked").count() == 3

    response = client.post(
        f"/sessions/{session.pk}/attendance/",
        {
            "save": "1",
            **{f"status-{p.pk}": s for p, s in zip(people, ["attended", "no_show", "partial"], strict=True)},
        },
    )
    assert response.status_code == 302
    assert dict(Attendance.objects.filter(session=session).values_list("staff_id", "status")) == {
        people[0].pk: "attended",
        people[1].pk: "no_show",
        people[2].pk: "partial",
    }


def test_bad_attendance_status_saves_nothing(client, trainer, team):
    session = TrainingSessionFactory(course__owner=trainer)
    a, b = (
        AttendanceFactory(session=session, status="booked"),
        AttendanceFactory(session=session, status="booked"),
    )
    client.force_login(trainer)
    response = client.post(
        f"/sessions/{session.pk}/attendance/",
        {"save": "1", f"status-{a.staff_id}": "attended", f"status-{b.staff_id}": "bogus"},
    )
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert set(Attendance.objects.values_list("status", flat=True)) == {"booked"}


def test_manager_sees_who_in_their_team_attended_what(client, manager, our_staff, their_staff):
    AttendanceFactory(staff=our_staff, session__course__title="CSE awareness")
    AttendanceFactory(staff=their_staff, session__course__title="Secret course")
    client.force_login(manager)
    body = client.get(f"/staff/{our_staff.pk}/").content.decode()
    assert "CSE awareness" in body
    assert "Secret course" not in client.get("/staff/").content.decode()


def test_course_list_is_paginated(client, trainer):
    for n in range(30):
        CourseFactory(owner=trainer, title=f"Course {n:02d}")
    client.force_login(trainer)
    first = client.get("/courses/").content.decode()
    assert "Page 1 of 2" in first
    assert "Course 29" not in first
    assert "Course 29" in client.get("/courses/?page=2").content.decode()


def test_staff_list_page_query_count_does_not_grow_with_rows(
    client, lead, team, django_assert_max_num_queries
):
    StaffMemberFactory.create_batch(5, team=team)
    client.force_login(lead)
    with django_assert_max_num_queries(12) as small:
        client.get("/staff/")
    StaffMemberFactory.create_batch(20, team=team)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/staff/")


def test_course_page_query_count_does_not_grow_with_sessions(client, trainer, django_assert_max_num_queries):
    course = CourseFactory(owner=trainer)
    TrainingSessionFactory(course=course)
    client.force_login(trainer)
    with django_assert_max_num_queries(15) as small:
        client.get(course.get_absolute_url())
    for n in range(10):
        TrainingSessionFactory(course=course, start=timezone.now() - dt.timedelta(days=n + 40))
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(course.get_absolute_url())


def test_unknown_page_is_a_friendly_404(client, trainer):
    client.force_login(trainer)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_pages_use_govuk_styles_without_crown_or_gds_font(client, trainer):
    client.force_login(trainer)
    body = client.get("/").content.decode()
    assert "govuk-header" in body
    assert "govuk-logo" not in body and "crown" not in body.lower()
