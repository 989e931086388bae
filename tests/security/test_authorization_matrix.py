"""The authorization matrix: every page (from the URL configuration) and every API operation (from
the OpenAPI schema) called as every role, against the expected status written out below. Pages are
called with GET and with POST (``POST_PAGES``: a valid body, checking what was stored), so POST-only
actions are checked for scope too, not only refused with 405.

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

# Columns, in this order, for every table:
#   anonymous, trainee, trainer, manager, manager_other_team, lead, lead_other_org, admin
# Pages are called with GET. 302 = redirected to sign-in; 405 = a POST-only action the role may use
# (POST_PAGES below posts to them). A questionnaire link (/q/<token>/) is the trainee's own token for
# the trainee and, for everyone else, a well-formed token nobody was sent: only the link opens it.
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
    "questionnaire":           "404 200 404 404 404 404 404 404",
    "questionnaire-opt-out":   "404 200 404 404 404 404 404 404",
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


# A token of the same shape as the ones sent, that no invitation has.
UNSENT_TOKEN = "x" * 43


def _page_url(name: str, pattern: str, w, role: str = "trainee", objects: dict | None = None) -> str:
    """The page's URL with the council's objects (or ``objects``: {"session": ..., "staff": ...,
    "referral": ..., "audit": ..., "course": ..., "instrument": ...}) in its path."""
    chosen = {
        "session": w.session,
        "staff": w.staff,
        "referral": w.moderated_referral if name == "moderation-form" else w.referral,
        "audit": w.audit,
        "course": w.course,
        "instrument": w.instrument,
        **(objects or {}),
    }
    url = pattern
    for kind in ("session", "staff", "referral", "audit"):
        prefix = f"{kind}s/<int:pk>" if kind != "staff" else "staff/<int:pk>"
        url = url.replace(prefix, prefix.split("/")[0] + f"/{chosen[kind].pk}")
    slug = chosen["course"].slug if url.startswith("courses/") else chosen["instrument"].slug
    url = (
        url.replace("<slug:slug>", slug)
        .replace("<slug:code>", w.item_code)
        .replace("<str:layout>", "long")
        .replace("<str:token>", w.token if role == "trainee" else UNSENT_TOKEN)
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
    elif role == "trainee":
        # The trainee has opened their link, so whatever it leaves in their session is there.
        assert client.get(f"/q/{w.token}/").status_code == 200
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
    actual = {
        role: _page_client(role, world).get(_page_url(name, PAGE_ROUTES[name], world, role)).status_code
        for role in ROLES
    }
    assert actual == _row(PAGES[name]), f"GET {_page_url(name, PAGE_ROUTES[name], world)}"


def test_signed_out_pages_redirect_to_sign_in(world):
    response = SignedInClient().get(_page_url("referral-detail", PAGE_ROUTES["referral-detail"], world))
    assert response["Location"].startswith("/accounts/login/?next=")


# --- POST --------------------------------------------------------------------------------------------
# Every page is also POSTed as every role, with a body that is valid for the page: an allowed role in
# scope gets past validation and the action happens. Each role's request runs in a savepoint that is
# rolled back, so every role meets the same world. A code ends in "w" when the request stored
# something (a row created, changed or deleted; sign-in sessions and access-log entries aside), and
# only then: the test fails if a refused request (302 to sign-in, 403, 404) stores anything, or if an
# allowed one claims success without its effect.
#
# "ours": the council's objects in the path, as for GET. "theirs": the other organisation's objects
# (a session, referral, audit... of Elsewhere Council), for every page with an object in its path
# that accepts POST. There the council's roles get 404 and the other organisation's lead, in scope,
# gets through: a 404 is about scope, not a page that refuses everyone.
# A "trainee" has opened their own link; on /q/<token>/ they post their answers or opt out, and
# everyone else posts to a token nobody was sent (404).
POST_PAGES = {
    # name:                   ours                                 theirs
    "dashboard":              ("302 302 200 200 200 200 200 200",  None),
    "login":                  ("200 200 302 302 302 302 302 302",  None),
    "logout":                 ("302 302 302 302 302 302 302 302",  None),
    # Showing the enrolment page stores a new, unconfirmed secret; the empty code is refused.
    "mfa-setup":              ("302 302 404 404 404 404 404 200w", None),
    "mfa-verify":             ("302 302 404 404 404 404 404 200",  None),
    "api-schema":             ("401 401 405 405 405 405 405 405",  None),
    "api-docs":               ("401 401 405 405 405 405 405 405",  None),
    "admin:index":            ("302 302 302 302 302 302 302 200",  None),
    # training
    "course-list":            ("302 302 200 200 200 200 200 200",  None),
    "course-create":          ("302 302 302w 403 403 403 403 302w", None),
    "course-detail":          ("302 302 200 200 404 200 404 200",  None),
    "course-edit":            ("302 302 302w 403 403 403 403 302w", "302 302 404 403 403 403 403 302w"),
    "session-create":         ("302 302 302w 403 403 403 403 302w", "302 302 404 403 403 403 403 302w"),
    "session-detail":         ("302 302 200 200 404 200 404 200",  None),
    "session-edit":           ("302 302 302w 403 403 403 403 302w", "302 302 404 403 403 403 403 302w"),
    "session-attendance":     ("302 302 302w 403 403 403 403 302w", "302 302 404 403 403 403 403 302w"),
    "staff-list":             ("302 302 200 200 200 200 200 200",  None),
    "staff-detail":           ("302 302 200 200 404 200 404 200",  None),
    "import-staff":           ("302 302 403 403 403 302w 200 302w", None),
    "import-attendance":      ("302 302 302w 403 403 403 403 302w", None),
    # questionnaires
    "instrument-list":        ("302 302 200 403 403 200 200 200",  None),
    "instrument-detail":      ("302 302 200 403 403 200 200 200",  None),
    "instrument-copy":        ("302 302 302w 403 403 403 403 302w", "302 302 404 403 403 403 403 302w"),
    "item-add":               ("302 302 302w 403 403 403 403 302w", "302 302 404 403 403 403 403 302w"),
    "item-edit":              ("302 302 302w 403 403 403 403 302w", "302 302 404 403 403 403 403 302w"),
    "item-remove":            ("302 302 302w 403 403 403 403 302w", "302 302 404 403 403 403 403 302w"),
    "session-questionnaires": ("302 302 200 403 403 200 404 200",  None),
    "session-attach":         ("302 302 302w 403 403 403 403 302w", "302 302 404 403 403 403 403 302w"),
    "session-send":           ("302 302 302w 403 403 403 403 302w", "302 302 404 403 403 403 403 302w"),
    "session-export":         ("302 302 200 403 403 200 404 200",  None),
    "questionnaire":          ("404 200w 404 404 404 404 404 404", None),
    "questionnaire-opt-out":  ("404 200w 404 404 404 404 404 404", None),
    # referrals and audits
    "referral-list":          ("302 302 403 200 200 200 200 200",  None),
    "referral-create":        ("302 302 403 302w 200 302w 200 302w", None),
    "referral-detail":        ("302 302 403 200 404 200 404 200",  None),
    "referral-edit":          ("302 302 403 302w 404 302w 404 302w", "302 302 403 404 404 404 302w 302w"),
    "audit-start":            ("302 302 403 302w 404 403 403 302w", "302 302 403 404 404 403 403 302w"),
    "second-audit-request":   ("302 302 403 302w 404 403 403 302w", "302 302 403 404 404 403 403 302w"),
    "moderation-form":        ("302 302 403 302w 404 403 403 302w", "302 302 403 404 404 403 403 302w"),
    "audit-history":          ("302 302 403 200 200 403 403 200",  None),
    "audits-due":             ("302 302 403 200 200 403 403 200",  None),
    "audit-coverage":         ("302 302 403 200 200 200 200 200",  None),
    "audit-detail":           ("302 302 403 302w 404 403 403 302w", "302 302 403 404 404 403 403 302w"),
    "moderation-list":        ("302 302 403 200 200 403 403 200",  None),
    "import-referrals":       ("302 302 403 302w 200 302w 200 302w", None),
    "import-audits":          ("302 302 403 302w 200 302w 200 302w", None),
    # impact report, selected by the trainer's course
    "impact-report":          ("302 302 200 200 400 200 400 200",  None),
    "impact-report-pdf":      ("302 302 200 200 400 200 400 200",  None),
    "impact-table":           ("302 302 200 200 400 200 400 200",  None),
}  # fmt: skip

# Tables whose rows a request may add without having done anything: its sign-in session, and the
# access log (whose own tests are tests/security/test_access_log*.py).
NOT_STORED_DATA = {"sessions.Session", "training.AccessLog"}


def _stored() -> dict[str, str]:
    """{model label: digest of its rows in key order} for every table a page could write."""
    import hashlib

    from django.apps import apps

    digests = {}
    for model in apps.get_models(include_auto_created=True):  # many-to-many tables too
        label = model._meta.label
        if not model._meta.managed or model._meta.proxy or label in NOT_STORED_DATA:
            continue
        columns = [f.attname for f in model._meta.concrete_fields]
        rows = model._base_manager.order_by("pk").values_list(*columns)
        digests[label] = hashlib.md5(repr(list(rows)).encode(), usedforsecurity=False).hexdigest()
    return digests


class _Csv(str):
    """A CSV file to upload; a fresh file is made for each request (the client reads it to the end)."""

    def upload(self):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return SimpleUploadedFile("upload.csv", self.encode(), content_type="text/csv")


def _form_data(initial: dict) -> dict:
    """A form's initial values as a browser would post them."""
    import datetime as dt

    data = {}
    for key, value in initial.items():
        if value is None or value is False:
            continue
        if value is True:
            data[key] = "on"
        elif isinstance(value, dt.datetime):
            data[key] = value.astimezone().strftime("%Y-%m-%dT%H:%M")
        elif hasattr(value, "pk"):
            data[key] = value.pk
        else:
            data[key] = value if isinstance(value, list) else str(value)
    return data


