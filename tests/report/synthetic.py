"""Impact-report frames generated with known effects, for testing the assembly without a database."""

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from analysis.impact import ImpactFrames

START = dt.date(2024, 1, 1)


def make_frames(
    *,
    seed: int = 1,
    n_staff: int = 300,
    practice_effect: float = 8.0,
    knowledge_gain: float = 20.0,
    retained: float = 0.5,
) -> ImpactFrames:
    """Staff trained on course 1 (true effect ``practice_effect`` points on the audit score from the
    quarter after training) or course 2 (no effect), at staggered times; the rest never trained."""
    rng = np.random.default_rng(seed)
    staff = np.arange(1, n_staff + 1)
    team = staff % 10
    ability = rng.normal(0, 8, n_staff)
    # A third never trained; the rest trained on a random day in months 3-20.
    trained = rng.random(n_staff) < 0.67
    course = np.where(rng.random(n_staff) < 0.6, 1, 2)
    train_day = rng.integers(90, 600, n_staff)
    training = pd.DataFrame(
        {
            "staff": staff[trained],
            "course": course[trained],
            "first_trained": [START + dt.timedelta(days=int(d)) for d in train_day[trained]],
        }
    )
    audits, criteria, referrals = [], [], []
    audit_id = referral_id = 0
    for i, person in enumerate(staff):
        for day in sorted(rng.integers(0, 730, 10)):
            referral_id += 1
            made_on = START + dt.timedelta(days=int(day))
            after = trained[i] and course[i] == 1 and day >= train_day[i] + 30
            score = float(
                np.clip(55 + ability[i] + (practice_effect if after else 0) + rng.normal(0, 10), 0, 100)
            )
            outcome = rng.choice(["accepted", "nfa", "other"], p=[0.5, 0.3, 0.2])
            referrals.append((referral_id, person, made_on, outcome, bool(rng.random() < 0.1)))
            for second in (False, True):
                if second and rng.random() > 0.15:
                    continue
                audit_id += 1
                noisy = float(np.clip(score + (rng.normal(0, 4) if second else 0), 0, 100))
                audits.append(
                    (audit_id, referral_id, person, team[i], 100 + int(second), made_on, noisy, second)
                )
                for c in range(1, 4):
                    grade = int(np.clip(round(1 + noisy / 100 * 3 + rng.normal(0, 0.3)), 1, 4))
                    criteria.append((audit_id, f"c{c}", f"Criterion {c}", grade))
    scores, items = [], []
    response = 0
    for person in staff[trained]:
        base = rng.normal(55, 12)
        for phase, offset, shift in (
            ("pre", 0, 0.0),
            ("post", 0, knowledge_gain),
            ("follow_up", 91, knowledge_gain * retained),
        ):
            if rng.random() < 0.15:
                continue
            response += 1
            value = float(np.clip(base + shift + rng.normal(0, 8), 0, 100))
            scores.append((person, 1, 1, phase, offset, "knowledge", "knowledge", value))
            scores.append(
                (
                    person,
                    1,
                    1,
                    phase,
                    offset,
                    "confidence",
                    "confidence",
                    float(np.clip(5 + shift / 10 + rng.normal(0, 1), 0, 10)),
                )
            )
            scores.append(
                (
                    person,
                    1,
                    1,
                    phase,
                    offset,
                    "attitudes",
                    "attitudes",
                    float(np.clip(3.5 + shift / 100 + rng.normal(0, 0.5), 1, 5)),
                )
            )
            if phase == "post":
                scores.append((person, 1, 1, phase, offset, "reaction", "reaction", float(rng.uniform(3, 5))))
                scores.append(
                    (person, 1, 1, phase, offset, "intention", "intention", float(rng.uniform(2, 5)))
                )
            for k in range(6):
                items.append((response, "knowledge", f"k{k}", float(rng.random() < value / 100), phase))
    frames = ImpactFrames(
        scores=pd.DataFrame(
            scores,
            columns=["person", "session", "course", "phase", "offset_days", "construct", "scale", "score"],
        ),
        item_scores=pd.DataFrame(items, columns=["response", "construct", "item", "value", "phase"]),
        invitations=pd.DataFrame(
            [("pre", 0, 200, 170), ("post", 0, 200, 160), ("follow_up", 91, 200, 120)],
            columns=["phase", "offset_days", "invited", "answered"],
        ),
        audits=pd.DataFrame(
            audits, columns=["audit", "referral", "staff", "team", "auditor", "made_on", "score", "is_second"]
        ),
        criteria=pd.DataFrame(criteria, columns=["audit", "criterion", "label", "grade"]),
        training=training,
        referrals=pd.DataFrame(
            referrals, columns=["referral", "staff", "made_on", "outcome_group", "is_rereferral"]
        ),
        courses=pd.DataFrame(
            [(1, "Exploitation course", "face_to_face"), (2, "Other course", "e_learning")],
            columns=["course", "title", "delivery_mode"],
        ),
    )
    return frames


def replace(frames: ImpactFrames, **changes) -> ImpactFrames:
    """A copy of ``frames`` with some frames (or fields) replaced."""
    return dataclasses.replace(frames, **changes)


def make_chain_frames(
    *, n_people: int, link: float = 0.0, seed: int = 1, anonymous: bool = False, courses: int = 1
) -> ImpactFrames:
    """People trained a year in, each with a knowledge gain and eight audits (four before, four
    after). Their change in audit score is ``link`` points per point of knowledge gain above the
    average gain, plus noise: ``link=0`` builds no link at all. With ``courses=2`` people are
    split between two courses, each person's questionnaire and training on their own course."""
    rng = np.random.default_rng(seed)
    trained_on = START + dt.timedelta(days=365)
    scores, audits, training = [], [], []
    audit_id = 0
    for person in range(1, n_people + 1):
        course = 1 + (person % courses)
        gain = rng.normal(20, 8)
        pre = rng.normal(55, 10)
        for phase, value in (("pre", pre), ("post", pre + gain)):
            scores.append((person, course, course, phase, 0, "knowledge", "knowledge", value, anonymous))
        training.append((person, course, trained_on))
        shift = link * (gain - 20) + rng.normal(0, 3)
        for k in range(8):
            after = k >= 4
            audit_id += 1
            made_on = trained_on + dt.timedelta(days=(k - 4) * 80 + 20)
            score = 55 + (shift if after else 0) + rng.normal(0, 3)
            audits.append((audit_id, audit_id, person, 1, 100, made_on, float(score), False))
    return ImpactFrames(
        scores=pd.DataFrame(
            scores,
            columns=[
                "person",
                "session",
                "course",
                "phase",
                "offset_days",
                "construct",
                "scale",
                "score",
                "anonymous",
            ],
        ),
        item_scores=pd.DataFrame(columns=["response", "construct", "item", "value", "phase"]),
        invitations=pd.DataFrame(columns=["phase", "offset_days", "invited", "answered"]),
        audits=pd.DataFrame(
            audits, columns=["audit", "referral", "staff", "team", "auditor", "made_on", "score", "is_second"]
        ),
        criteria=pd.DataFrame(columns=["audit", "criterion", "label", "grade"]),
        training=pd.DataFrame(training, columns=["staff", "course", "first_trained"]),
        referrals=pd.DataFrame(columns=["referral", "staff", "made_on", "outcome_group", "is_rereferral"]),
        courses=pd.DataFrame(
            [(1, "Exploitation course", "face_to_face"), (2, "Other course", "e_learning")][:courses],
            columns=["course", "title", "delivery_mode"],
        ),
    )
