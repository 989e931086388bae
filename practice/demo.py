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
from collections import Counter, defaultdict
from typing import NamedTuple

from django.db.models import Min
from django.utils import timezone

from practice.grading import (
    QUALITY_SCALE_CODE,
    criterion_grades_string,
    grade_from_mean,
    rubric_items,
    score_from_mean,
)
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
from training.bulk import insert_rows, insert_rows_with_ids
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
REFERRAL_FIELDS = [
    "staff",
    "made_on",
    "route",
    "concerns",
    "exploitation_flag",
    "outcome",
    "outcome_on",
    "case_hash",
    "is_rereferral",
    "local_label",
    "notes",
    "created_at",
    "updated_at",
]
AUDIT_FIELDS = [
    "referral",
    "auditor",
    "version",
    "response",
    "is_second",
    "status",
    "submitted_at",
    "overall_grade",
    "score_0_100",
    "criterion_grades",
    "revision",
    "created_at",
    "updated_at",
]


class PlannedAudit(NamedTuple):
    referral_id: int
    staff_id: int  # the referrer
    auditor: int
    is_second: bool
    at: dt.datetime
    grades: dict[str, int]  # by criterion code


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
    links = through.objects.filter(team__organisation__partnership=demo.partnership).order_by("user_id")
    for team_id, user_id in links.values_list("team_id", "user_id"):
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