def _audited_referral(staff, case_reference, first_by, second_by=None):
    """A referral of ``staff`` with a submitted first audit and, if ``second_by`` is given, a
    second audit that disagrees with it on one criterion (so it awaits moderation)."""
    from practice import services as practice_services
    from tests.factories import ReferralFactory
    from tests.security.world import grades

    referral = ReferralFactory(staff=staff, case_reference=case_reference)
    first = practice_services.audit_start(referral=referral, by=first_by)
    practice_services.audit_save(
        audit=first, by=first_by, grades=grades("3"), evidence={}, revision=1, submit=True
    )
    if second_by is not None:
        practice_services.second_audit_assign(referral=referral, by=first_by, manager=second_by)
        second = practice_services.audit_start(referral=referral, by=second_by, second=True)
        practice_services.audit_save(
            audit=second, by=second_by, grades=grades("3", timely="1"), evidence={}, revision=1, submit=True
        )
    return referral


def _post_setup(name: str, w, side: str):
    """(objects for the path, body) for posting to page ``name`` with ``side``'s objects. Objects a
    page needs in a particular state (a referral not yet audited, a draft audit) are made here."""
    from practice import services as practice_services
    from surveys.forms import ItemForm
    from tests.factories import (
        AttendanceFactory,
        ReferralFactory,
        StaffMemberFactory,
        TeamFactory,
        TrainingSessionFactory,
        UserFactory,
    )
    from tests.security.world import CODES, grades
    from tests.surveys.conftest import answers_for
    from training.forms import CourseForm, TrainingSessionForm
    from training.models import Role

    ours = side == "ours"
    staff = w.staff if ours else w.theirs["staff"]
    session = w.session if ours else w.theirs["session"]
    course = w.course if ours else w.theirs["course"]
    instrument = w.instrument if ours else w.theirs["instrument"]
    referral = w.referral if ours else w.theirs["referral"]
    objects = {"session": session, "staff": staff, "course": course, "instrument": instrument}
    org_slug = "council" if ours else "elsewhere"
    team_name = "Assessment North" if ours else "Far Team"
    # The manager of the referrals' team audits first.
    first_manager = w.users["manager"] if ours else w.theirs["audit"].auditor

    def second_manager():
        """Another manager in the same organisation, with a team of their own, to audit second."""
        organisation = w.organisation if ours else w.theirs["organisation"]
        user = UserFactory(username=f"second-{side}", role=Role.MANAGER, organisation=organisation)
        TeamFactory(organisation=organisation, name=f"Second {side}", slug=f"second-{side}", managers=[user])
        return user

    body: dict = {}
    if name in ("course-create", "course-edit"):
        body = _form_data({**CourseForm.initial_from(course), "title": "Posted course"})
    elif name in ("session-create", "session-edit"):
        body = _form_data(
            {**TrainingSessionForm.initial_from(session), "venue": "Posted venue", "trainer": None}
        )
    elif name == "session-attendance":
        body = {f"status-{staff.pk}": "partial"}
    elif name == "import-staff":
        body = {
            "file": _Csv(
                "name,work_email,profession,organisation,team\n"
                f"Posted Person,posted@{org_slug}.example,social_worker,{org_slug},{team_name}\n"
            )
        }
    elif name == "import-attendance":
        body = {"file": _Csv(f"session_id,work_email,status\n{session.pk},{staff.work_email},partial\n")}
    elif name == "item-add":
        body = {"code": "posted_question", "kind": "free_text", "scale_code": "", "text": "Posted question"}
    elif name == "item-edit":
        item = instrument.versions.order_by("-number").first().items.get(code=w.item_code)
        body = _form_data({**ItemForm.initial_from(item), "text": "Posted wording"})
    elif name == "session-attach":
        # A session with no questionnaires yet: the council's has sent its invitations, which
        # freezes its set-up.
        objects["session"] = TrainingSessionFactory(course=course, start=session.start, end=session.end)
        body = {"instrument": instrument.pk, "follow_up_offsets": "91"}
    elif name == "session-send":
        # Someone booked since the invitations went, so there is one to send.
        newcomer = StaffMemberFactory(
            team=staff.team, name="New Booking", work_email=f"new@{org_slug}.example"
        )
        AttendanceFactory(session=session, staff=newcomer)
    elif name == "questionnaire":
        body = answers_for(w.administration)
    elif name == "referral-create":
        body = {
            "staff": staff.pk,
            "made_on": "2025-01-10",
            "case_reference": "NB777001",
            "route": "police",
            "concerns": ["neglect"],
            "outcome": "pending",
        }
    elif name == "referral-edit":
        from practice.forms import ReferralForm

        body = _form_data({**ReferralForm.initial_from(referral), "notes": "Posted note"})
    elif name == "audit-start":
        referral = ReferralFactory(staff=staff, case_reference="NB777002")
    elif name == "second-audit-request":
        referral = _audited_referral(staff, "NB777003", first_manager)
        body = {"manager": second_manager().pk}
    elif name == "moderation-form":
        referral = _audited_referral(staff, "NB777004", first_manager, second_manager())
        body = {f"grade-{code}": "3" for code in CODES} | {"overall_grade": "3", "note": "Agreed"}
    elif name == "audit-detail":
        draft = practice_services.audit_start(
            referral=ReferralFactory(staff=staff, case_reference="NB777005"), by=first_manager
        )
        objects["audit"] = draft
        body = {f"grade-{code}": grade for code, grade in grades("2").items()} | {"revision": draft.revision}
    elif name == "import-referrals":
        body = {
            "file": _Csv(
                "work_email,made_on,case_reference,route,concerns,outcome\n"
                f"{staff.work_email},2025-01-10,NB777006,police,neglect,pending\n"
            )
        }
    elif name == "import-audits":
        unaudited = ReferralFactory(staff=staff, case_reference="NB777007")
        body = {
            "file": _Csv(
                "referral_id,auditor,audit_date," + ",".join(CODES) + "\n"
                f"{unaudited.pk},{first_manager.username},2025-02-01," + ",".join("3" for _ in CODES) + "\n"
            )
        }
    objects["referral"] = referral
    return objects, body


