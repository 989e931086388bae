"""The home page is a dashboard per role: each role sees its own work, and nothing of anyone else's."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import (
    AttendanceFactory,
    CourseFactory,
    StaffMemberFactory,
    TeamFactory,
    TrainingSessionFactory,
)
from tests.training.page_tables import table_rows

pytestmark = pytest.mark.django_db

ADMIN_LINK = 'href="/admin/"'
IMPORT_STAFF_LINK = 'href="/imports/staff/"'
IMPORT_ATTENDANCE_LINK = 'href="/imports/attendance/"'
CREATE_COURSE_LINK = 'href="/courses/new/"'
TEAMS = "Teams and training in the last 12 months"
ORGANISATIONS = "Organisations and training in the last 12 months"


def _dashboard(client, user) -> str:
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<h1 class="govuk-heading-l">Welcome, ' in body
    return body


@pytest.fixture
def police_team(police):
    return TeamFactory(organisation=police, name="Child Protection Unit", slug="cpu")


@pytest.fixture
def far_team(other_org):
    return TeamFactory(organisation=other_org, name="Far Away Team", slug="far-away")


@pytest.fixture
def staff_everywhere(our_staff, their_staff, police_team, far_team):
    """Trained people in two council teams, the police force and another partnership."""
    recent = timezone.now() - dt.timedelta(days=30)
    session = TrainingSessionFactory(start=recent)
    AttendanceFactory(staff=our_staff, session=session)
    AttendanceFactory(staff=their_staff, session=session)
    StaffMemberFactory(team=our_staff.team, name="Untrained Ours")
    StaffMemberFactory(team=our_staff.team, name="Left Ours", active=False)
    AttendanceFactory(staff=StaffMemberFactory(team=police_team), session=session)
    StaffMemberFactory(team=far_team)


def test_trainer_sees_their_courses_and_upcoming_sessions(client, trainer):
    course = CourseFactory(owner=trainer, title="Exploitation: recognise and refer")
    TrainingSessionFactory(course=course, start=timezone.now() - dt.timedelta(days=10))
    next_week = timezone.localtime() + dt.timedelta(days=7)
    upcoming = TrainingSessionFactory(course=course, start=next_week)
    assigned = CourseFactory(title="Neglect: a second look")
    assigned.trainers.add(trainer)
    someone_elses = CourseFactory(title="Someone else's course")
    TrainingSessionFactory(course=someone_elses, start=next_week)

    body = _dashboard(client, trainer)

    assert "Your courses" in body
    assert "Exploitation: recognise and refer</a> (2 sessions)" in body
    assert "Neglect: a second look</a> (0 sessions)" in body
    assert "Someone else&#x27;s course" not in body
    assert "Upcoming sessions" in body
    assert f'href="{upcoming.get_absolute_url()}"' in body
    assert next_week.strftime("%-d %B %Y, %H:%M") in body
    assert CREATE_COURSE_LINK in body
    assert IMPORT_ATTENDANCE_LINK in body
    for absent in (IMPORT_STAFF_LINK, ADMIN_LINK, TEAMS, ORGANISATIONS):
        assert absent not in body


def test_trainer_with_nothing_yet_is_told_so(client, trainer):
    body = _dashboard(client, trainer)
    assert "You have no courses yet." in body
    assert "No sessions are coming up." in body


def test_manager_sees_their_team_and_not_another(client, manager, staff_everywhere):
    body = _dashboard(client, manager)

    assert "Your teams" in body
    # Team, organisation, active staff, trained in 12 months: Alex trained, one untrained, one left.
    assert table_rows(body, TEAMS) == [["Assessment North", "Council", "2", "1"]]
    assert 'href="/staff/?team=assessment-north"' in body
    assert "Assessment South" not in body
    for absent in (IMPORT_STAFF_LINK, IMPORT_ATTENDANCE_LINK, CREATE_COURSE_LINK, ADMIN_LINK, ORGANISATIONS):
        assert absent not in body


def test_manager_without_a_team_is_told_who_can_add_them(client, manager2, team):
    body = _dashboard(client, manager2)
    assert "You do not manage any teams yet." in body
    assert "Assessment North" not in body


def test_lead_sees_their_organisation_and_can_import_staff(client, lead, staff_everywhere):
    body = _dashboard(client, lead)

    assert "Your organisation" in body
    assert "You see Council." in body
    assert table_rows(body, ORGANISATIONS) == [["Council", "Local authority children's services", "3", "2"]]
    assert [row[0] for row in table_rows(body, TEAMS)] == ["Assessment North", "Assessment South"]
    assert "Child Protection Unit" not in body
    assert "Far Away Team" not in body
    assert IMPORT_STAFF_LINK in body
    for absent in (IMPORT_ATTENDANCE_LINK, CREATE_COURSE_LINK, ADMIN_LINK):
        assert absent not in body


def test_lead_who_sees_the_partnership_sees_every_organisation_in_it(
    client, lead, partnership, staff_everywhere
):
    lead.sees_partnership = True
    lead.save()

    body = _dashboard(client, lead)

    assert "Your partnership" in body
    assert f"You see Council and the other organisations in {partnership.name}." in body
    assert table_rows(body, ORGANISATIONS) == [
        ["Council", "Local authority children's services", "3", "2"],
        ["Police", "Police force", "1", "1"],
    ]
    assert "Child Protection Unit" in body
    assert "Elsewhere Council" not in body
    assert "Far Away Team" not in body
    assert IMPORT_STAFF_LINK in body


def test_admin_has_the_administration_links(client, admin_user, staff_everywhere):
    body = _dashboard(client, admin_user)

    assert "Administrator, Council" in body
    assert ADMIN_LINK in body
    assert 'href="/admin/training/user/"' in body
    assert 'href="/admin/training/accesslog/"' in body
    assert IMPORT_STAFF_LINK in body
    # Every organisation, across partnerships.
    assert {"Council", "Elsewhere Council", "Police"} <= {row[0] for row in table_rows(body, ORGANISATIONS)}


def test_dashboard_query_count_does_not_grow_with_teams_or_organisations(
    client, admin_user, django_assert_max_num_queries
):
    TeamFactory.create_batch(2)
    client.force_login(admin_user)
    with django_assert_max_num_queries(20) as small:
        client.get("/")
    TeamFactory.create_batch(8)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/")
