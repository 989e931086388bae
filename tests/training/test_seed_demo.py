import pytest
from django.core.management import call_command
from django.db import transaction

from training.models import Course, Organisation, Role, StaffMember, TrainingSession, User

pytestmark = pytest.mark.django_db


def _snapshot():
    return (
        sorted(StaffMember.objects.values_list("name", "work_email", "team__name")),
        sorted(TrainingSession.objects.values_list("course__slug", "start")),
    )


def test_seed_demo_builds_the_partnership(capsys):
    call_command("seed_demo", "--seed", "7")

    assert StaffMember.objects.count() >= 200
    kinds = set(Organisation.objects.values_list("kind", flat=True))
    assert {"childrens_services", "police", "health", "voluntary"} <= kinds
    assert Course.objects.filter(topic="cse").exists()
    first, last = (
        TrainingSession.objects.order_by(f).values_list("start", flat=True)[0] for f in ("start", "-start")
    )
    assert (last - first).days >= 540  # sessions over 18 months
    for username, role in [
        ("trainer", Role.TRAINER),
        ("manager", Role.MANAGER),
        ("manager2", Role.MANAGER),
        ("lead", Role.WORKFORCE_LEAD),
        ("admin", Role.ADMINISTRATOR),
    ]:
        assert User.objects.get(username=username).role == role
    manager, manager2 = User.objects.get(username="manager"), User.objects.get(username="manager2")
    assert set(manager.managed_teams.all()).isdisjoint(manager2.managed_teams.all())
    assert "closing-the-loop-demo" in capsys.readouterr().out


def test_seed_demo_twice_adds_no_duplicates():
    call_command("seed_demo", "--seed", "7")
    before = _snapshot()
    call_command("seed_demo", "--seed", "7")
    assert _snapshot() == before


def test_seed_demo_is_deterministic_for_a_seed():
    with transaction.atomic():
        call_command("seed_demo", "--seed", "7")
        first = _snapshot()
        transaction.set_rollback(True)  # start again from nothing, then seed with the same number
    assert not StaffMember.objects.exists()
    call_command("seed_demo", "--seed", "7")
    assert _snapshot() == first