def _post_outcome(client, url: str, body: dict) -> tuple[str, str]:
    """(code as written in POST_PAGES, where a redirect went), the request rolled back after."""
    from django.db import transaction

    body = {key: value.upload() if isinstance(value, _Csv) else value for key, value in body.items()}
    before = _stored()
    with transaction.atomic():
        response = client.post(url, body)
        stored = _stored() != before
        transaction.set_rollback(True)
    return f"{response.status_code}{'w' if stored else ''}", response.get("Location", "")


def _post_row(text: str) -> dict[str, str]:
    codes = text.split()
    assert len(codes) == len(ROLES), text
    return dict(zip(ROLES, codes, strict=True))


POST_CASES = [(name, "ours") for name in sorted(POST_PAGES)] + [
    (name, "theirs") for name in sorted(POST_PAGES) if POST_PAGES[name][1] is not None
]


def test_every_route_has_a_post_entry():
    assert set(POST_PAGES) == set(PAGE_ROUTES), "pages without a POST entry, or entries without a page"


@pytest.mark.parametrize(("name", "side"), POST_CASES)
def test_page_post_access(world, name, side):
    objects, body = _post_setup(name, world, side)
    clients = {role: _page_client(role, world) for role in ROLES}
    actual, redirects = {}, {}
    for role in ROLES:
        url = _page_url(name, PAGE_ROUTES[name], world, role, objects)
        actual[role], redirects[role] = _post_outcome(clients[role], url, body)
    expected = POST_PAGES[name][0 if side == "ours" else 1]
    assert actual == _post_row(expected), (
        f"POST {_page_url(name, PAGE_ROUTES[name], world, 'trainee', objects)}"
    )
    sign_in = "/admin/login/?next=" if name.startswith("admin:") else "/accounts/login/"
    for role in ("anonymous", "trainee"):
        if actual[role] == "302":
            assert redirects[role].startswith(sign_in), (role, redirects[role])


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
