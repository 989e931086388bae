"""A small world for authorization tests: one object of each kind in scope of the signed-in roles
("ours": the council's Assessment North team, the trainer's course) and the same kinds in another
organisation of another partnership ("theirs"), so every role meets objects it may and may not see.

Roles, by key:

- ``anonymous``: nobody signed in;
- ``trainee``: holds a questionnaire link token and nothing else (no account);
- ``trainer``: owns the course and delivers its session;
- ``manager``: manages Assessment North, where the referrals and audits are;
- ``manager_other_team``: manages Assessment South in the same council;
- ``lead``: the council's workforce lead (not partnership-wide);
- ``lead_other_org``: the workforce lead of an organisation in another partnership;
- ``admin``: an administrator who has passed the authenticator step.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.core import mail
from django.utils import timezone

from practice import services as practice_services
from practice.models import AuditAssignment, AuditReason
from surveys import services as survey_services
from surveys.models import Instrument, InstrumentKind, Phase
from tests.factories import (
    AttendanceFactory,
    CourseFactory,
    OrganisationFactory,
    PartnershipFactory,
    ReferralFactory,
    StaffMemberFactory,
    TeamFactory,
    TrainingSessionFactory,
    UserFactory,
)
from training.models import Role

ROLES = (
    "anonymous",
    "trainee",
    "trainer",
    "manager",
    "manager_other_team",
    "lead",
    "lead_other_org",
    "admin",
)

CODES = [
    "reason_clear",
    "exploitation_indicators",
    "risk_analysed",
    "child_voice",
    "history_siblings",
    "consent",
    "fact_opinion",
    "levels_of_need",
    "timely",
    "desired_outcome",
    "multi_agency",
]


def grades(grade: str = "3", **overrides) -> dict[str, str]:
    return {code: overrides.get(code, grade) for code in CODES}


@dataclass
class World:
    users: dict = field(default_factory=dict)
    token: str = ""
    # Objects in the signed-in roles' scope ("ours") and in the other organisation ("theirs").
    organisation: object = None
    team: object = None
    staff: object = None
    course: object = None
    session: object = None
    attendance: object = None
    instrument: object = None
    item_code: str = ""
    administration: object = None
    referral: object = None
    audit: object = None
    moderated_referral: object = None
    assignment: object = None
    rubric: object = None
    theirs: dict = field(default_factory=dict)


def _token_from_outbox() -> str:
    return re.search(r"/q/([A-Za-z0-9_-]+)/", mail.outbox[-1].body).group(1)


def build_world() -> World:
    w = World()
    partnership = PartnershipFactory(name="Northbridge", slug="northbridge")
    council = OrganisationFactory(name="Council", slug="council", partnership=partnership)
    elsewhere = OrganisationFactory(name="Elsewhere Council", slug="elsewhere")

    manager = UserFactory(username="manager", role=Role.MANAGER, organisation=council)
    manager_south = UserFactory(username="manager2", role=Role.MANAGER, organisation=council)
    manager_east = UserFactory(username="manager3", role=Role.MANAGER, organisation=council)
    manager_far = UserFactory(username="farmanager", role=Role.MANAGER, organisation=elsewhere)
    trainer = UserFactory(username="trainer", role=Role.TRAINER, organisation=council)
    trainer_far = UserFactory(username="fartrainer", role=Role.TRAINER, organisation=elsewhere)
    lead = UserFactory(username="lead", role=Role.WORKFORCE_LEAD, organisation=council)
    lead_far = UserFactory(username="farlead", role=Role.WORKFORCE_LEAD, organisation=elsewhere)
    admin = UserFactory(
        username="admin", role=Role.ADMINISTRATOR, organisation=council, is_staff=True, is_superuser=True
    )
    w.users = {
        "trainer": trainer,
        "manager": manager,
        "manager_other_team": manager_south,
        "lead": lead,
        "lead_other_org": lead_far,
        "admin": admin,
    }

    north = TeamFactory(organisation=council, name="Assessment North", slug="north", managers=[manager])
    south = TeamFactory(organisation=council, name="Assessment South", slug="south", managers=[manager_south])
    TeamFactory(organisation=council, name="Assessment East", slug="east", managers=[manager_east])
    far_team = TeamFactory(organisation=elsewhere, name="Far Team", slug="far", managers=[manager_far])

    ours = StaffMemberFactory(team=north, name="Alex Ours", work_email="alex@council.example")
    StaffMemberFactory(team=south, name="Blake Theirs", work_email="blake@council.example")
    far_staff = StaffMemberFactory(team=far_team, name="Casey Far", work_email="casey@far.example")

    start = timezone.now() - dt.timedelta(days=2)
    course = CourseFactory(owner=trainer, title="Exploitation", slug="cse-course")
    session = TrainingSessionFactory(course=course, start=start, end=start + dt.timedelta(hours=6))
    attendance = AttendanceFactory(session=session, staff=ours)
    far_course = CourseFactory(owner=trainer_far, title="Far course", slug="far-course")
    far_session = TrainingSessionFactory(course=far_course, start=start, end=start + dt.timedelta(hours=6))
    far_attendance = AttendanceFactory(session=far_session, staff=far_staff)

    default = Instrument.objects.get(slug="cse-default")
    instrument = survey_services.instrument_copy(instrument=default, owner=trainer, name="Trainer copy")
    far_instrument = survey_services.instrument_copy(instrument=default, owner=trainer_far, name="Far copy")
    administrations = survey_services.administrations_attach(
        session=session, instrument=instrument, by=trainer, follow_up_offsets=[42]
    )
    post = next(a for a in administrations if a.phase == Phase.POST)
    survey_services.invitations_send(administration=post)
    w.token = _token_from_outbox()
    far_administrations = survey_services.administrations_attach(
        session=far_session, instrument=far_instrument, by=trainer_far, follow_up_offsets=[42]
    )

    referral = ReferralFactory(staff=ours, case_reference="NB900001")
    audit = practice_services.audit_start(referral=referral, by=manager)
    audit = practice_services.audit_save(
        audit=audit, by=manager, grades=grades("3"), evidence={}, revision=audit.revision, submit=True
    )
    # A double-audited referral whose auditors disagree, for the moderation pages. The second
    # auditor manages a third team, so ``manager_other_team`` stays out of it.
    moderated = ReferralFactory(staff=ours, case_reference="NB900002")
    first = practice_services.audit_start(referral=moderated, by=manager)
    practice_services.audit_save(
        audit=first, by=manager, grades=grades("3"), evidence={}, revision=1, submit=True
    )
    practice_services.second_audit_assign(referral=moderated, by=manager, manager=manager_east)
    second = practice_services.audit_start(referral=moderated, by=manager_east, second=True)
    practice_services.audit_save(
        audit=second, by=manager_east, grades=grades("3", timely="1"), evidence={}, revision=1, submit=True
    )
    assignment = AuditAssignment.objects.create(
        referral=referral, reason=AuditReason.BASELINE, due_on=timezone.localdate(), assigned_manager=manager
    )

    far_referral = ReferralFactory(staff=far_staff, case_reference="FAR900001")
    far_audit = practice_services.audit_start(referral=far_referral, by=manager_far)
    far_assignment = AuditAssignment.objects.create(
        referral=far_referral,
        reason=AuditReason.BASELINE,
        due_on=timezone.localdate(),
        assigned_manager=manager_far,
    )

    w.organisation, w.team, w.staff = council, north, ours
    w.course, w.session, w.attendance = course, session, attendance
    w.instrument, w.item_code = instrument, "k_boys"
    w.administration = post
    w.referral, w.audit, w.moderated_referral, w.assignment = referral, audit, moderated, assignment
    w.rubric = Instrument.objects.filter(kind=InstrumentKind.AUDIT_RUBRIC).first()
    w.theirs = {
        "organisation": elsewhere,
        "team": far_team,
        "staff": far_staff,
        "course": far_course,
        "session": far_session,
        "attendance": far_attendance,
        "instrument": far_instrument,
        "administration": far_administrations[0],
        "referral": far_referral,
        "audit": far_audit,
        "assignment": far_assignment,
    }
    return w
