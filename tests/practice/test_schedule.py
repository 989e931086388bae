"""The audit schedule: baseline and follow-up proposals per trained person, a comparison sample
of untrained colleagues, random within referral outcome, reproducible and idempotent."""

import datetime as dt
import random
from collections import Counter

import pytest
from django.core.management import call_command
from django.utils import timezone

from practice.models import AuditAssignment, AuditReason
from practice.sampling import Candidate, stratified_pick
from practice.services import WINDOWS, schedule_audits
from tests.factories import AttendanceFactory, ReferralFactory, StaffMemberFactory, TrainingSessionFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 6, 1)
TRAINED_ON = TODAY - dt.timedelta(days=300)
OUTCOMES = ["nfa"] * 5 + ["accepted"] * 3 + ["early_help"] * 2


@pytest.fixture
def workforce(team):
    """30 trained and 10 untrained social workers in one team, each with referrals in every window."""
    rng = random.Random(0)
    session = TrainingSessionFactory(start=timezone.make_aware(dt.datetime.combine(TRAINED_ON, dt.time(9))))
    trained, untrained = [], []
    for n in range(40):
        person = StaffMemberFactory(team=team)
        if n < 30:
            AttendanceFactory(session=session, staff=person)
            trained.append(person)
        else:
            untrained.append(person)
        for lo, hi in WINDOWS.values():
            for _ in range(4):
                ReferralFactory(
                    staff=person,
                    made_on=TRAINED_ON + dt.timedelta(days=rng.randint(lo, hi)),
                    outcome=rng.choice(OUTCOMES),
                )
    return trained, untrained


def _snapshot():
    return sorted(
        AuditAssignment.objects.values_list(
            "referral_id", "reason", "assigned_manager_id", "compared_with_id"
        )
    )


def test_every_trained_person_gets_a_baseline_and_two_follow_ups_in_their_windows(workforce, manager):
    trained, _ = workforce
    schedule_audits(seed=1, today=TODAY, second_share=0)
    for reason, (lo, hi) in WINDOWS.items():
        picks = AuditAssignment.objects.filter(reason=reason).select_related("referral")
        assert sorted(a.referral.staff_id for a in picks) == sorted(p.pk for p in trained)
        assert all(lo <= (a.referral.made_on - TRAINED_ON).days <= hi for a in picks)
        assert all(a.assigned_manager == manager and a.anchor_date == TRAINED_ON for a in picks)


def test_comparison_sample_comes_from_untrained_colleagues_in_the_same_team(workforce):
    trained, untrained = workforce
    schedule_audits(seed=1, today=TODAY, second_share=0)
    comparisons = AuditAssignment.objects.filter(reason=AuditReason.COMPARISON).select_related(
        "referral__staff"
    )
    # At most one per window per trained person; fewer when their matched colleague has run out
    # of unproposed referrals in that window (10 colleagues share 30 trained people here).
    windows = Counter((a.compared_with_id, _window(a)) for a in comparisons)
    assert max(windows.values()) == 1
    assert 2 * len(trained) <= comparisons.count() <= 3 * len(trained)
    assert {a.referral.staff for a in comparisons} <= set(untrained)
    assert {a.compared_with for a in comparisons} <= set(trained)


def _window(assignment):
    offset = (assignment.referral.made_on - assignment.anchor_date).days
    return next(name for name, (lo, hi) in WINDOWS.items() if lo <= offset <= hi)


def test_same_seed_same_proposals_and_another_seed_differs(workforce):
    schedule_audits(seed=7, today=TODAY)
    first = _snapshot()
    AuditAssignment.objects.all().delete()
    schedule_audits(seed=7, today=TODAY)
    assert _snapshot() == first
    AuditAssignment.objects.all().delete()
    schedule_audits(seed=8, today=TODAY)
    assert _snapshot() != first


def test_running_again_adds_nothing(workforce):
    created = schedule_audits(seed=3, today=TODAY).total
    assert created > 0
    assert schedule_audits(seed=3, today=TODAY).total == 0
    assert schedule_audits(seed=4, today=TODAY).total == 0
    assert AuditAssignment.objects.count() == created


def test_selection_matches_the_outcome_mix_within_each_reason(workforce):
    trained, _ = workforce
    schedule_audits(seed=11, today=TODAY, second_share=0)
    for reason, (lo, hi) in WINDOWS.items():
        population = Counter(
            outcome
            for person in trained
            for outcome, made_on in person.referrals.values_list("outcome", "made_on")
            if lo <= (made_on - TRAINED_ON).days <= hi
        )
        picked = Counter(
            AuditAssignment.objects.filter(reason=reason).values_list("referral__outcome", flat=True)
        )
        total = sum(population.values())
        for outcome, n in population.items():
            # Proportional allocation: at most one referral away from the population's share.
            assert abs(picked[outcome] - len(trained) * n / total) <= 1.5, (
                reason,
                outcome,
                picked,
                population,
            )


def test_stratified_pick_tracks_population_shares_and_is_reproducible():
    rng = random.Random(99)
    units = {
        (u,): [Candidate(u * 10 + k, rng.choice(["a", "a", "a", "b", "c"])) for k in range(rng.randint(1, 6))]
        for u in range(200)
    }
    picks = stratified_pick(units, rng=random.Random(1))
    assert picks == stratified_pick(units, rng=random.Random(1))
    assert picks != stratified_pick(units, rng=random.Random(2))
    population = Counter(c.outcome for cands in units.values() for c in cands)
    counts = Counter(c.outcome for c in picks.values())
    for outcome, n in population.items():
        assert abs(counts[outcome] / len(picks) - n / sum(population.values())) < 0.03


def test_second_audits_go_to_a_manager_of_another_team(workforce, manager, manager2):
    schedule_audits(seed=5, today=TODAY, second_share=1.0)
    seconds = AuditAssignment.objects.filter(reason=AuditReason.SECOND)
    firsts = AuditAssignment.objects.exclude(reason=AuditReason.SECOND)
    assert seconds.count() == firsts.count()
    assert set(seconds.values_list("assigned_manager", flat=True)) == {manager2.pk}


def test_referrals_already_audited_cover_their_window(workforce, manager):
    from practice import services

    trained, _ = workforce
    person = trained[0]
    lo, hi = WINDOWS[AuditReason.BASELINE]
    referral = next(r for r in person.referrals.all() if lo <= (r.made_on - TRAINED_ON).days <= hi)
    services.audit_start(referral=referral, by=manager)
    schedule_audits(seed=1, today=TODAY, second_share=0)
    assert not AuditAssignment.objects.filter(referral__staff=person, reason=AuditReason.BASELINE).exists()


def test_command(workforce, capsys):
    call_command("schedule_audits", "--seed", "2")
    assert "Proposed" in capsys.readouterr().out
