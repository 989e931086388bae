import dataclasses
import io
import random

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

from practice.models import Audit, Referral
from surveys.models import Answer, Invitation, Response
from training.demo import DEMO_LOADING_SLUG, DEMO_PARTNERSHIP_SLUG, SCALES
from training.management.commands.seed_demo import load_demo
from training.models import (
    Attendance,
    Course,
    Organisation,
    Partnership,
    Role,
    StaffMember,
    Team,
    TrainingSession,
    User,
)

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


# A tiny national scale: three partnerships of a few dozen staff, written one at a time as
# ``--scale national`` is, with item answers kept for half of the organisations.
TINY = dataclasses.replace(
    SCALES["national"],
    name="tiny",
    partnerships=3,
    team_copies=1,
    staff_per_team=0.1,
    sessions=0.3,
    answers_share=0.5,
)


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
def test_a_multi_partnership_seed_writes_each_partnership_with_its_own_sessions():
    lines: list[str] = []
    first = load_demo(rng=random.Random(3), today=timezone.localdate(), scale=TINY, write=lines.append)

    assert first.partnership.name.startswith("Northbridge")
    assert Partnership.objects.get(slug=DEMO_PARTNERSHIP_SLUG) == first.partnership  # marked loaded
    assert Partnership.objects.count() == 3 and Organisation.objects.count() == 12
    assert Course.objects.count() == 5  # shared by every partnership, created once
    assert User.objects.filter(username="trainer").count() == 1
    # Every partnership's staff attend sessions, and no session has attendees from two partnerships.
    partnership_of = "staff__team__organisation__partnership"
    assert Attendance.objects.values_list(partnership_of, flat=True).distinct().count() == 3
    per_session = Attendance.objects.values("session").annotate(n=Count(partnership_of, distinct=True))
    assert {row["n"] for row in per_session} == {1}
    assert TrainingSession.objects.filter(venue="Area 3 Civic Centre").exists()

    # One line per partnership as it is committed, then the summaries, whose totals are the nation's.
    progress, (loaded, questionnaires, practice) = lines[:3], lines[3:]
    assert [line.split(" (")[0] for line in progress] == [f"Partnership {k} of 3" for k in (1, 2, 3)]
    per_partnership = [int(line.split("): ")[1].split(" staff")[0]) for line in progress]
    teams, staff, sessions = (
        Team.objects.count(),
        StaffMember.objects.count(),
        TrainingSession.objects.count(),
    )
    assert sum(per_partnership) == staff
    assert (
        loaded == f"Loaded 12 organisations, {teams} teams, {staff} staff, 5 courses and {sessions} sessions."
    )
    responses = Response.objects.filter(audit=None).count()
    assert f"{Invitation.objects.count()} invitations, {responses} responses." in questionnaires
    assert practice.startswith(f"Added {Referral.objects.count()} referrals")

    # Scale scores for every response; item answers only for the first half of the organisations.
    assert not Response.objects.filter(scale_scores=None).exists()
    kept = set(sorted(Organisation.objects.values_list("pk", flat=True))[:6])
    answered = set(
        Answer.objects.filter(response__invitation__isnull=False).values_list(
            "response__invitation__staff__team__organisation", flat=True
        )
    ) | set(
        Answer.objects.filter(response__audit__isnull=False).values_list(
            "response__audit__referral__staff__team__organisation", flat=True
        )
    )
    assert answered and answered <= kept
    # Each partnership numbers its own children's cases: no child is in two partnerships.
    assert not (
        Referral.objects.values("case_hash")
        .annotate(n=Count(partnership_of, distinct=True))
        .filter(n__gt=1)
        .exists()
    )
    assert Audit.objects.filter(is_second=True).exists()


def test_a_seed_that_stopped_part_way_is_not_taken_for_a_loaded_demo():
    Partnership.objects.create(name="Northbridge Safeguarding Children Partnership", slug=DEMO_LOADING_SLUG)
    with pytest.raises(CommandError, match="stopped part-way"):
        call_command("seed_demo", stdout=io.StringIO())
