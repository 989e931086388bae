"""The REST API: anonymous callers are refused everywhere, writes obey roles, fields cannot be
mass-assigned, lists are paginated with a ceiling."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import AttendanceFactory, CourseFactory, StaffMemberFactory, TrainingSessionFactory
from training.models import Attendance, Course, Role

pytestmark = pytest.mark.django_db


def _api_routes():
    """Every (method, path) the API exposes, read from the URL configuration itself so that a new
    endpoint is covered without editing this test."""
    from rest_framework.viewsets import ViewSetMixin

    routes = []

    def walk(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                path = prefix + str(p.pattern)
                if not path.startswith("api/"):
                    continue
                if "format" in path:
                    continue  # DRF's ".json" suffix twins of the same views
                concrete = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path).replace("^", "").replace("$", "")
                actions = getattr(p.callback, "actions", None)
                if actions and issubclass(getattr(p.callback, "cls", object), ViewSetMixin):
                    routes.extend((method.upper(), "/" + concrete) for method in actions)
                else:
                    routes.append(("GET", "/" + concrete))

    walk(get_resolver().url_patterns, "")
    return routes


ROUTES = _api_routes()


def test_route_discovery_finds_every_resource():
    paths = {path for _, path in ROUTES}
    for resource in ("organisations", "teams", "staff", "courses", "sessions", "attendance"):
        assert f"/api/v1/{resource}/" in paths
        assert f"/api/v1/{resource}/1/" in paths
    assert "/api/schema/" in paths


# The only operations open without signing in, and what they answer to an empty body. Trainees
# answer questionnaires from an emailed link without an account: the token in the body is the
# credential (see surveys/api/views.py ResponseViewSet), so an empty body is a 400, not a 401.
OPEN_ROUTES = {("POST", "/api/v1/responses/"): 400}


def test_open_routes_exist():
    assert set(OPEN_ROUTES) <= set(ROUTES)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_caller_is_refused(api, method, path):
    response = api.generic(method, path, data="{}", content_type="application/json")
    expected = OPEN_ROUTES.get((method, path), 401)
    assert response.status_code == expected, f"{method} {path} answered {response.status_code}"


def test_token_authentication_works(api, manager, our_staff):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=manager)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/staff/").json()["count"] == 1


def test_page_size_has_a_maximum(api_as, lead, team):
    StaffMemberFactory.create_batch(205, team=team)
    body = api_as(lead).get("/api/v1/staff/?page_size=1000").json()
    assert body["count"] == 205
    assert len(body["results"]) == 200


def test_filtering_staff_by_team(api_as, lead, our_staff, their_staff):
    body = api_as(lead).get(f"/api/v1/staff/?team={their_staff.team_id}").json()
    assert [row["id"] for row in body["results"]] == [their_staff.pk]


def test_trainer_creates_a_course_and_owns_it_whatever_they_send(api_as, trainer, manager):
    response = api_as(trainer).post(
        "/api/v1/courses/",
        {
            "title": "Recognising exploitation",
            "topic": "cse",
            "delivery_mode": "face_to_face",
            "duration_hours": "3.5",
            "owner": manager.pk,  # not settable: must be ignored
            "slug": "chosen-by-caller",  # not settable either
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    course = Course.objects.get(pk=response.json()["id"])
    assert course.owner == trainer
    assert course.slug == "recognising-exploitation"


def test_manager_cannot_create_a_course(api_as, manager):
    response = api_as(manager).post(
        "/api/v1/courses/",
        {"title": "X", "topic": "cse", "delivery_mode": "face_to_face", "duration_hours": "1"},
        format="json",
    )
    assert response.status_code == 403


def test_session_end_before_start_is_a_clear_400(api_as, trainer):
    course = CourseFactory(owner=trainer)
    response = api_as(trainer).post(
        "/api/v1/sessions/",
        {
            "course": course.pk,
            "start": "2025-05-01T10:00:00Z",
            "end": "2025-05-01T09:00:00Z",
            "venue": "Hall",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"end": ["The session must end after it starts."]}


def test_trainer_cannot_add_a_session_to_someone_elses_course(api_as, trainer):
    course = CourseFactory()
    response = api_as(trainer).post(
        "/api/v1/sessions/",
        {"course": course.pk, "start": "2025-05-01T09:00:00Z", "end": "2025-05-01T12:00:00Z"},
        format="json",
    )
    assert response.status_code == 400
    assert "course" in response.json()


def test_trainer_marks_attendance_and_duplicate_is_refused(api_as, trainer, our_staff):
    session = TrainingSessionFactory(course__owner=trainer)
    api = api_as(trainer)
    first = api.post(
        "/api/v1/attendance/",
        {"session": session.pk, "staff": our_staff.pk, "status": "attended"},
        format="json",
    )
    assert first.status_code == 201, first.content
    again = api.post(
        "/api/v1/attendance/",
        {"session": session.pk, "staff": our_staff.pk, "status": "attended"},
        format="json",
    )
    assert again.status_code in (201, 400)
    assert Attendance.objects.filter(session=session, staff=our_staff).count() == 1


def test_attendance_status_update_via_patch(api_as, trainer, our_staff):
    attendance = AttendanceFactory(
        session=TrainingSessionFactory(course__owner=trainer), staff=our_staff, status="booked"
    )
    response = api_as(trainer).patch(
        f"/api/v1/attendance/{attendance.pk}/", {"status": "no_show"}, format="json"
    )
    assert response.status_code == 200, response.content
    attendance.refresh_from_db()
    assert attendance.status == "no_show"


def test_manager_can_read_but_not_change_attendance(api_as, manager, our_staff):
    attendance = AttendanceFactory(staff=our_staff)
    api = api_as(manager)
    assert api.get(f"/api/v1/attendance/{attendance.pk}/").status_code == 200
    assert (
        api.patch(f"/api/v1/attendance/{attendance.pk}/", {"status": "no_show"}, format="json").status_code
        == 403
    )


def test_only_administrators_change_organisations(api_as, lead, admin_user, council):
    assert (
        api_as(lead).patch(f"/api/v1/organisations/{council.pk}/", {"name": "X"}, format="json").status_code
        == 403
    )
    response = api_as(admin_user).patch(
        f"/api/v1/organisations/{council.pk}/", {"name": "Renamed"}, format="json"
    )
    assert response.status_code == 200
    council.refresh_from_db()
    assert council.name == "Renamed"


def test_lead_creates_staff_only_in_teams_in_scope(api_as, lead, team, other_org):
    from tests.factories import TeamFactory

    far_team = TeamFactory(organisation=other_org)
    api = api_as(lead)
    ok = api.post(
        "/api/v1/staff/",
        {
            "name": "New Person",
            "work_email": "new@council.example",
            "profession": "social_worker",
            "team": team.pk,
        },
        format="json",
    )
    assert ok.status_code == 201, ok.content
    refused = api.post(
        "/api/v1/staff/",
        {"name": "Far", "work_email": "far@x.example", "profession": "social_worker", "team": far_team.pk},
        format="json",
    )
    assert refused.status_code == 400
    assert "team" in refused.json()


def test_openapi_schema_and_docs_are_served_to_signed_in_users(api_as, client, trainer):
    assert api_as(trainer).get("/api/schema/").status_code == 200
    client.force_login(trainer)
    assert client.get("/api/docs/").status_code == 200


def test_list_endpoints_use_a_constant_number_of_queries(api_as, admin_user, django_assert_max_num_queries):
    for _ in range(3):
        AttendanceFactory()
    api = api_as(admin_user)
    for resource in ("organisations", "teams", "staff", "courses", "sessions", "attendance"):
        with django_assert_max_num_queries(4):
            assert api.get(f"/api/v1/{resource}/").status_code == 200
    for _ in range(10):
        AttendanceFactory()
    for resource in ("organisations", "teams", "staff", "courses", "sessions", "attendance"):
        with django_assert_max_num_queries(4):
            api.get(f"/api/v1/{resource}/")


def test_role_is_not_settable_through_any_api(api_as, trainer):
    assert trainer.role == Role.TRAINER
