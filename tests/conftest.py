import pytest
from rest_framework.test import APIClient

from tests.auth import SignedInClient
from tests.factories import (
    OrganisationFactory,
    PartnershipFactory,
    StaffMemberFactory,
    TeamFactory,
    UserFactory,
)
from training.models import Role


@pytest.fixture
def client():
    """force_login also passes an administrator's authenticator step (tests/auth.py)."""
    return SignedInClient()


@pytest.fixture
def partnership():
    return PartnershipFactory()


@pytest.fixture
def council(partnership):
    return OrganisationFactory(name="Council", slug="council", partnership=partnership)


@pytest.fixture
def police(partnership):
    return OrganisationFactory(name="Police", slug="police", kind="police", partnership=partnership)


@pytest.fixture
def other_org():
    """An organisation in a different partnership altogether."""
    return OrganisationFactory(name="Elsewhere Council", slug="elsewhere")


@pytest.fixture
def manager(council):
    return UserFactory(username="manager", role=Role.MANAGER, organisation=council)


@pytest.fixture
def manager2(council):
    return UserFactory(username="manager2", role=Role.MANAGER, organisation=council)


@pytest.fixture
def team(council, manager):
    return TeamFactory(
        organisation=council, name="Assessment North", slug="assessment-north", managers=[manager]
    )


@pytest.fixture
def other_team(council, manager2):
    return TeamFactory(
        organisation=council, name="Assessment South", slug="assessment-south", managers=[manager2]
    )


@pytest.fixture
def trainer(council):
    return UserFactory(username="trainer", role=Role.TRAINER, organisation=council)


@pytest.fixture
def lead(council):
    return UserFactory(username="lead", role=Role.WORKFORCE_LEAD, organisation=council)


@pytest.fixture
def admin_user(council):
    return UserFactory(
        username="admin", role=Role.ADMINISTRATOR, organisation=council, is_staff=True, is_superuser=True
    )


@pytest.fixture
def our_staff(team):
    return StaffMemberFactory(team=team, name="Alex Ours", work_email="alex@council.example")


@pytest.fixture
def their_staff(other_team):
    return StaffMemberFactory(team=other_team, name="Blake Theirs", work_email="blake@council.example")


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def api_as(api):
    def login(user):
        api.force_authenticate(user=user)
        return api

    return login


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher is deliberately slow; tests create hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Keeping the rows that migrations create ------------------------------------------------------
# Data migrations load rows every test relies on (the default questionnaire and audit rubric,
# content types). A transactional test ends by emptying every table, so an ordinary test that
# follows it on the same worker would find them gone. Django serializes the freshly migrated
# database when it creates the test database (some tests ask for serialized_rollback), and that
# copy is put back before any test that follows a transactional one.

_after_transactional_test = {"dirty": False}


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if not _after_transactional_test["dirty"]:
        return
    from django.core.management import call_command
    from django.db import connection
    from pytest_django.plugin import blocking_manager_key

    migrated = getattr(connection, "_test_serialized_contents", None)
    with item.config.stash[blocking_manager_key].unblock():
        call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=bool(migrated))
        if migrated:
            connection.creation.deserialize_db_from_string(migrated)
            _reset_sequences(connection)
    _after_transactional_test["dirty"] = False


def _reset_sequences(connection) -> None:
    # The restored rows keep their primary keys, but flush restarted PostgreSQL's sequences at 1,
    # so the next row a test creates would collide with a restored one. SQLite needs nothing.
    from django.apps import apps
    from django.core.management.color import no_style

    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    # A transactional test skipped before it started (a PostgreSQL-only test on SQLite) emptied
    # nothing; flushing after it anyway would also wipe a module's seeded data mid-module.
    if call.when == "setup" and _is_transactional(item) and not outcome.get_result().skipped:
        _after_transactional_test["dirty"] = True
