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
from training.bulk import insert_rows
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


def _answers(rng: random.Random, person: _Person, column: str, items: list[Item], difficulty: dict) -> dict:
    values: dict[int, str] = {}
    for item in items:
        if item.kind == ItemKind.FREE_TEXT:
            if column == "post" and rng.random() < 0.1:
                values[item.pk] = rng.choice(COMMENTS)
            continue
        if rng.random() < 0.03:  # the odd question left unanswered
            continue
        construct = item.scale.construct
        if item.kind in (ItemKind.SINGLE_CHOICE, ItemKind.TRUE_FALSE):
            p = _clip(0.55 + person.knowledge + KNOWLEDGE_GAIN[column] + difficulty[item.pk], 0.05, 0.97)
            if rng.random() < p:
                values[item.pk] = item.correct_answer
            else:
                wrong = [o["value"] for o in item.options if o["value"] != item.correct_answer]
                values[item.pk] = "dk" if rng.random() < 0.35 else rng.choice(wrong)
        elif item.kind == ItemKind.CONFIDENCE_0_10:
            level = 4.6 + person.confidence + CONFIDENCE_GAIN[column] + rng.gauss(0, 0.8)
            values[item.pk] = str(round(_clip(level, 0, 10)))
        elif construct == Construct.ATTITUDES:
            good = round(_clip(3.5 + person.attitude + ATTITUDE_GAIN[column] + rng.gauss(0, 0.6), 1, 5))
            values[item.pk] = str(6 - good if item.reverse_coded else good)
        else:  # reaction and intention, after the training only
            values[item.pk] = str(round(_clip(4.1 + person.reaction + rng.gauss(0, 0.6), 1, 5)))
    return values


def seed_surveys(*, demo, rng: random.Random) -> str:
    now = timezone.now()
    instrument = Instrument.objects.get(slug=DEFAULT_SLUG)
    version = version_latest(instrument)
    all_items = list(version.items.select_related("scale").order_by("position"))
    rules = [ItemRule(i.pk, i.scale_id, i.kind, i.reverse_coded, i.correct_answer) for i in all_items]
    min_share = {s.pk: float(s.min_answered_share) for s in version.scales.all()}
    difficulty = {i.pk: rng.uniform(-0.15, 0.15) for i in all_items}
    pre_items = [i for i in all_items if not i.scale or i.scale.construct not in AFTER_TRAINING_CONSTRUCTS]
    free_text = {i.pk for i in all_items if i.kind == ItemKind.FREE_TEXT}

    scale = demo.scale
    slugs = scale.questionnaire_courses or tuple(COURSES)
    anonymous = {demo.courses[slug].pk: COURSES.get(slug, False) for slug in slugs if slug in demo.courses}
    # Item answers are kept for a sample of organisations at the largest scale (scores for all).
    org_of_team = {team.pk: team.organisation_id for team in demo.teams}
    org_ids = sorted({team.organisation_id for team in demo.teams})
    keep_answers_orgs = set(org_ids[: max(1, round(len(org_ids) * scale.answers_share))])
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
                session=session, follow_up_offsets=scale.follow_ups
            )
        ),
        batch_size=2000,
    )

    attendees: dict[int, list[tuple[int, str]]] = {}
    rows = Attendance.objects.filter(session__in=sessions).order_by("pk")
    for session_id, staff_id, status in rows.values_list("session_id", "staff_id", "status"):
        attendees.setdefault(session_id, []).append((staff_id, status))
    people: dict[int, _Person] = {}

    # Who answers what, and when; then responses, answers and scores in bulk.
    invitations: list[Invitation] = []
    answered: list[tuple[Invitation, dict[int, str], dt.datetime]] = []
    for administration in administrations:
        if administration.opens_at > now:
            continue  # invitations go out when the window opens (send_invitations)
        column = administration.column
        is_open = administration.closes_at > now
        for staff_id, status in attendees.get(administration.session_id, []):
            if status not in invitation_statuses(administration.phase):
                continue
            person = people.setdefault(staff_id, _Person(rng))
            invitation = Invitation(
                administration=administration, staff_id=staff_id, sent_at=administration.opens_at
            )
            invitations.append(invitation)
            last_moment = min(administration.closes_at, now)
            if rng.random() < person.engagement * ANSWER_RATE[column]:
                span = (last_moment - administration.opens_at).total_seconds()
                submitted = administration.opens_at + dt.timedelta(seconds=span * rng.random() ** 2)
                items = pre_items if administration.phase == Phase.PRE else all_items
                values = _answers(rng, person, column, items, difficulty)
                answered.append((invitation, values, submitted, staff_id in keep_answers))
            elif not is_open:
                invitation.reminder_count = 2
                invitation.last_reminded_at = administration.opens_at + dt.timedelta(days=10)

    # Invitations first: each response points at its invitation.
    invitations = Invitation.objects.bulk_create(invitations, batch_size=2000)
    responses = Response.objects.bulk_create(
        (
            Response(version=version, invitation=invitation, submitted_at=submitted)
            for invitation, _, submitted, _ in answered
        ),
        batch_size=2000,
    )
    answer_rows, score_rows = [], []
    for response, (_, values, _, keep) in zip(responses, answered, strict=True):
        if keep:
            answer_rows.extend(
                (response.pk, item_id, "", value)
                if item_id in free_text
                else (response.pk, item_id, value, "")
                for item_id, value in values.items()
            )
        for result in score_scales(rules, min_share, values):
            score_rows.append((response.pk, result.scale_id, result.score, result.n_answered, result.n_items))
    insert_rows(Answer, ["response", "item", "value", "text"], answer_rows)
    insert_rows(ScaleScore, ["response", "scale", "score", "n_answered", "n_items"], score_rows)
    if responses:
        version.frozen_at = min(r.submitted_at for r in responses)
        version.save(update_fields=["frozen_at"])

    # Working links for open, unanswered invitations (raw tokens exist only in memory, as in email).
    try_link, tokens = "", []
    answered_ids = {invitation.pk for invitation, _, _, _ in answered}
    for invitation in invitations:
        if invitation.pk not in answered_ids and invitation.administration.closes_at > now:
            token = secrets.token_urlsafe(32)
            tokens.append(InvitationToken(invitation=invitation, digest=token_digest(token)))
            try_link = try_link or reverse("questionnaire", args=[token])
    InvitationToken.objects.bulk_create(tokens, batch_size=2000)
    summary = (
        f"Questionnaires: {len(administrations)} administrations on {len(sessions)} sessions, "
        f"{len(invitations)} invitations, {len(responses)} responses."
    )
    return summary + (f" Try the trainee form at {try_link}" if try_link else "")
