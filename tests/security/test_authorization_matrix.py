"""The authorization matrix: every page (from the URL configuration) and every API operation (from
the OpenAPI schema) called as every role, against the expected status written out below.

The world (tests/security/world.py) has one object of each kind in the council's Assessment North
team and the trainer's course, and the same kinds in another organisation. Path parameters are
filled with the council's objects, so for each route the roles split into those in scope (200, or
400 for a write with an empty body: it got past authorization to validation), those outside it
(404: the project never confirms that an object exists to someone who may not see it), those whose
role has no business there (403), and the signed-out (302 to sign-in for pages, 401 for the API).

A route that is not in the tables fails ``test_every_route_has_an_entry``: decide who may use it,
and write it down here.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.auth import SignedInClient
from tests.security.world import ROLES, build_world

pytestmark = pytest.mark.django_db

# Columns, in this order, for both tables:
#   anonymous, trainee, trainer, manager, manager_other_team, lead, lead_other_org, admin
# Pages are called with GET. 302 = redirected to sign-in; 405 = a POST-only action the role may use.
PAGES = {
    "dashboard":               "302 302 200 200 200 200 200 200",
    "login":                   "200 200 302 302 302 302 302 302",
    "logout":                  "405 405 405 405 405 405 405 405",
    "mfa-setup":               "302 302 404 404 404 404 404 200",
    "mfa-verify":              "302 302 404 404 404 404 404 200",
    "api-schema":              "401 401 200 200 200 200 200 200",
    "api-docs":                "401 401 200 200 200 200 200 200",
    "admin:index":             "302 302 302 302 302 302 302 200",
    # training
    "course-list":             "302 302 200 200 200 200 200 200",
    "course-create":           "302 302 200 403 403 403 403 200",
    "course-detail":           "302 302 200 200 404 200 404 200",
    "course-edit":             "302 302 200 403 403 403 403 200",
    "session-create":          "302 302 200 403 403 403 403 200",
    "session-detail":          "302 302 200 200 404 200 404 200",
    "session-edit":            "302 302 200 403 403 403 403 200",
    "session-attendance":      "302 302 200 403 403 403 403 200",
    "staff-list":              "302 302 200 200 200 200 200 200",
    "staff-detail":            "302 302 200 200 404 200 404 200",
    "import-staff":            "302 302 403 403 403 200 200 200",
    "import-attendance":       "302 302 200 403 403 403 403 200",
    # questionnaires
    "instrument-list":         "302 302 200 403 403 200 200 200",
    "instrument-detail":       "302 302 200 403 403 200 200 200",
    "instrument-copy":         "302 302 405 403 403 403 403 405",
    "item-add":                "302 302 200 403 403 403 403 200",
    "item-edit":               "302 302 200 403 403 403 403 200",
    "item-remove":             "302 302 405 403 403 403 403 405",
    "session-questionnaires":  "302 302 200 403 403 200 404 200",
    "session-attach":          "302 302 200 403 403 403 403 200",
    "session-send":            "302 302 405 403 403 403 403 405",
    "session-export":          "302 302 200 403 403 200 404 200",
    "questionnaire":           "200 200 200 200 200 200 200 200",
    "questionnaire-opt-out":   "200 200 200 200 200 200 200 200",
    # referrals and audits
    "referral-list":           "302 302 403 200 200 200 200 200",
    "referral-create":         "302 302 403 200 200 200 200 200",
    "referral-detail":         "302 302 403 200 404 200 404 200",
    "referral-edit":           "302 302 403 200 404 200 404 200",
    "audit-start":             "302 302 403 405 405 403 403 405",
    "second-audit-request":    "302 302 403 405 405 403 403 405",
    "moderation-form":         "302 302 403 200 404 403 403 200",
    "audit-history":           "302 302 403 200 200 403 403 200",
    "audits-due":              "302 302 403 200 200 403 403 200",
    "audit-coverage":          "302 302 403 200 200 200 200 200",
    "audit-detail":            "302 302 403 200 404 403 403 200",
    "moderation-list":         "302 302 403 200 200 403 403 200",
    "import-referrals":        "302 302 403 200 200 200 200 200",
    "import-audits":           "302 302 403 200 200 200 200 200",
    # impact report, selected by the trainer's course
    "impact-report":           "302 302 200 200 400 200 400 200",
    "impact-report-pdf":       "302 302 200 200 400 200 400 200",
    "impact-table":            "302 302 200 200 400 200 400 200",
}  # fmt: skip

# API operations from the OpenAPI schema. Writes are sent an empty JSON body: 400 means the caller
# got past authorization to validation. Callers use token authentication; the trainee sends their
# questionnaire token, which is not an API credential.
API = {
    "GET /api/v1/organisations/":                  "401 401 200 200 200 200 200 200",
    "POST /api/v1/organisations/":                 "401 401 403 403 403 403 403 400",
    "GET /api/v1/organisations/{id}/":             "401 401 200 200 200 200 404 200",
    "PUT /api/v1/organisations/{id}/":             "401 401 403 403 403 403 403 400",
    "PATCH /api/v1/organisations/{id}/":           "401 401 403 403 403 403 403 200",
    "GET /api/v1/teams/":                          "401 401 200 200 200 200 200 200",
    "POST /api/v1/teams/":                         "401 401 403 403 403 403 403 400",
    "GET /api/v1/teams/{id}/":                     "401 401 200 200 404 200 404 200",
    "PUT /api/v1/teams/{id}/":                     "401 401 403 403 403 403 403 400",
    "PATCH /api/v1/teams/{id}/":                   "401 401 403 403 403 403 403 200",
    "GET /api/v1/staff/":                          "401 401 200 200 200 200 200 200",
    "POST /api/v1/staff/":                         "401 401 403 403 403 400 400 400",
    "GET /api/v1/staff/{id}/":                     "401 401 200 200 404 200 404 200",
    "PUT /api/v1/staff/{id}/":                     "401 401 403 403 403 400 404 400",
    "PATCH /api/v1/staff/{id}/":                   "401 401 403 403 403 200 404 200",
    "GET /api/v1/courses/":                        "401 401 200 200 200 200 200 200",
    "POST /api/v1/courses/":                       "401 401 400 403 403 403 403 400",
    "GET /api/v1/courses/{id}/":                   "401 401 200 200 404 200 404 200",
    "PUT /api/v1/courses/{id}/":                   "401 401 400 403 403 403 403 400",
    "PATCH /api/v1/courses/{id}/":                 "401 401 200 403 403 403 403 200",
    "GET /api/v1/sessions/":                       "401 401 200 200 200 200 200 200",
    "POST /api/v1/sessions/":                      "401 401 400 403 403 403 403 400",
    "GET /api/v1/sessions/{id}/":                  "401 401 200 200 404 200 404 200",
    "PUT /api/v1/sessions/{id}/":                  "401 401 400 403 403 403 403 400",
    "PATCH /api/v1/sessions/{id}/":                "401 401 200 403 403 403 403 200",
    "GET /api/v1/attendance/":                     "401 401 200 200 200 200 200 200",
    "POST /api/v1/attendance/":                    "401 401 400 403 403 403 403 400",
    "GET /api/v1/attendance/{id}/":                "401 401 200 200 404 200 404 200",
    "PUT /api/v1/attendance/{id}/":                "401 401 400 403 403 403 403 400",
    "PATCH /api/v1/attendance/{id}/":              "401 401 200 403 403 403 403 200",
    "GET /api/v1/instruments/":                    "401 401 200 403 403 200 200 200",
    "GET /api/v1/instruments/{id}/":               "401 401 200 403 403 200 200 200",
    "GET /api/v1/administrations/":                "401 401 200 200 200 200 200 200",
    "GET /api/v1/administrations/{id}/":           "401 401 200 200 404 200 404 200",
    "GET /api/v1/administrations/{id}/response-rate/": "401 401 200 200 404 200 404 200",
    "POST /api/v1/responses/":                     "400 400 400 400 400 400 400 400",
    "GET /api/v1/referrals/":                      "401 401 200 200 200 200 200 200",
    "POST /api/v1/referrals/":                     "401 401 403 400 400 400 400 400",
    "GET /api/v1/referrals/{id}/":                 "401 401 404 200 404 200 404 200",
    "PUT /api/v1/referrals/{id}/":                 "401 401 403 400 404 400 404 400",
    "PATCH /api/v1/referrals/{id}/":               "401 401 403 200 404 200 404 200",
    "GET /api/v1/audits/":                         "401 401 200 200 200 200 200 200",
    "POST /api/v1/audits/":                        "401 401 403 400 400 403 403 400",
    "GET /api/v1/audits/{id}/":                    "401 401 404 200 404 404 404 200",
    "PUT /api/v1/audits/{id}/":                    "401 401 403 400 404 403 403 400",
    "PATCH /api/v1/audits/{id}/":                  "401 401 403 400 404 403 403 400",
    "GET /api/v1/rubrics/":                        "401 401 200 200 200 200 200 200",
    "GET /api/v1/rubrics/{id}/":                   "401 401 200 200 200 200 200 200",
    "GET /api/v1/audit-schedule/":                 "401 401 200 200 200 200 200 200",
    "GET /api/v1/audit-schedule/{id}/":            "401 401 404 200 404 200 404 200",
    "GET /api/v1/reports/impact/":                 "401 401 200 200 400 200 400 200",
}  # fmt: skip


def _row(text: str) -> dict[str, int]:
    codes = [int(c) for c in text.split()]
    assert len(codes) == len(ROLES), text
    return dict(zip(ROLES, codes, strict=True))


# --- Discovery ------------------------------------------------------------------------------------


def _page_routes() -> dict[str, str]:
    """{route name: path pattern} for every named route outside the API and the Django admin's own
    pages (the admin is one entry, its index: it has its own staff check)."""
    found: dict[str, str] = {}

    def walk(patterns, prefix, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace or namespace
                if ns == "admin":
                    found["admin:index"] = "admin/"
                    continue
                walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                path = prefix + str(p.pattern)
                if path.startswith("api/v1/"):
                    continue
                assert p.name, f"unnamed route {path}"
                found[p.name] = path

    walk(get_resolver().url_patterns, "", None)
    return found


def _api_operations() -> list[str]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    ]


PAGE_ROUTES = _page_routes()
API_OPERATIONS = _api_operations()


def test_every_route_has_an_entry():
    assert set(PAGE_ROUTES) == set(PAGES), "pages without an entry, or entries without a page"
    assert set(API_OPERATIONS) == set(API), "API operations without an entry, or entries without one"


def test_discovery_found_the_api_and_the_trainee_routes():
    assert len(API_OPERATIONS) >= 50
    assert PAGE_ROUTES["questionnaire"] == "q/<str:token>/"


# --- Calling ---------------------------------------------------------------------------------------


def _page_url(name: str, pattern: str, w) -> str:
    objects = {
        "sessions/<int:pk>": w.session.pk,
        "staff/<int:pk>": w.staff.pk,
        "referrals/<int:pk>": (w.moderated_referral if name == "moderation-form" else w.referral).pk,
        "audits/<int:pk>": w.audit.pk,
    }
    url = pattern
    for prefix, pk in objects.items():
        url = url.replace(prefix, prefix.split("/")[0] + f"/{pk}")
    slug = w.course.slug if url.startswith("courses/") else w.instrument.slug
    url = (
        url.replace("<slug:slug>", slug)
        .replace("<slug:code>", w.item_code)
        .replace("<str:layout>", "long")
        .replace("<str:token>", w.token)
        .replace("<slug:key>.<table_format:fmt>", "data_quality.csv")
    )
    assert "<" not in url, f"no value for a parameter of {pattern}"
    query = f"?course={w.course.slug}" if name.startswith("impact-") else ""
    return "/" + url + query


API_OBJECTS = {
    "organisations": "organisation",
    "teams": "team",
    "staff": "staff",
    "courses": "course",
    "sessions": "session",
    "attendance": "attendance",
    "instruments": "instrument",
    "administrations": "administration",
    "referrals": "referral",
    "audits": "audit",
    "rubrics": "rubric",
    "audit-schedule": "assignment",
}


def _api_url(path: str, w) -> str:
    if "{id}" in path:
        resource = path.split("/")[3]
        path = path.replace("{id}", str(getattr(w, API_OBJECTS[resource]).pk))
    assert "{" not in path, path
    if path == "/api/v1/reports/impact/":
        path += f"?course={w.course.slug}"
    return path


def _page_client(role: str, w):
    client = SignedInClient()
    if role in w.users:
        client.force_login(w.users[role])
    return client


def _api_client(role: str, w):
    client = APIClient()
    if role == "trainee":
        client.credentials(HTTP_AUTHORIZATION=f"Token {w.token}")
    elif role in w.users:
        key = Token.objects.get_or_create(user=w.users[role])[0].key
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def world():
    return build_world()


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_access(world, name):
    url = _page_url(name, PAGE_ROUTES[name], world)
    actual = {role: _page_client(role, world).get(url).status_code for role in ROLES}
    assert actual == _row(PAGES[name]), f"GET {url}"


def test_signed_out_pages_redirect_to_sign_in(world):
    response = SignedInClient().get(_page_url("referral-detail", PAGE_ROUTES["referral-detail"], world))
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("operation", sorted(API))
def test_api_access(world, operation):
    method, path = operation.split(" ", 1)
    url = _api_url(path, world)
    actual = {
        role: _api_client(role, world)
        .generic(method, url, data="{}", content_type="application/json")
        .status_code
        for role in ROLES
    }
    assert actual == _row(API[operation]), f"{method} {url}"


def test_trainee_token_answers_the_questionnaire_and_opens_nothing_else(world):
    from tests.surveys.conftest import answers_for

    client = APIClient()
    created = client.post(
        "/api/v1/responses/",
        {"token": world.token, "answers": answers_for(world.administration)},
        format="json",
    )
    assert created.status_code == 201
    assert created.json() == {"status": "submitted"}
    again = client.post(
        "/api/v1/responses/",
        {"token": world.token, "answers": answers_for(world.administration)},
        format="json",
    )
    assert again.status_code == 409


LISTS = {
    "/api/v1/staff/": "staff",
    "/api/v1/teams/": "team",
    "/api/v1/courses/": "course",
    "/api/v1/sessions/": "session",
    "/api/v1/attendance/": "attendance",
    "/api/v1/administrations/": "administration",
    "/api/v1/referrals/": "referral",
    "/api/v1/audits/": "audit",
    "/api/v1/audit-schedule/": "assignment",
}


@pytest.mark.parametrize("path", sorted(LISTS))
def test_lists_hold_only_what_the_role_may_see(world, path):
    """The other organisation's object is in no council role's list, and the council's is in none
    of the other organisation's lead's."""
    key = LISTS[path]
    theirs = world.theirs[key].pk
    ours = getattr(world, key).pk
    for role in ("trainer", "manager", "manager_other_team", "lead", "lead_other_org"):
        ids = {row["id"] for row in _api_client(role, world).get(path, {"page_size": 200}).json()["results"]}
        if role == "lead_other_org":
            assert ours not in ids, (role, path)
        else:
            assert theirs not in ids, (role, path)
    admin_ids = {
        row["id"] for row in _api_client("admin", world).get(path, {"page_size": 200}).json()["results"]
    }
    assert {ours, theirs} <= admin_ids, path


# --- Mass assignment ------------------------------------------------------------------------------
# Each writable operation is sent, alongside valid data, fields the caller may not set. They must be
# ignored (the stored row keeps the server's value) or refused with 400/404; never stored.


def _api(role, w):
    return _api_client(role, w)


def test_referral_create_ignores_server_fields(world):
    from practice.hashing import case_reference_hash
    from practice.models import Referral

    body = {
        "staff": world.staff.pk,
        "made_on": "2025-01-10",
        "route": "front_door",
        "concerns": ["neglect"],
        "outcome": "accepted",
        "case_reference": "NB123456",
        # Not the caller's to set:
        "case_hash": "0" * 64,
        "is_rereferral": True,
        "created_by": world.users["admin"].pk,
        "id": 99999,
        "created_at": "2000-01-01T00:00:00Z",
    }
    response = _api("manager", world).post("/api/v1/referrals/", body, format="json")
    assert response.status_code == 201, response.content
    referral = Referral.objects.get(pk=response.json()["id"])
    assert referral.pk != 99999
    assert referral.case_hash == case_reference_hash("NB123456")
    assert referral.is_rereferral is False
    assert referral.created_by == world.users["manager"]
    assert referral.created_at.year != 2000


def test_referral_create_for_someone_out_of_scope_is_refused(world):
    body = {
        "staff": world.theirs["staff"].pk,
        "made_on": "2025-01-10",
        "route": "front_door",
        "concerns": ["neglect"],
        "outcome": "accepted",
        "case_reference": "NB123457",
    }
    response = _api("manager", world).post("/api/v1/referrals/", body, format="json")
    assert response.status_code == 400
    assert "staff" in response.json()


def test_referral_update_cannot_move_it_or_set_its_hash(world):
    before = (world.referral.staff_id, world.referral.case_hash, world.referral.is_rereferral)
    response = _api("manager", world).patch(
        f"/api/v1/referrals/{world.referral.pk}/",
        {
            "notes": "Checked",
            "staff": world.theirs["staff"].pk,
            "case_hash": "0" * 64,
            "is_rereferral": True,
            "created_by": world.users["admin"].pk,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    world.referral.refresh_from_db()
    assert world.referral.notes == "Checked"
    assert (world.referral.staff_id, world.referral.case_hash, world.referral.is_rereferral) == before


def test_audit_create_ignores_auditor_and_results(world):
    from practice.models import Audit
    from tests.factories import ReferralFactory

    referral = ReferralFactory(staff=world.staff, case_reference="NB900003")
    response = _api("manager", world).post(
        "/api/v1/audits/",
        {
            "referral": referral.pk,
            "auditor": world.users["manager_other_team"].pk,
            "status": "submitted",
            "score_0_100": 100,
            "overall_grade": 4,
            "revision": 50,
            "version": 1,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    audit = Audit.objects.get(pk=response.json()["id"])
    assert audit.auditor == world.users["manager"]
    assert (audit.status, audit.score_0_100, audit.overall_grade, audit.revision) == ("draft", None, None, 1)


def test_audit_create_on_a_referral_out_of_scope_is_refused(world):
    response = _api("manager_other_team", world).post(
        "/api/v1/audits/", {"referral": world.referral.pk}, format="json"
    )
    assert response.status_code == 400
    assert "referral" in response.json()


def test_audit_save_ignores_results_ownership_and_kind(world):
    from practice.models import Audit

    draft = Audit.objects.get(referral=world.theirs["referral"])
    far_manager = draft.auditor
    token = Token.objects.create(user=far_manager).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.put(
        f"/api/v1/audits/{draft.pk}/",
        {
            "revision": draft.revision,
            "grades": {"timely": "2"},
            "evidence": {},
            "auditor": world.users["manager"].pk,
            "referral": world.referral.pk,
            "is_second": True,
            "status": "submitted",
            "score_0_100": 100,
            "overall_grade": 4,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    draft.refresh_from_db()
    assert draft.auditor == far_manager
    assert draft.referral == world.theirs["referral"]
    assert (draft.is_second, draft.status, draft.score_0_100, draft.overall_grade) == (
        False,
        "draft",
        None,
        None,
    )
    assert draft.revision == 2


def test_course_create_ignores_owner_and_organisation(world):
    from training.models import Course

    response = _api("trainer", world).post(
        "/api/v1/courses/",
        {
            "title": "New course",
            "topic": "cse",
            "delivery_mode": "face_to_face",
            "duration_hours": "2.0",
            "owner": world.users["admin"].pk,
            "organisation": world.theirs["organisation"].pk,
            "trainers": [world.users["admin"].pk],
            "slug": "chosen-slug",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    course = Course.objects.get(pk=response.json()["id"])
    assert course.owner == world.users["trainer"]
    assert course.organisation == world.organisation
    assert not course.trainers.exists()


def test_course_update_cannot_change_owner(world):
    response = _api("trainer", world).patch(
        f"/api/v1/courses/{world.course.pk}/",
        {
            "title": "Renamed",
            "owner": world.users["admin"].pk,
            "organisation": world.theirs["organisation"].pk,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    world.course.refresh_from_db()
    assert world.course.title == "Renamed"
    assert world.course.owner == world.users["trainer"]
    assert world.course.organisation == world.organisation


def test_staff_cannot_be_put_in_a_team_out_of_scope_or_linked_to_an_account(world):
    from training.models import StaffMember

    lead = _api("lead", world)
    moved = lead.patch(f"/api/v1/staff/{world.staff.pk}/", {"team": world.theirs["team"].pk}, format="json")
    assert moved.status_code == 400
    linked = lead.patch(
        f"/api/v1/staff/{world.staff.pk}/",
        {"name": "Alex Ours", "user": world.users["admin"].pk, "role": "administrator"},
        format="json",
    )
    assert linked.status_code == 200, linked.content
    person = StaffMember.objects.get(pk=world.staff.pk)
    assert person.team == world.team and person.user is None
    world.users["admin"].refresh_from_db()
    assert world.users["admin"].role == "administrator"


def test_session_cannot_be_added_to_a_course_the_trainer_does_not_manage(world):
    response = _api("trainer", world).post(
        "/api/v1/sessions/",
        {"course": world.theirs["course"].pk, "start": "2026-01-01T10:00:00Z", "end": "2026-01-01T12:00:00Z"},
        format="json",
    )
    assert response.status_code == 400
    assert "course" in response.json()


def test_session_update_ignores_trainer(world):
    response = _api("trainer", world).patch(
        f"/api/v1/sessions/{world.session.pk}/",
        {"venue": "Town Hall", "trainer": world.users["admin"].pk},
        format="json",
    )
    assert response.status_code == 200, response.content
    world.session.refresh_from_db()
    assert world.session.venue == "Town Hall"
    assert world.session.trainer == world.users["trainer"]


def test_attendance_cannot_book_someone_onto_a_session_out_of_scope(world):
    response = _api("trainer", world).post(
        "/api/v1/attendance/",
        {"session": world.theirs["session"].pk, "staff": world.staff.pk, "status": "booked"},
        format="json",
    )
    assert response.status_code == 400
    assert "session" in response.json()


def test_team_managers_are_the_administrators_to_set(world):
    response = _api("lead", world).patch(
        f"/api/v1/teams/{world.team.pk}/", {"managers": [world.users["lead"].pk]}, format="json"
    )
    assert response.status_code == 403
    assert list(world.team.managers.all()) == [world.users["manager"]]


def test_questionnaire_response_ignores_everything_but_token_and_answers(world):
    from surveys.models import Invitation, Response
    from tests.surveys.conftest import answers_for

    body = {
        "token": world.token,
        "answers": answers_for(world.administration),
        "staff": world.theirs["staff"].pk,
        "invitation": 1,
        "administration": world.theirs["administration"].pk,
        "submitted_at": "2000-01-01T00:00:00Z",
        "scores": {"knowledge": 100},
    }
    assert APIClient().post("/api/v1/responses/", body, format="json").status_code == 201
    invitation = Invitation.objects.get(administration=world.administration)
    response = Response.objects.get(invitation=invitation)
    assert response.submitted_at.year != 2000
    assert not Response.objects.filter(invitation__administration=world.theirs["administration"]).exists()
