"""Small report data in the database with everything known: who was trained when, and every audit.

For tests that must go through the page, the API and the exports. Rows are bulk-inserted (as the
demo seed does) so a scenario of a few hundred audits takes well under a second.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.utils import timezone

from practice.grading import criterion_grades_string, grade_from_mean, rubric_items, score_from_mean
from practice.hashing import case_reference_hash
from practice.models import Audit, AuditStatus, Referral
from practice.services import rubric_current
from surveys.models import Answer, ItemKind, Response
from tests.factories import AttendanceFactory, CourseFactory, StaffMemberFactory, TrainingSessionFactory
from training.models import StaffMember, TrainingSession

START = dt.date(2024, 1, 1)


def aware(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@dataclass
class Scenario:
    trained: list[StaffMember]
    untrained: list[StaffMember]
    session: TrainingSession
    referrals: list[Referral]


def train(staff: list[StaffMember], *, course, on: dt.date) -> TrainingSession:
    session = TrainingSessionFactory(course=course, start=aware(on), end=aware(on, 15))
    for person in staff:
        AttendanceFactory(session=session, staff=person)
    return session


def audited_referrals(
    staff: list[StaffMember],
    *,
    auditor,
    trained_on: dict[int, dt.date],
    effect: float = 0.5,
    months: int = 24,
    per_quarter: int = 2,
    start: dt.date = START,
    seed: int = 1,
) -> list[Referral]:
    """Referrals every quarter for each person, each with a submitted first audit. A referral made
    after its author's training date has every criterion's latent grade raised by ``effect``."""
    rng = random.Random(seed)
    version = rubric_current()
    criteria = rubric_items(version)
    referrals, grades = [], []
    for person in staff:
        ability = rng.gauss(0, 0.3)
        for quarter in range(months // 3):
            for k in range(per_quarter):
                made_on = start + dt.timedelta(days=quarter * 91 + 10 + k * 30)
                after = person.pk in trained_on and made_on >= trained_on[person.pk]
                latent = 2.5 + ability + (effect if after else 0.0) + rng.gauss(0, 0.3)
                marks = [min(4, max(1, round(latent + rng.gauss(0, 0.4)))) for _ in criteria]
                referrals.append(
                    Referral(
                        staff=person,
                        made_on=made_on,
                        route="front_door",
                        concerns=["neglect"],
                        outcome=rng.choice(["accepted", "nfa", "early_help"]),
                        outcome_on=made_on + dt.timedelta(days=5),
                        case_hash=case_reference_hash(f"SC{len(referrals):06d}"),
                    )
                )
                grades.append(marks)
    referrals = Referral.objects.bulk_create(referrals)
    responses = Response.objects.bulk_create(
        Response(version=version, submitted_at=aware(r.made_on + dt.timedelta(days=21))) for r in referrals
    )
    audits, answers = [], []
    for referral, response, marks in zip(referrals, responses, grades, strict=True):
        mean = sum(marks) / len(marks)
        audits.append(
            Audit(
                referral=referral,
                auditor=auditor,
                version=version,
                response=response,
                status=AuditStatus.SUBMITTED,
                overall_grade=grade_from_mean(mean),
                score_0_100=score_from_mean(mean),
                submitted_at=response.submitted_at,
                criterion_grades=criterion_grades_string(
                    criteria, {item.code: mark for item, mark in zip(criteria, marks, strict=True)}
                ),
            )
        )
        answers += [
            Answer(response=response, item=item, value=str(mark))
            for item, mark in zip(criteria, marks, strict=True)
        ]
    Audit.objects.bulk_create(audits)
    Answer.objects.bulk_create(answers)
    return referrals


def practice_scenario(
    *, team, manager, n_trained: int, n_untrained: int, course=None, trained_on: dt.date = dt.date(2025, 1, 6)
) -> Scenario:
    """One team: ``n_trained`` staff trained on ``course`` on ``trained_on`` (a year into two years
    of referrals), the rest never trained; everyone has eight audited referrals a year."""
    course = course or CourseFactory(title="Exploitation basics")
    staff = [StaffMemberFactory(team=team) for _ in range(n_trained + n_untrained)]
    trained, untrained = staff[:n_trained], staff[n_trained:]
    session = train(trained, course=course, on=trained_on)
    referrals = audited_referrals(staff, auditor=manager, trained_on={p.pk: trained_on for p in trained})
    return Scenario(trained, untrained, session, referrals)


ANSWERS_BY_KIND = {
    ItemKind.LIKERT_5: "4",
    ItemKind.LIKERT_7: "5",
    ItemKind.CONFIDENCE_0_10: "7",
}


def answer_questionnaires(
    session: TrainingSession, *, by, phases=("pre", "post"), anonymous: bool = False, minutes_in: int = 60
) -> None:
    """Attach the default questionnaire to ``session`` and have every attendee answer each phase,
    through the services a trainee's answers go through, an hour after each window opens (and
    dated then: the service would date them today)."""
    from surveys.models import Instrument
    from surveys.services import (
        administrations_attach,
        invitation_respond,
        invitations_create,
        items_for_phase,
    )

    instrument = Instrument.objects.get(slug="cse-default")
    for administration in administrations_attach(
        session=session, instrument=instrument, by=by, follow_up_offsets=[], anonymous=anonymous
    ):
        if administration.phase not in phases:
            continue
        invitations_create(administration=administration)
        items = items_for_phase(version=administration.version, phase=administration.phase)
        values = {
            item.code: item.correct_answer or ANSWERS_BY_KIND[item.kind]
            for item in items
            if item.kind != ItemKind.FREE_TEXT
        }
        moment = administration.opens_at + dt.timedelta(minutes=minutes_in)
        for invitation in administration.invitations.select_related("administration"):
            response = invitation_respond(invitation=invitation, values=values, now=moment)
            # The service stamps the real time of submission; these answers were given back then.
            Response.objects.filter(pk=response.pk).update(submitted_at=moment)
