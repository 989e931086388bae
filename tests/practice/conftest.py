import pytest

from practice import services
from tests.factories import ReferralFactory, StaffMemberFactory, TeamFactory, UserFactory
from training.models import Role

# One grade per criterion of the default rubric, in its order.
CODES = [
    "reason_clear",
    "exploitation_indicators",
    "risk_analysed",
    "child_voice",
    "history_siblings",
    "consent",
    "fact_opinion",
    "levels_of_need",
    "timely",
    "desired_outcome",
    "multi_agency",
]


def all_grades(grade: str = "3", **overrides) -> dict[str, str]:
    return {code: overrides.get(code, grade) for code in CODES}


@pytest.fixture
def co_manager(council, team):
    """A second manager of the same team as ``manager``."""
    user = UserFactory(username="comanager", role=Role.MANAGER, organisation=council)
    team.managers.add(user)
    return user


@pytest.fixture
def far_manager():
    """A manager in another organisation altogether."""
    far_team = TeamFactory()
    user = UserFactory(username="farmanager", role=Role.MANAGER, organisation=far_team.organisation)
    far_team.managers.add(user)
    StaffMemberFactory(team=far_team)
    return user


@pytest.fixture
def our_referral(our_staff):
    return ReferralFactory(staff=our_staff, case_reference="NB100001")


@pytest.fixture
def their_referral(their_staff):
    return ReferralFactory(staff=their_staff, case_reference="NB100002")


@pytest.fixture
def submitted_first(our_referral, manager):
    audit = services.audit_start(referral=our_referral, by=manager)
    return services.audit_save(
        audit=audit, by=manager, grades=all_grades("3"), evidence={}, revision=audit.revision, submit=True
    )


@pytest.fixture(autouse=True)
def _manager2_manages_the_other_team(request):
    """``manager2`` (from tests/conftest.py) only manages a team once ``other_team`` exists; most
    tests here want that shape: two teams in one council, one manager each. Modules that load the
    demo, whose accounts have the same usernames, opt out with ``USES_DEMO_ACCOUNTS = True``."""
    if not getattr(request.module, "USES_DEMO_ACCOUNTS", False):
        request.getfixturevalue("other_team")
