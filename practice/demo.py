"""Demo referrals and audits for the fictional Northbridge partnership (called by ``seed_demo``).

Everything is invented. Case references are fictional ("NB" and six digits), hashed like real
ones and never stored in clear. All randomness comes from the ``rng`` handed in, so a seed gives
the same data.

Effects built in (the impact report's verdicts can be checked against these):

- Referrals: 24 months up to ``demo.today``; per staff member per quarter a Poisson number with
  mean 3 (social workers), 2 (family support, police, health visitors, youth workers), 1.5
  (nurses) or 1 (doctors). About 18% of referrals are for a child referred before, so some are
  re-referrals within 12 months.
- Referral quality (level 3): each referral has a latent quality on the grade scale,
  2.45 + a staff effect (sd 0.35) + a criterion offset + a referral effect (sd 0.35) + the
  training effect below. Each auditor grades latent + their severity (sd 0.25, fixed per auditor)
  + noise (sd 0.45), rounded and clipped to 1-4. There is no secular trend.
- Training effect: only the CSE course (``cse-recognise-respond-refer``, attended or partly
  attended) changes practice. For a referral made d days after a person's CSE training the
  effect on every criterion's latent grade is 0.30 x multiplier, where the effect builds up
  linearly over the first 60 days, holds to day 180, then fades linearly to half (0.15) at day
  365 and stays there. Multipliers: exploitation indicators 1.8, child's voice 1.3, risk 1.2,
  history and siblings 0.5, timeliness 0.4, the rest 1.0 (mean about 1.0). So the peak is about
  +0.3 grade points on the mean, +10 on the 0-100 score, slightly less after rounding and
  clipping. Other courses have no effect.
- Outcomes (level 4a): pending for half of the referrals made in the last 30 days; otherwise
  accepted 30%, strategy discussion or s47 10%, early help 20%, NFA 28%, signposted 12%, with
  accepted +8 points and NFA -8 points at the full CSE training effect (scaled like the grades).
- Auditors: each team's managers audit its referrals (teams without a manager get a fictional
  one, who cannot sign in). About 35% of referrals made at least three weeks ago are audited;
  about 10% of audited referrals get a blind second audit by a manager of another team in the
  same organisation; disagreeing pairs older than 30 days are moderated (agreed grade = mean
  of the two, rounded down).
- Second audits: issue 4 asks for "second audits on about 10% of referrals". That is read as 10%
  of the referrals that are audited (``SECOND_AUDIT_SHARE``), so about 3.5% of all referrals
  (some 140 of about 4,000 in the demo), not 10% of all of them: moderation double-audits a
  sample of the audits done, and the schedule proposes a second audit for the same share of its
  own proposals (``schedule_audits``' ``second_share=0.10``).
- The audit schedule is then run once, so managers have audits due.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict

from django.db.models import Min
from django.utils import timezone

from practice.grading import QUALITY_SCALE_CODE, grade_from_mean, score_from_mean
from practice.hashing import case_reference_hash
from practice.models import (
    EXPLOITATION_CONCERNS,
    Audit,
    AuditStatus,
    Concern,
    Moderation,
    ModerationGrade,
    Outcome,
    Referral,
    Route,
)
from practice.services import rereferral_flags, rubric_current, schedule_audits
from surveys.models import Answer, Response, ScaleScore
from surveys.scoring import ItemRule, score_scales
from surveys.services import version_freeze
from training.bulk import insert_rows
from training.demo import FIRST_NAMES, LAST_NAMES, DemoTraining
from training.models import Attendance, Organisation, Profession, Role, Team, User

CSE_COURSE = "cse-recognise-respond-refer"
EFFECT_PEAK = 0.30
MONTHS = 24
# Share of audited referrals (not of all referrals) that also get a blind second audit.
SECOND_AUDIT_SHARE = 0.10

REFERRALS_PER_QUARTER = {
    Profession.SOCIAL_WORKER: 3.0,
    Profession.FAMILY_SUPPORT: 2.0,
    Profession.POLICE: 2.0,
    Profession.HEALTH_VISITOR: 2.0,
    Profession.YOUTH_WORKER: 2.0,
    Profession.TEACHER: 1.5,
    Profession.NURSE: 1.5,
    Profession.DOCTOR: 1.0,
}
ROUTE_BY_ORGANISATION = {
    Organisation.Kind.CHILDRENS_SERVICES: Route.FRONT_DOOR,
    Organisation.Kind.POLICE: Route.POLICE,
    Organisation.Kind.HEALTH: Route.HEALTH,
    Organisation.Kind.EDUCATION: Route.SCHOOL,
}
# Criterion difficulty (added to the latent grade) and how strongly CSE training moves it.
CRITERION_OFFSET = {
    "reason_clear": 0.30,
    "exploitation_indicators": -0.30,
    "risk_analysed": -0.10,
    "child_voice": -0.25,
    "history_siblings": 0.0,
    "consent": 0.10,
    "fact_opinion": 0.0,
    "levels_of_need": -0.10,
    "timely": 0.35,
    "desired_outcome": -0.20,
    "multi_agency": -0.10,
}
EFFECT_MULTIPLIER = {
    "exploitation_indicators": 1.8,
    "child_voice": 1.3,
    "risk_analysed": 1.2,
    "history_siblings": 0.5,
    "timely": 0.4,
}
OUTCOME_WEIGHTS = {
    Outcome.ACCEPTED: 0.30,
    Outcome.STRATEGY: 0.10,
    Outcome.EARLY_HELP: 0.20,
    Outcome.NFA: 0.28,
    Outcome.SIGNPOSTED: 0.12,
}
CONCERN_WEIGHTS = {
    Concern.NEGLECT: 5,
    Concern.DOMESTIC_ABUSE: 5,
    Concern.EMOTIONAL_ABUSE: 3,
    Concern.PHYSICAL_ABUSE: 3,
    Concern.SEXUAL_EXPLOITATION: 2,
    Concern.CRIMINAL_EXPLOITATION: 2,
    Concern.SEXUAL_ABUSE: 1,
    Concern.ONLINE_HARM: 2,
    Concern.MISSING: 1,
    Concern.OTHER: 1,
}


def training_effect(days_since: int | None) -> float:
    """The built-in effect (grade points) of CSE training on a referral made this long after it."""
    if days_since is None or days_since < 0:
        return 0.0
    if days_since <= 60:
        return EFFECT_PEAK * days_since / 60
    if days_since <= 180:
        return EFFECT_PEAK
    if days_since <= 365:
        return EFFECT_PEAK * (1 - 0.5 * (days_since - 180) / 185)
    return EFFECT_PEAK / 2


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _grade(latent: float) -> int:
    return min(4, max(1, round(latent)))


def _managers(demo: DemoTraining, rng: random.Random) -> dict[int, list[int]]:
    """Each team's manager ids, adding a fictional manager to teams that have none."""
    through = Team.managers.through
    by_team: dict[int, list[int]] = defaultdict(list)
    for team_id, user_id in through.objects.order_by("user_id").values_list("team_id", "user_id"):
        by_team[team_id].append(user_id)
    new = []
    for team in demo.teams:
        if by_team.get(team.pk):
            continue
        user = User(
            username=f"tm-{team.slug}"[:150],
            first_name=rng.choice(FIRST_NAMES),
            last_name=rng.choice(LAST_NAMES),
            role=Role.MANAGER,
            organisation_id=team.organisation_id,
        )
        user.set_unusable_password()  # fictional auditors, not demo sign-ins
        new.append((team, user))
    User.objects.bulk_create([user for _, user in new])
    through.objects.bulk_create(through(team_id=team.pk, user_id=user.pk) for team, user in new)
    for team, user in new:
        by_team[team.pk].append(user.pk)
    return by_team


