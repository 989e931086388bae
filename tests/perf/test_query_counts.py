"""No N+1 queries: every API list endpoint and the main list pages run the same number of queries
whatever the number of rows on the page.

Each test loads one row, counts the queries of the request, loads several more rows and counts
again. Asserting equality (not a fixed number) keeps the tests about growth: a new, constant query
added to a view does not break them, a query per row does. The practice list pages (referrals, audits
due, audit history, moderation, coverage) have the same check in tests/practice/test_pages.py.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from practice import services as practice
from practice.models import AuditAssignment
from practice.services import rubric_current
from surveys import services as surveys
from surveys.models import Instrument, InstrumentKind
from tests.factories import (
    AttendanceFactory,
    CourseFactory,
    OrganisationFactory,
    ReferralFactory,
    StaffMemberFactory,
    TeamFactory,
    TrainingSessionFactory,
    UserFactory,
)
from tests.practice.conftest import all_grades
from training.models import Role

pytestmark = pytest.mark.django_db

FEW, MANY = 1, 6


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


def _default_questionnaire() -> Instrument:
    return Instrument.objects.get(kind=InstrumentKind.QUESTIONNAIRE, is_default=True)


# What one more row of each endpoint takes, for a user who can see it. Each returns nothing; the
# tests count rows through the endpoint itself, so a builder that adds invisible rows fails loudly.


def _organisation(ctx) -> None:
    OrganisationFactory(partnership=ctx["council"].partnership)


def _team(ctx) -> None:
    TeamFactory(organisation=ctx["council"], managers=[UserFactory(role=Role.MANAGER)])


def _staff(ctx) -> None:
    StaffMemberFactory(team=ctx["team"])


def _course(ctx) -> None:
    course = CourseFactory(owner=ctx["trainer"])
    course.trainers.add(UserFactory(role=Role.TRAINER, organisation=ctx["council"]))


def _session(ctx) -> None:
    TrainingSessionFactory(course=ctx["course"], trainer=ctx["trainer"])


def _attendance(ctx) -> None:
    AttendanceFactory(session=ctx["session"], staff=StaffMemberFactory(team=ctx["team"]))


def _instrument(ctx) -> None:
    surveys.instrument_copy(instrument=_default_questionnaire(), owner=ctx["admin"])


def _administration(ctx) -> None:
    session = TrainingSessionFactory(course=ctx["course"], trainer=ctx["trainer"])
    AttendanceFactory(session=session, staff=StaffMemberFactory(team=ctx["team"]))
    for administration in surveys.administrations_attach(
        session=session, instrument=_default_questionnaire(), by=ctx["admin"], follow_up_offsets=[90]
    ):
        surveys.invitations_create(administration=administration)


def _referral(ctx) -> None:
    ReferralFactory(staff=StaffMemberFactory(team=ctx["team"]))


def _audit(ctx) -> None:
    referral = ReferralFactory(staff=StaffMemberFactory(team=ctx["team"]))
    audit = practice.audit_start(referral=referral, by=ctx["manager"])
    practice.audit_save(
        audit=audit, by=ctx["manager"], grades=all_grades("3"), evidence={}, revision=1, submit=True
    )


def _rubric_version(ctx) -> None:
    surveys.version_clone(version=rubric_current())


def _assignment(ctx) -> None:
    AuditAssignment.objects.create(
        referral=ReferralFactory(staff=StaffMemberFactory(team=ctx["team"])),
        reason="baseline",
        due_on=timezone.localdate() + dt.timedelta(days=30),
        assigned_manager=ctx["manager"],
    )


# (endpoint, who asks, how to add a row). The users are the roles that use each endpoint: scope
# rules differ by role, and each role's queryset is a different query.
API_CASES = [
    ("organisations", "admin", _organisation),
    ("teams", "admin", _team),
    ("teams", "lead", _team),
    ("staff", "manager", _staff),
    ("staff", "lead", _staff),
    ("courses", "trainer", _course),
    ("courses", "lead", _course),
    ("sessions", "trainer", _session),
    ("sessions", "lead", _session),
    ("attendance", "trainer", _attendance),
    ("attendance", "manager", _attendance),
    ("instruments", "admin", _instrument),
    ("instruments", "lead", _instrument),
    ("administrations", "trainer", _administration),
    ("administrations", "lead", _administration),
    ("referrals", "manager", _referral),
    ("referrals", "lead", _referral),
    ("referrals", "admin", _referral),
    ("audits", "manager", _audit),
    ("audits", "admin", _audit),
    ("rubrics", "manager", _rubric_version),
    ("audit-schedule", "manager", _assignment),
    ("audit-schedule", "lead", _assignment),
]


@pytest.fixture
def ctx(council, team, manager, trainer, lead, admin_user):
    course = CourseFactory(owner=trainer, organisation=council)
    session = TrainingSessionFactory(course=course, trainer=trainer)
    return {
        "council": council,
        "team": team,
        "manager": manager,
        "trainer": trainer,
        "lead": lead,
        "admin": admin_user,
        "course": course,
        "session": session,
    }


@pytest.mark.parametrize(
    ("endpoint", "username", "add"), API_CASES, ids=[f"{e}-{u}" for e, u, _ in API_CASES]
)
def test_api_list_queries_do_not_grow_with_rows(api, ctx, endpoint, username, add):
    user = ctx["admin" if username == "admin" else username]
    api.force_authenticate(user=user)
    url = f"/api/v1/{endpoint}/"
    add(ctx)
    few = _queries(api, url)
    size_before = len(api.get(url).content)
    for _ in range(MANY - FEW):
        add(ctx)
    many = _queries(api, url)
    # Guard against a builder whose rows this user cannot see, which would make the test vacuous.
    # (The body, not the row count: the rubrics endpoint grows by versions within one rubric.)
    assert len(api.get(url).content) > size_before, "the added rows are not visible to this user"
    assert many == few, f"{url} as {username}: {few} queries with fewer rows, {many} with more"


def test_api_list_queries_do_not_grow_with_page_size(api, ctx):
    """The same check on the largest page a caller may ask for."""
    for _ in range(3):
        _audit(ctx)
        _referral(ctx)
    api.force_authenticate(user=ctx["manager"])
    for endpoint in ("audits", "referrals", "staff"):
        small = _queries(api, f"/api/v1/{endpoint}/?page_size=1")
        large = _queries(api, f"/api/v1/{endpoint}/?page_size=200")
        assert small == large, endpoint


# The main list pages that are not covered by tests/practice/test_pages.py.
PAGE_CASES = [
    ("course-list", "trainer", _course, {}),
    ("course-list", "lead", _course, {}),
    ("staff-list", "manager", _staff, {}),
    ("staff-list", "lead", _staff, {}),
    (
        "instrument-list",
        "trainer",
        lambda ctx: surveys.instrument_copy(instrument=_default_questionnaire(), owner=ctx["trainer"]),
        {},
    ),
    ("course-detail", "trainer", _session, {"slug": "course"}),
    ("session-detail", "trainer", _attendance, {"pk": "session"}),
    ("dashboard", "trainer", _session, {}),
    ("dashboard", "manager", _staff, {}),
]


@pytest.mark.parametrize(
    ("name", "username", "add", "args"), PAGE_CASES, ids=[f"{n}-{u}" for n, u, _, _ in PAGE_CASES]
)
def test_list_pages_queries_do_not_grow_with_rows(client, ctx, name, username, add, args):
    client.force_login(ctx[username])
    kwargs = {key: getattr(ctx[source], "slug" if key == "slug" else "pk") for key, source in args.items()}
    url = reverse(name, kwargs=kwargs)
    add(ctx)
    few = _queries(client, url)
    for _ in range(MANY - FEW):
        add(ctx)
    assert _queries(client, url) == few
