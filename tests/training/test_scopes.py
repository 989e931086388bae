"""Who sees what: a manager sees only their own teams; out-of-scope objects are 404."""

import pytest

from tests.factories import AttendanceFactory, CourseFactory, TrainingSessionFactory, UserFactory
from training.models import Course, Role, StaffMember, TrainingSession

pytestmark = pytest.mark.django_db


def test_manager_sees_only_staff_in_teams_they_manage(manager, our_staff, their_staff):
    assert list(StaffMember.objects.for_user(manager)) == [our_staff]


def test_manager_cannot_open_another_teams_staff_page(client, manager, our_staff, their_staff):
    client.force_login(manager)
    assert client.get(f"/staff/{our_staff.pk}/").status_code == 200
    assert client.get(f"/staff/{their_staff.pk}/").status_code == 404


def test_manager_staff_list_page_omits_other_team(client, manager, our_staff, their_staff):
    client.force_login(manager)
    body = client.get("/staff/").content.decode()
    assert our_staff.name in body
    assert their_staff.name not in body


def test_manager_cannot_see_another_teams_staff_in_api(api_as, manager, our_staff, their_staff):
    api = api_as(manager)
    listed = api.get("/api/v1/staff/").json()
    assert [row["id"] for row in listed["results"]] == [our_staff.pk]
    assert api.get(f"/api/v1/staff/{their_staff.pk}/").status_code == 404
    assert api.get(f"/api/v1/staff/{our_staff.pk}/").status_code == 200


def test_manager_attendance_api_shows_only_their_team(api_as, manager, our_staff, their_staff):
    ours = AttendanceFactory(staff=our_staff)
    theirs = AttendanceFactory(staff=their_staff)
    api = api_as(manager)
    ids = [row["id"] for row in api.get("/api/v1/attendance/").json()["results"]]
    assert ids == [ours.pk]
    assert api.get(f"/api/v1/attendance/{theirs.pk}/").status_code == 404


def test_trainer_sees_courses_they_own_or_are_assigned_to(trainer):
    own = CourseFactory(owner=trainer)
    assigned = CourseFactory()
    assigned.trainers.add(trainer)
    delivered = TrainingSessionFactory(trainer=trainer).course
    not_mine = CourseFactory()

    visible = set(Course.objects.for_user(trainer))
    assert visible == {own, assigned, delivered}
    assert not_mine not in visible


def test_trainer_cannot_edit_a_course_they_only_deliver(client, trainer):
    session = TrainingSessionFactory(trainer=trainer)
    client.force_login(trainer)
    assert client.get(session.course.get_absolute_url()).status_code == 200
    assert client.get(f"/courses/{session.course.slug}/edit/").status_code == 404
    assert client.get(f"/sessions/{session.pk}/attendance/").status_code == 200  # but they take the register


def test_trainer_cannot_reach_someone_elses_course_in_pages_or_api(client, api_as, trainer):
    course = CourseFactory()
    client.force_login(trainer)
    assert client.get(course.get_absolute_url()).status_code == 404
    assert api_as(trainer).get(f"/api/v1/courses/{course.pk}/").status_code == 404


def test_lead_sees_own_organisation_and_partnership_only_when_allowed(lead, council, police, other_org):
    from tests.factories import StaffMemberFactory, TeamFactory

    council_person = StaffMemberFactory(team=TeamFactory(organisation=council))
    police_person = StaffMemberFactory(team=TeamFactory(organisation=police))
    StaffMemberFactory(team=TeamFactory(organisation=other_org))

    assert set(StaffMember.objects.for_user(lead)) == {council_person}
    lead.sees_partnership = True
    lead.save()
    assert set(StaffMember.objects.for_user(lead)) == {council_person, police_person}


def test_manager_sees_sessions_their_staff_attended_only(manager, our_staff, their_staff):
    attended = AttendanceFactory(staff=our_staff).session
    AttendanceFactory(staff=their_staff)
    assert list(TrainingSession.objects.for_user(manager)) == [attended]


def test_user_without_role_sees_nothing(our_staff):
    nobody = UserFactory(role="")
    assert not StaffMember.objects.for_user(nobody).exists()
    assert not Course.objects.for_user(nobody).exists()


def test_manager_cannot_open_trainer_pages(client, manager):
    client.force_login(manager)
    assert client.get("/courses/new/").status_code == 403


def test_other_organisation_lead_cannot_see_our_staff_via_api(api_as, other_org, our_staff):
    outsider = UserFactory(role=Role.WORKFORCE_LEAD, organisation=other_org, sees_partnership=True)
    api = api_as(outsider)
    assert api.get("/api/v1/staff/").json()["count"] == 0
    assert api.get(f"/api/v1/staff/{our_staff.pk}/").status_code == 404
