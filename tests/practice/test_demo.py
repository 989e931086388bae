"""The demo data carries the effects its docstring promises (practice/demo.py)."""

import statistics

import pytest
from django.core.management import call_command
from django.utils import timezone

from practice.demo import CSE_COURSE
from practice.models import Audit, AuditAssignment, Referral
from training.models import Attendance

pytestmark = pytest.mark.django_db
USES_DEMO_ACCOUNTS = True


def test_seeded_audits_improve_after_cse_training_and_have_second_audits():
    call_command("seed_demo", "--seed", "11")
    trained_on = {
        a.staff_id: timezone.localtime(a.session.start).date()
        for a in Attendance.objects.trained()
        .filter(session__course__slug=CSE_COURSE)
        .select_related("session")
    }
    before, after = [], []
    for staff_id, made_on, score in Audit.objects.filter(is_second=False).values_list(
        "referral__staff_id", "referral__made_on", "score_0_100"
    ):
        if staff_id in trained_on:
            days = (made_on - trained_on[staff_id]).days
            if days < 0:
                before.append(score)
            elif 60 <= days <= 180:
                after.append(score)
    effect = statistics.mean(after) - statistics.mean(before)
    assert 4 < effect < 16, effect  # built in: +0.3 grade points, about +10 on the 0-100 score

    firsts = Audit.objects.filter(is_second=False).count()
    seconds = Audit.objects.filter(is_second=True).count()
    assert 0.05 < seconds / firsts < 0.15
    assert Referral.objects.filter(is_rereferral=True).exists()
    assert AuditAssignment.objects.exists()
    # Auditors differ in severity.
    means = [
        statistics.mean(scores)
        for auditor in Audit.objects.values_list("auditor", flat=True).distinct()
        if len(scores := list(Audit.objects.filter(auditor=auditor).values_list("score_0_100", flat=True)))
        >= 20
    ]
    assert max(means) - min(means) > 5
    # Every audit was submitted in the past, never later than the moment the demo was seeded.
    assert not Audit.objects.filter(submitted_at__gt=timezone.now()).exists()
