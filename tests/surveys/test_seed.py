"""seed_demo's questionnaires: realistic directions of change, non-response, and only opened windows."""

import io
import statistics
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.db.models import Count, F
from django.utils import timezone

from surveys.models import Administration, Invitation, Response, ScaleScore

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    call_command("seed_demo", "--seed", "11", stdout=io.StringIO())


def _matched_changes(code: str) -> dict[str, list[float]]:
    scores = defaultdict(dict)
    rows = ScaleScore.objects.filter(scale__code=code, score__isnull=False).values_list(
        "response__invitation__administration__phase",
        "response__invitation__administration__offset_days",
        "response__invitation__staff_id",
        "score",
    )
    for phase, offset, staff, score in rows:
        scores[f"{phase}{offset or ''}"][staff] = score
    pre = scores["pre"]
    return {
        column: [values[s] - pre[s] for s in values.keys() & pre.keys()]
        for column, values in scores.items()
        if column != "pre"
    }


def _dz(changes: list[float]) -> float:
    return statistics.fmean(changes) / statistics.stdev(changes)


def test_knowledge_rises_after_training_and_partly_fades(seeded):
    changes = _matched_changes("knowledge")
    post, later = statistics.fmean(changes["post"]), statistics.fmean(changes["follow_up91"])
    assert 12 < post < 28  # about +20 percentage points
    assert 0 < later < post  # some of the gain is left three months on


def test_confidence_rises_a_lot_and_attitudes_move_less_than_knowledge(seeded):
    confidence = _matched_changes("confidence")["post"]
    assert statistics.fmean(confidence) > 1.5  # on 0 to 10
    attitudes = _dz(_matched_changes("attitudes")["post"])
    assert 0 < attitudes < _dz(_matched_changes("knowledge")["post"])


def test_some_people_never_answer_and_more_at_follow_up(seeded):
    closed = Invitation.objects.filter(administration__closes_at__lte=timezone.now())
    rates = {}
    for phase in ("pre", "post", "follow_up"):
        invited = closed.filter(administration__phase=phase)
        rates[phase] = invited.filter(response__isnull=True).count() / invited.count()
    assert 0.15 < rates["pre"] < 0.4
    assert 0.15 < rates["post"] < 0.4
    assert rates["follow_up"] > rates["post"]


def test_answers_only_where_the_window_has_opened_and_all_are_scored(seeded):
    assert not Administration.objects.filter(opens_at__gt=timezone.now(), invitations__isnull=False).exists()
    questionnaires = Response.objects.filter(invitation__isnull=False)  # audits are responses too
    assert questionnaires.count() > 200
    assert not questionnaires.filter(invitation__administration__opens_at__gt=F("submitted_at")).exists()
    assert not questionnaires.filter(submitted_at__gt=timezone.now()).exists()
    counts = set(questionnaires.annotate(n=Count("scale_scores")).values_list("n", flat=True))
    assert counts == {5}
    assert Administration.objects.filter(anonymous=True).exists()
    assert Administration.objects.filter(anonymous=False).exists()