class PracticeSeeder:
    """``seed_demo``'s referrals, audits and moderations: made once (the current rubric), then
    ``add`` for each partnership and ``finish`` to run the audit schedule once for all of them.
    The effects are the module docstring's. Of the audited referrals (``demo.scale.audit_share``
    of those three weeks old, 35% in the demo) ``SECOND_AUDIT_SHARE`` (10%) get a blind second
    audit: "second audits on about 10% of referrals" in issue 4 is read as 10% of audited
    referrals, about 3.5% of all referrals."""

    def __init__(self, *, demo: DemoTraining, rng: random.Random):
        self.today = demo.today
        self.version = rubric_current()
        self.items = list(self.version.items.order_by("position"))
        self.criteria = rubric_items(self.version)
        self.scale = self.version.scales.get(code=QUALITY_SCALE_CODE)
        self.rules = [
            ItemRule(i.pk, i.scale_id, i.kind, i.reverse_coded, i.correct_answer) for i in self.items
        ]
        self.share = {self.scale.pk: float(self.scale.min_answered_share)}
        self.counts = Counter()

    def add(self, *, demo: DemoTraining, rng: random.Random) -> None:
        """``MONTHS`` of referrals by one partnership's ``demo.staff``, their audits and moderations."""
        today, size, items = demo.today, demo.scale, self.items
        now = timezone.now()
        start = today - dt.timedelta(days=round(MONTHS * 30.44))
        managers = _managers(demo, rng)
        severity = {uid: rng.gauss(0, 0.25) for uid in sorted({u for ids in managers.values() for u in ids})}
        teams = {team.pk: team for team in demo.teams}
        org_kind = {org.pk: org.kind for org in demo.organisations}
        trained_on = {
            staff_id: timezone.localtime(first).date()
            for staff_id, first in Attendance.objects.trained()
            .filter(
                session__course__slug=CSE_COURSE,
                session__start__date__lte=today,
                staff__team__organisation__partnership=demo.partnership,
            )
            .values("staff_id")
            .annotate(first=Min("session__start"))
            .values_list("staff_id", "first")
        }
        # Each partnership numbers its children's cases its own way, so its cases are its own.
        case_prefix = "NB" if demo.index == 0 else f"A{demo.index + 1}-"

        # Referrals -------------------------------------------------------------------------
        referrals: list[list] = []  # the rows, in the order of REFERRAL_FIELDS
        quality = []
        children: list[str] = []
        for person in sorted(demo.staff, key=lambda s: s.pk):
            rate = REFERRALS_PER_QUARTER.get(person.profession, 1.0) * size.referral_rate
            person_effect = rng.gauss(0, 0.35)
            team = teams[person.team_id]
            route = ROUTE_BY_ORGANISATION.get(org_kind[team.organisation_id], Route.OTHER)
            for quarter in range(MONTHS // 3):
                q_start = start + dt.timedelta(days=round(quarter * 91.3))
                for _ in range(_poisson(rng, rate)):
                    made_on = min(today, q_start + dt.timedelta(days=rng.randrange(91)))
                    if children and rng.random() < 0.18:
                        child = rng.choice(children[-300:])
                    else:
                        child = f"{case_prefix}{rng.randrange(10**6):06d}"
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
                                list(CONCERN_WEIGHTS),
                                weights=list(CONCERN_WEIGHTS.values()),
                                k=rng.randint(1, 2),
                            )
                        )
                    )
                    exploitation = bool(EXPLOITATION_CONCERNS & set(concerns))
                    case_hash = case_reference_hash(child)
                    referrals.append(
                        [person.pk, made_on, route, concerns, exploitation, outcome, outcome_on, case_hash]
                    )
                    quality.append((2.45 + person_effect + rng.gauss(0, 0.35), effect))
        flags = rereferral_flags((row[7], row[1], (i,)) for i, row in enumerate(referrals))
        for i, row in enumerate(referrals):
            row += [flags[(i,)], "", "", now, now]  # is_rereferral, local_label, notes, the two dates
        referral_ids = insert_rows_with_ids(Referral, REFERRAL_FIELDS, referrals)

        # Audits ----------------------------------------------------------------------------
        org_of_team = {team.pk: team.organisation_id for team in demo.teams}
        team_of_staff = {person.pk: person.team_id for person in demo.staff}
        teams_in_org = defaultdict(list)
        for team in sorted(demo.teams, key=lambda t: t.pk):
            teams_in_org[team.organisation_id].append(team.pk)

        planned: list[PlannedAudit] = []
        for referral_id, row, (base, effect) in zip(referral_ids, referrals, quality, strict=True):
            staff_id, made_on = row[0], row[1]
            if (today - made_on).days < 21 or rng.random() >= size.audit_share:
                continue
            team_id = team_of_staff[staff_id]
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
                    {
                        m
                        for t in teams_in_org[org_of_team[team_id]]
                        if t != team_id
                        for m in managers.get(t, [])
                    }
                    - {first_auditor}
                ) or [m for m in managers[team_id] if m != first_auditor]
                if others:
                    auditors.append((rng.choice(others), True))
            for auditor, is_second in auditors:
                grades = {
                    code: _grade(value + severity[auditor] + rng.gauss(0, 0.45))
                    for code, value in latent.items()
                }
                # Yesterday at the latest: an audit stamped later today would be in the future.
                day = min(today - dt.timedelta(days=1), made_on + dt.timedelta(days=rng.randint(14, 60)))
                at = timezone.make_aware(
                    dt.datetime.combine(day, dt.time(rng.randint(9, 16), rng.randrange(60)))
                )
                planned.append(PlannedAudit(referral_id, staff_id, auditor, is_second, at, grades))

        version, scale = self.version, self.scale
        response_ids = insert_rows_with_ids(
            Response, ["version", "submitted_at", "created_at"], ((version.pk, a.at, now) for a in planned)
        )
        # Item answers are kept for a sample of organisations at the largest scale (scores for all).
        # The criterion grades go with the answers they repeat: an audit without answers has none,
        # so the report's criteria are the same as if it read the answers.
        keep_answers_orgs = demo.answers_kept()
        answers, scores, audits, overall = [], [], [], []
        for response_id, audit in zip(response_ids, planned, strict=True):
            values = {item.pk: str(audit.grades[item.code]) for item in items}
            criterion_grades = ""
            if org_of_team[team_of_staff[audit.staff_id]] in keep_answers_orgs:
                answers += [(response_id, item.pk, str(audit.grades[item.code]), "") for item in items]
                criterion_grades = criterion_grades_string(self.criteria, audit.grades)
            [scored] = score_scales(self.rules, self.share, values)
            scores.append((response_id, scale.pk, scored.score, scored.n_answered, scored.n_items))
            grade = grade_from_mean(scored.score)
            overall.append(grade)
            audits.append(
                (
                    audit.referral_id,
                    audit.auditor,
                    version.pk,
                    response_id,
                    audit.is_second,
                    AuditStatus.SUBMITTED,
                    audit.at,
                    grade,
                    score_from_mean(scored.score),
                    criterion_grades,
                    1,  # revision
                    now,
                    now,
                )
            )
        insert_rows(Answer, ["response", "item", "value", "text"], answers)
        insert_rows(ScaleScore, ["response", "scale", "score", "n_answered", "n_items"], scores)
        insert_rows(Audit, AUDIT_FIELDS, audits)
        if planned:
            version_freeze(version=version)

        # Moderation of older disagreeing pairs ---------------------------------------------
        pairs: dict[int, dict[bool, tuple[PlannedAudit, int]]] = defaultdict(dict)
        for audit, grade in zip(planned, overall, strict=True):
            pairs[audit.referral_id][audit.is_second] = (audit, grade)
        moderations, agreed = [], []
        for referral_id, pair in sorted(pairs.items()):
            if len(pair) < 2:
                continue
            (first, grade1), (second, grade2) = pair[False], pair[True]
            g1, g2 = first.grades, second.grades
            differ = [item for item in items if g1[item.code] != g2[item.code]]
            if (not differ and grade1 == grade2) or (today - second.at.date()).days < 30:
                continue
            moderations.append(
                (
                    referral_id,
                    first.auditor,
                    (grade1 + grade2) // 2,
                    "Agreed at the monthly moderation meeting.",
                    now,
                )
            )
            agreed.append([(item, (g1[item.code] + g2[item.code]) // 2) for item in differ])
        moderation_ids = insert_rows_with_ids(
            Moderation, ["referral", "moderator", "agreed_overall_grade", "note", "created_at"], moderations
        )
        insert_rows(
            ModerationGrade,
            ["moderation", "item", "grade"],
            (
                (moderation_id, item.pk, grade)
                for moderation_id, grades in zip(moderation_ids, agreed, strict=True)
                for item, grade in grades
            ),
        )
        n_second = sum(1 for a in planned if a.is_second)
        self.counts.update(
            referrals=len(referrals),
            rereferrals=sum(1 for flag in flags.values() if flag),
            audits=len(planned) - n_second,
            seconds=n_second,
            moderations=len(moderations),
        )

    def finish(self, *, rng: random.Random) -> str:
        """Run the audit schedule once, so managers have audits due; returns the summary line."""
        scheduled = schedule_audits(seed=rng.randrange(2**31), today=self.today)
        counts = self.counts
        return (
            f"Added {counts['referrals']} referrals ({counts['rereferrals']} re-referrals), "
            f"{counts['audits']} audits, {counts['seconds']} blind second audits, "
            f"{counts['moderations']} moderations and {scheduled.total} audits due."
        )


def seed_practice(*, demo: DemoTraining, rng: random.Random) -> str:
    """One partnership's referrals, audits and moderations, then the schedule (``PracticeSeeder``);
    returns the summary line."""
    seeder = PracticeSeeder(demo=demo, rng=rng)
    seeder.add(demo=demo, rng=rng)
    return seeder.finish(rng=rng)
