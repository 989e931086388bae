"""Demo questionnaires for ``seed_demo``: the default CSE questionnaire attached to the CSE and
referrals courses' sessions, with invitations and realistic answers.

The answers follow what evaluations of safeguarding training report: knowledge rises by about 20
percentage points after the session and about half of the gain is left at follow-up; self-rated
confidence rises a lot; attitudes move less; a fifth to a third of people never answer, more at
follow-up. Only windows that have opened by now get answers. Everything is written with bulk
inserts and scored with ``surveys.scoring`` on plain values, so the seed stays quick.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections import Counter
from typing import NamedTuple

from django.urls import reverse
from django.utils import timezone

from surveys.models import (
    Administration,
    Answer,
    Construct,
    Instrument,
    Invitation,
    InvitationToken,
    Item,
    ItemKind,
    Phase,
    Response,
    ScaleScore,
)
from surveys.scoring import ItemRule, score_scales
from surveys.services import (
    AFTER_TRAINING_CONSTRUCTS,
    administration_windows,
    invitation_statuses,
    token_digest,
    version_latest,
)
from training.bulk import insert_rows, insert_rows_with_ids
from training.demo import DemoTraining
from training.models import Attendance

DEFAULT_SLUG = "cse-default"
# The referrals course runs in anonymous mode, so the demo shows both modes.
COURSES = {"cse-recognise-respond-refer": False, "good-referrals-front-door": True}

# Shift in the chance of a correct answer, and in confidence (0-10) and attitude (1-5) points,
# by phase column: big gains after the session, about half kept at follow-up.
# The larger scales add a six-month follow-up (``DemoScale.follow_ups``).
KNOWLEDGE_GAIN = {"pre": 0.0, "post": 0.20, "follow_up_42": 0.11, "follow_up_91": 0.09, "follow_up_182": 0.08}
CONFIDENCE_GAIN = {"pre": 0.0, "post": 2.6, "follow_up_42": 2.0, "follow_up_91": 1.7, "follow_up_182": 1.5}
ATTITUDE_GAIN = {"pre": 0.0, "post": 0.30, "follow_up_42": 0.20, "follow_up_91": 0.15, "follow_up_182": 0.12}
ANSWER_RATE = {"pre": 0.85, "post": 0.92, "follow_up_42": 0.72, "follow_up_91": 0.62, "follow_up_182": 0.55}
COMMENTS = (
    "More time on online exploitation and how apps are used, please.",
    "The case studies about boys were really useful.",
    "I would like a follow-up session on escalation.",
    "Good pace. The referral examples helped most.",
)


def _clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


class _Person:
    """Latent traits that stay the same across phases, so matched changes look real."""

    def __init__(self, rng: random.Random):
        self.engagement = 0.0 if rng.random() < 0.12 else rng.uniform(0.75, 1.0)
        self.knowledge = rng.gauss(0, 0.10)
        self.confidence = rng.gauss(0, 1.2)
        self.attitude = rng.gauss(0, 0.45)
        self.reaction = rng.gauss(0, 0.5)


class _ItemPlan(NamedTuple):
    """What ``_answers`` needs of an item, read once: a model instance's attributes (``pk``,
    ``scale.construct``) are slow to read, and the national scale reads them 50 million times."""

    pk: int
    answer: str  # how it is answered: "free_text", "knowledge", "confidence", "attitude" or "reaction"
    correct: str
    wrong: list[str]  # the options that are not correct
    reverse_coded: bool
    difficulty: float


def _item_plans(items: list[Item], difficulty: dict[int, float]) -> list[_ItemPlan]:
    plans = []
    for item in items:
        if item.kind == ItemKind.FREE_TEXT:
            answer = "free_text"
        elif item.kind in (ItemKind.SINGLE_CHOICE, ItemKind.TRUE_FALSE):
            answer = "knowledge"
        elif item.kind == ItemKind.CONFIDENCE_0_10:
            answer = "confidence"
        elif item.scale.construct == Construct.ATTITUDES:
            answer = "attitude"
        else:  # reaction and intention, after the training only
            answer = "reaction"
        wrong = [o["value"] for o in item.options if o["value"] != item.correct_answer]
        plans.append(
            _ItemPlan(item.pk, answer, item.correct_answer, wrong, item.reverse_coded, difficulty[item.pk])
        )
    return plans


def _answers(rng: random.Random, person: _Person, column: str, items: list[_ItemPlan]) -> dict:
    values: dict[int, str] = {}
    # The same sums, in the same order, as adding each item's own terms to these.
    knowledge = 0.55 + person.knowledge + KNOWLEDGE_GAIN[column]
    confidence = 4.6 + person.confidence + CONFIDENCE_GAIN[column]
    attitude = 3.5 + person.attitude + ATTITUDE_GAIN[column]
    reaction = 4.1 + person.reaction
    for pk, answer, correct, wrong, reverse_coded, difficulty in items:
        if answer == "free_text":
            if column == "post" and rng.random() < 0.1:
                values[pk] = rng.choice(COMMENTS)
            continue
        if rng.random() < 0.03:  # the odd question left unanswered
            continue
        if answer == "knowledge":
            if rng.random() < _clip(knowledge + difficulty, 0.05, 0.97):
                values[pk] = correct
            else:
                values[pk] = "dk" if rng.random() < 0.35 else rng.choice(wrong)
        elif answer == "confidence":
            values[pk] = str(round(_clip(confidence + rng.gauss(0, 0.8), 0, 10)))
        elif answer == "attitude":
            good = round(_clip(attitude + rng.gauss(0, 0.6), 1, 5))
            values[pk] = str(6 - good if reverse_coded else good)
        else:
            values[pk] = str(round(_clip(reaction + rng.gauss(0, 0.6), 1, 5)))
    return values


INVITATION_FIELDS = ["administration", "staff", "sent_at", "reminder_count", "last_reminded_at", "created_at"]


class SurveysSeeder:
    """``seed_demo``'s questionnaires: made once with the first partnership's records (the shared
    instrument version and item difficulties), then ``add`` for each partnership and ``finish``
    for the summary line."""

    def __init__(self, *, demo: DemoTraining, rng: random.Random):
        instrument = Instrument.objects.get(slug=DEFAULT_SLUG)
        self.version = version_latest(instrument)
        all_items = list(self.version.items.select_related("scale").order_by("position"))
        self.rules = [
            ItemRule(i.pk, i.scale_id, i.kind, i.reverse_coded, i.correct_answer) for i in all_items
        ]
        self.min_share = {s.pk: float(s.min_answered_share) for s in self.version.scales.all()}
        difficulty = {i.pk: rng.uniform(-0.15, 0.15) for i in all_items}
        self.all_plans = _item_plans(all_items, difficulty)
        self.pre_plans = _item_plans(
            [i for i in all_items if not i.scale or i.scale.construct not in AFTER_TRAINING_CONSTRUCTS],
            difficulty,
        )
        self.free_text = {i.pk for i in all_items if i.kind == ItemKind.FREE_TEXT}
        slugs = demo.scale.questionnaire_courses or tuple(COURSES)
        self.anonymous = {
            demo.courses[slug].pk: COURSES.get(slug, False) for slug in slugs if slug in demo.courses
        }
        self.counts = Counter()
        self.first_submitted: dt.datetime | None = None
        self.try_link = ""

    def add(self, *, demo: DemoTraining, rng: random.Random) -> None:
        """One partnership's administrations, invitations, responses, answers and scale scores."""
        now = timezone.now()
        version, anonymous = self.version, self.anonymous
        # Item answers are kept for a sample of organisations at the largest scale (scores for all).
        org_of_team = {team.pk: team.organisation_id for team in demo.teams}
        keep_answers_orgs = demo.answers_kept()
        keep_answers = {s.pk for s in demo.staff if org_of_team[s.team_id] in keep_answers_orgs}
        sessions = sorted((s for s in demo.sessions if s.course_id in anonymous), key=lambda s: s.start)
        administrations = Administration.objects.bulk_create(
            (
                Administration(
                    session=session,
                    phase=phase,
                    offset_days=offset,
                    version=version,
                    opens_at=opens,
                    closes_at=closes,
                    anonymous=anonymous[session.course_id],
                    created_by=session.trainer,
                )
                for session in sessions
                for phase, offset, opens, closes in administration_windows(
                    session=session, follow_up_offsets=demo.scale.follow_ups
                )
            ),
            batch_size=2000,
        )

        attendees: dict[int, list[tuple[int, str]]] = {}
        rows = Attendance.objects.filter(session__in=sessions).order_by("pk")
        for session_id, staff_id, status in rows.values_list("session_id", "staff_id", "status"):
            attendees.setdefault(session_id, []).append((staff_id, status))
        people: dict[int, _Person] = {}

        # Who answers what, and when; then invitations, responses, answers and scores in bulk.
        invitations: list[tuple] = []  # the rows, in the order of INVITATION_FIELDS
        answered: list[tuple[int, dict[int, str], dt.datetime, bool]] = []  # (invitation's index, ...)
        waiting: list[int] = []  # indexes of open, unanswered invitations, which get a working link
        for administration in administrations:
            if administration.opens_at > now:
                continue  # invitations go out when the window opens (send_invitations)
            column = administration.column
            is_open = administration.closes_at > now
            for staff_id, status in attendees.get(administration.session_id, []):
                if status not in invitation_statuses(administration.phase):
                    continue
                person = people.setdefault(staff_id, _Person(rng))
                reminders, reminded_at = 0, None
                last_moment = min(administration.closes_at, now)
                if rng.random() < person.engagement * ANSWER_RATE[column]:
                    span = (last_moment - administration.opens_at).total_seconds()
                    submitted = administration.opens_at + dt.timedelta(seconds=span * rng.random() ** 2)
                    items = self.pre_plans if administration.phase == Phase.PRE else self.all_plans
                    values = _answers(rng, person, column, items)
                    answered.append((len(invitations), values, submitted, staff_id in keep_answers))
                elif not is_open:
                    reminders, reminded_at = 2, administration.opens_at + dt.timedelta(days=10)
                else:
                    waiting.append(len(invitations))
                invitations.append(
                    (administration.pk, staff_id, administration.opens_at, reminders, reminded_at, now)
                )

        # Invitations first: each response points at its invitation.
        invitation_ids = insert_rows_with_ids(Invitation, INVITATION_FIELDS, invitations)
        response_ids = insert_rows_with_ids(
            Response,
            ["version", "invitation", "submitted_at", "created_at"],
            ((version.pk, invitation_ids[i], submitted, now) for i, _, submitted, _ in answered),
        )
        # Streamed to the database rather than listed: one partnership's answers can be a million rows.
        scored = list(zip(response_ids, answered, strict=True))
        free_text = self.free_text
        insert_rows(
            Answer,
            ["response", "item", "value", "text"],
            (
                (response_id, item_id, "", value)
                if item_id in free_text
                else (response_id, item_id, value, "")
                for response_id, (_, values, _, keep) in scored
                if keep
                for item_id, value in values.items()
            ),
        )
        insert_rows(
            ScaleScore,
            ["response", "scale", "score", "n_answered", "n_items"],
            (
                (response_id, result.scale_id, result.score, result.n_answered, result.n_items)
                for response_id, (_, values, _, _) in scored
                for result in score_scales(self.rules, self.min_share, values)
            ),
        )
        if answered:
            first = min(submitted for _, _, submitted, _ in answered)
            self.first_submitted = min(first, self.first_submitted or first)

        # Working links for open, unanswered invitations (raw tokens exist only in memory, as in email).
        tokens = []
        for i in waiting:
            token = secrets.token_urlsafe(32)
            tokens.append((invitation_ids[i], token_digest(token), now))
            self.try_link = self.try_link or reverse("questionnaire", args=[token])
        insert_rows(InvitationToken, ["invitation", "digest", "created_at"], tokens)
        self.counts.update(
            administrations=len(administrations),
            sessions=len(sessions),
            invitations=len(invitations),
            responses=len(answered),
        )

    def finish(self, *, rng: random.Random) -> str:
        """Freeze the version at its first response; returns the summary line."""
        if self.first_submitted is not None:
            self.version.frozen_at = self.first_submitted
            self.version.save(update_fields=["frozen_at"])
        counts = self.counts
        summary = (
            f"Questionnaires: {counts['administrations']} administrations on {counts['sessions']} sessions, "
            f"{counts['invitations']} invitations, {counts['responses']} responses."
        )
        return summary + (f" Try the trainee form at {self.try_link}" if self.try_link else "")