def seed_practice(*, demo: DemoTraining, rng: random.Random) -> str:
    """Add ``MONTHS`` of referrals by ``demo.staff``, their audits and moderations, then run the
    schedule; returns a one-line summary. The effects are the module docstring's. Of the audited
    referrals (``demo.scale.audit_share`` of those three weeks old, 35% in the demo)
    ``SECOND_AUDIT_SHARE`` (10%) get a blind second audit: "second audits on about 10% of
    referrals" in issue 4 is read as 10% of audited referrals, about 3.5% of all referrals."""
    today = demo.today
    size = demo.scale
    start = today - dt.timedelta(days=round(MONTHS * 30.44))
    managers = _managers(demo, rng)
    severity = {uid: rng.gauss(0, 0.25) for uid in sorted({u for ids in managers.values() for u in ids})}
    teams = {team.pk: team for team in demo.teams}
    org_kind = {org.pk: org.kind for org in demo.organisations}
    trained_on = {
        staff_id: timezone.localtime(first).date()
        for staff_id, first in Attendance.objects.trained()
        .filter(session__course__slug=CSE_COURSE, session__start__date__lte=today)
        .values("staff_id")
        .annotate(first=Min("session__start"))
        .values_list("staff_id", "first")
    }

    # Referrals -----------------------------------------------------------------------------
    referrals, quality, children = [], [], []
    for person in sorted(demo.staff, key=lambda s: s.pk):
        rate = REFERRALS_PER_QUARTER.get(person.profession, 1.0) * size.referral_rate
        person_effect = rng.gauss(0, 0.35)
        team = teams[person.team_id]
        for quarter in range(MONTHS // 3):
            q_start = start + dt.timedelta(days=round(quarter * 91.3))
            for _ in range(_poisson(rng, rate)):
                made_on = min(today, q_start + dt.timedelta(days=rng.randrange(91)))
                if children and rng.random() < 0.18:
                    child = rng.choice(children[-300:])
                else:
                    child = f"NB{rng.randrange(10**6):06d}"
                    children.append(child)
                days = (made_on - trained_on[person.pk]).days if person.pk in trained_on else None
                effect = training_effect(days)
                weights = dict(OUTCOME_WEIGHTS)
                weights[Outcome.ACCEPTED] += 0.08 * effect / EFFECT_PEAK
                weights[Outcome.NFA] -= 0.08 * effect / EFFECT_PEAK
                if (today - made_on).days <= 30 and rng.random() < 0.5:
                    outcome, outcome_on = Outcome.PENDING, None
                else:
                    outcome = rng.choices(list(weights), weights=list(weights.values()))[0]
                    outcome_on = min(today, made_on + dt.timedelta(days=rng.randint(1, 20)))
                concerns = sorted(
                    set(
                        rng.choices(
                            list(CONCERN_WEIGHTS), weights=list(CONCERN_WEIGHTS.values()), k=rng.randint(1, 2)
                        )
                    )
                )
                referrals.append(
                    Referral(
                        staff_id=person.pk,
                        made_on=made_on,
                        route=ROUTE_BY_ORGANISATION.get(org_kind[team.organisation_id], Route.OTHER),
                        concerns=concerns,
                        exploitation_flag=bool(EXPLOITATION_CONCERNS & set(concerns)),
                        outcome=outcome,
                        outcome_on=outcome_on,
                        case_hash=case_reference_hash(child),
                    )
                )
                quality.append((2.45 + person_effect + rng.gauss(0, 0.35), effect))
    flags = rereferral_flags((r.case_hash, r.made_on, (i,)) for i, r in enumerate(referrals))
    for i, referral in enumerate(referrals):
        referral.is_rereferral = flags[(i,)]
    referrals = Referral.objects.bulk_create(referrals, batch_size=2000)

    # Audits --------------------------------------------------------------------------------
    version = rubric_current()
    items = list(version.items.order_by("position"))
    scale = version.scales.get(code=QUALITY_SCALE_CODE)
    rules = [ItemRule(i.pk, i.scale_id, i.kind, i.reverse_coded, i.correct_answer) for i in items]
    share = {scale.pk: float(scale.min_answered_share)}
    org_of_team = {team.pk: team.organisation_id for team in demo.teams}
    team_of_staff = {person.pk: person.team_id for person in demo.staff}
    teams_in_org = defaultdict(list)
    for team in sorted(demo.teams, key=lambda t: t.pk):
        teams_in_org[team.organisation_id].append(team.pk)

    planned = []  # (referral, auditor id, is_second, submitted_at, grades by item code)
    for referral, (base, effect) in zip(referrals, quality, strict=True):
        if (today - referral.made_on).days < 21 or rng.random() >= size.audit_share:
            continue
        team_id = team_of_staff[referral.staff_id]
        first_auditor = rng.choice(managers[team_id])
        latent = {
            item.code: base
            + CRITERION_OFFSET.get(item.code, 0.0)
            + effect * EFFECT_MULTIPLIER.get(item.code, 1.0)
            for item in items
        }
        auditors = [(first_auditor, False)]
        if rng.random() < SECOND_AUDIT_SHARE:
            others = sorted(
                {m for t in teams_in_org[org_of_team[team_id]] if t != team_id for m in managers.get(t, [])}
                - {first_auditor}
            ) or [m for m in managers[team_id] if m != first_auditor]
            if others:
                auditors.append((rng.choice(others), True))
        for auditor, is_second in auditors:
            grades = {
                code: _grade(value + severity[auditor] + rng.gauss(0, 0.45)) for code, value in latent.items()
            }
            # Yesterday at the latest: an audit stamped later today would be in the future.
            day = min(today - dt.timedelta(days=1), referral.made_on + dt.timedelta(days=rng.randint(14, 60)))
            at = timezone.make_aware(dt.datetime.combine(day, dt.time(rng.randint(9, 16), rng.randrange(60))))
            planned.append((referral, auditor, is_second, at, grades))

    responses = Response.objects.bulk_create(
        (Response(version=version, submitted_at=at) for _, _, _, at, _ in planned), batch_size=2000
    )
    # Item answers are kept for a sample of organisations at the largest scale (scores for all).
    org_ids = sorted(set(org_of_team.values()))
    keep_answers_orgs = set(org_ids[: max(1, round(len(org_ids) * size.answers_share))])
    answers, scores, audits = [], [], []
    for response, (referral, auditor, is_second, at, grades) in zip(responses, planned, strict=True):
        values = {item.pk: str(grades[item.code]) for item in items}
        if org_of_team[team_of_staff[referral.staff_id]] in keep_answers_orgs:
            answers += [(response.pk, item.pk, str(grades[item.code]), "") for item in items]
        [scored] = score_scales(rules, share, values)
        scores.append((response.pk, scale.pk, scored.score, scored.n_answered, scored.n_items))
        audits.append(
            Audit(
                referral=referral,
                auditor_id=auditor,
                version=version,
                response=response,
                is_second=is_second,
                status=AuditStatus.SUBMITTED,
                submitted_at=at,
                overall_grade=grade_from_mean(scored.score),
                score_0_100=score_from_mean(scored.score),
            )
        )
    insert_rows(Answer, ["response", "item", "value", "text"], answers)
    insert_rows(ScaleScore, ["response", "scale", "score", "n_answered", "n_items"], scores)
    Audit.objects.bulk_create(audits, batch_size=2000)
    if planned:
        version_freeze(version=version)

    # Moderation of older disagreeing pairs -------------------------------------------------
    pairs: dict[int, dict[bool, tuple]] = defaultdict(dict)
    for audit, (_, _, is_second, _, grades) in zip(audits, planned, strict=True):
        pairs[audit.referral_id][is_second] = (audit, grades)
    moderations, agreed = [], []
    moderated = 0
    for referral_id, pair in sorted(pairs.items()):
        if len(pair) < 2:
            continue
        (first, g1), (second, g2) = pair[False], pair[True]
        differ = [item for item in items if g1[item.code] != g2[item.code]]
        if (not differ and first.overall_grade == second.overall_grade) or (
            today - second.submitted_at.date()
        ).days < 30:
            continue
        moderations.append(
            Moderation(
                referral_id=referral_id,
                moderator_id=first.auditor_id,
                agreed_overall_grade=(first.overall_grade + second.overall_grade) // 2,
                note="Agreed at the monthly moderation meeting.",
            )
        )
        agreed.append([(item, (g1[item.code] + g2[item.code]) // 2) for item in differ])
        moderated += 1
    moderations = Moderation.objects.bulk_create(moderations)
    ModerationGrade.objects.bulk_create(
        ModerationGrade(moderation=m, item=item, grade=grade)
        for m, grades in zip(moderations, agreed, strict=True)
        for item, grade in grades
    )

    scheduled = schedule_audits(seed=rng.randrange(2**31), today=today)
    n_second = sum(1 for a in audits if a.is_second)
    n_rereferral = sum(1 for r in referrals if r.is_rereferral)
    return (
        f"Added {len(referrals)} referrals ({n_rereferral} re-referrals), {len(audits) - n_second} audits, "
        f"{n_second} blind second audits, {moderated} moderations and {scheduled.total} audits due."
    )
