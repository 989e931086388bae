"""The server-rendered pages, as each role uses them."""

import datetime as dt
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from tests.factories import (
    AttendanceFactory,
    CourseFactory,
    StaffMemberFactory,
    TrainingSessionFactory,
    UserFactory,
)
from training.models import Attendance, Course, Role, TrainingSession

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


def _saved(obj) -> dict:
    """Every stored field of ``obj``, read back from the database."""
    return model_to_dict(type(obj).objects.get(pk=obj.pk))


COURSE_EDIT = {
    "title": "Exploitation: recognise and refer",
    "topic": "cce",
    "delivery_mode": "blended",
    "duration_hours": "2.5",
    "learning_outcomes": "Spot the signs\nRefer the same day",
    "target_professions": ["police", "youth_worker"],
}


def test_trainer_saves_the_course_edit_page(client, trainer):
    course = CourseFactory(owner=trainer, title="CSE basics", slug="cse-basics")
    client.force_login(trainer)
    assert client.get(f"/courses/{course.slug}/edit/").status_code == 200

    response = client.post(f"/courses/{course.slug}/edit/", COURSE_EDIT)

    assert response.status_code == 302
    assert response["Location"] == "/courses/cse-basics/"
    course.refresh_from_db()
    assert course.title == "Exploitation: recognise and refer"
    assert (course.topic, course.delivery_mode) == ("cce", "blended")
    assert course.duration_hours == Decimal("2.5")
    assert course.learning_outcomes == "Spot the signs\nRefer the same day"
    assert course.target_professions == ["police", "youth_worker"]
    assert course.slug == "cse-basics"  # addresses stay put when the title changes
    assert "Course details saved." in client.get(response["Location"]).content.decode()


def test_course_edit_with_an_error_changes_nothing(client, trainer):
    course = CourseFactory(owner=trainer, title="CSE basics")
    before = _saved(course)
    client.force_login(trainer)

    response = client.post(f"/courses/{course.slug}/edit/", {**COURSE_EDIT, "duration_hours": "0"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "There is a problem" in body
    assert 'href="#id_duration_hours"' in body
    assert 'value="Exploitation: recognise and refer"' in body  # what they typed is kept
    assert _saved(course) == before


def test_trainer_cannot_save_someone_elses_course(client, trainer):
    course = CourseFactory(title="Not yours")
    before = _saved(course)
    client.force_login(trainer)
    assert client.post(f"/courses/{course.slug}/edit/", COURSE_EDIT).status_code == 404
    assert _saved(course) == before


def _session_edit(**changes) -> dict:
    return {
        "start": "2025-07-01T09:30",
        "end": "2025-07-01T12:30",
        "trainer": "",
        "venue": "Town Hall",
        "online_link": "",
        "capacity": "30",
        **changes,
    }


def test_trainer_saves_the_session_edit_page(client, trainer, council):
    colleague = UserFactory(role=Role.TRAINER, organisation=council)
    session = TrainingSessionFactory(course__owner=trainer, venue="Civic Centre", capacity=20)
    client.force_login(trainer)
    assert client.get(f"/sessions/{session.pk}/edit/").status_code == 200

    response = client.post(f"/sessions/{session.pk}/edit/", _session_edit())

    assert response.status_code == 302
    assert response["Location"] == f"/sessions/{session.pk}/"
    session.refresh_from_db()
    # Entered as London time: 09:30 in July is 08:30 UTC.
    assert session.start == dt.datetime(2025, 7, 1, 8, 30, tzinfo=dt.UTC)
    assert session.end == dt.datetime(2025, 7, 1, 11, 30, tzinfo=dt.UTC)
    assert (session.venue, session.capacity) == ("Town Hall", 30)
    assert session.trainer == trainer  # "(Me)" left as it was keeps the session's trainer
    assert "Session details saved." in client.get(response["Location"]).content.decode()

    client.post(f"/sessions/{session.pk}/edit/", _session_edit(trainer=colleague.pk))
    session.refresh_from_db()
    assert session.trainer == colleague


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"end": "2025-07-01T09:00"}, "end", "The session must end after it starts."),
        ({"venue": "", "online_link": ""}, "venue", "Enter a venue or an online meeting link."),
        ({"capacity": "0"}, "capacity", None),
    ],
)
def test_session_edit_with_an_error_changes_nothing(client, trainer, changes, field, message):
    session = TrainingSessionFactory(course__owner=trainer, venue="Civic Centre", capacity=20)
    before = _saved(session)
    client.force_login(trainer)

    response = client.post(f"/sessions/{session.pk}/edit/", _session_edit(**changes))

    assert response.status_code == 200
    body = response.content.decode()
    assert "There is a problem" in body
    assert f'href="#id_{field}"' in body
    if message:
        assert message in body
    assert _saved(session) == before


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
