"""The fictional Northbridge safeguarding partnership used by ``seed_demo``.

Everything here is invented: the places, the organisations and the people. Generation is
driven by one ``random.Random`` so a seed always gives the same partnership, and it writes
with bulk inserts so that larger scales stay quick. The larger scales have many partnerships,
generated and written one at a time (``seed_training`` per partnership), so memory stays the
size of one partnership's data.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.text import slugify

from training.bulk import insert_rows
from training.mfa import totp_enrol_with_secret
from training.models import (
    Attendance,
    AttendanceStatus,
    Course,
    DeliveryMode,
    Organisation,
    Partnership,
    Profession,
    Role,
    StaffMember,
    Team,
    Topic,
    TrainingSession,
    User,
)
from training.totp import from_base32

DEMO_PASSWORD = "closing-the-loop-demo"  # noqa: S105 - published in the README  # nosec B105
DEMO_PARTNERSHIP_SLUG = "northbridge"
# Northbridge's slug until every partnership is written: the national scale commits one partnership
# at a time, and an interrupted run must not look loaded.
DEMO_LOADING_SLUG = "northbridge-loading"
# The demo administrator's authenticator secret, published in the README so that a newcomer can
# add it to an authenticator app (or run `python manage.py totp_code admin` in DEBUG).
DEMO_ADMIN_TOTP_SECRET = "CLOSINGTHELOOPDEMOADMINTOTP23456"  # noqa: S105 - published, demo only  # nosec B105

FIRST_NAMES = (
    "Aisha",
    "Amara",
    "Amelia",
    "Anna",
    "Ben",
    "Callum",
    "Chloe",
    "Connor",
    "Daniel",
    "Deborah",
    "Declan",
    "Eleanor",
    "Emma",
    "Ethan",
    "Fatima",
    "Grace",
    "Hannah",
    "Harry",
    "Imran",
    "Isla",
    "Jack",
    "James",
    "Jasmine",
    "Joanne",
    "Kate",
    "Kieran",
    "Laura",
    "Leah",
    "Liam",
    "Lucy",
    "Mark",
    "Marcus",
    "Maya",
    "Megan",
    "Mohammed",
    "Nadia",
    "Nathan",
    "Niamh",
    "Oliver",
    "Olivia",
    "Omar",
    "Patrick",
    "Priya",
    "Rachel",
    "Rebecca",
    "Rhys",
    "Ruth",
    "Ryan",
    "Samina",
    "Sarah",
    "Sean",
    "Sophie",
    "Stephen",
    "Tariq",
    "Thomas",
    "Yusuf",
    "Zara",
    "Zoe",
)
LAST_NAMES = (
    "Ahmed",
    "Ali",
    "Allen",
    "Atkinson",
    "Bailey",
    "Baker",
    "Begum",
    "Bennett",
    "Brown",
    "Carter",
    "Clarke",
    "Cooper",
    "Davies",
    "Edwards",
    "Evans",
    "Fletcher",
    "Green",
    "Hall",
    "Harris",
    "Hill",
    "Hughes",
    "Hussain",
    "Jackson",
    "James",
    "Johnson",
    "Jones",
    "Kaur",
    "Khan",
    "King",
    "Lewis",
    "Martin",
    "Mitchell",
    "Moore",
    "Morgan",
    "Murphy",
    "Nowak",
    "O'Brien",
    "Owen",
    "Palmer",
    "Patel",
    "Phillips",
    "Price",
    "Roberts",
    "Robinson",
    "Shah",
    "Singh",
    "Smith",
    "Taylor",
    "Thomas",
    "Thompson",
    "Turner",
    "Walker",
    "Ward",
    "Watson",
    "White",
    "Williams",
    "Wilson",
    "Wood",
    "Wright",
    "Young",
)


@dataclass(frozen=True)
class TeamSpec:
    name: str
    professions: tuple[str, ...]
    size: int


@dataclass(frozen=True)
class OrganisationSpec:
    slug: str
    name: str
    kind: str
    domain: str
    teams: tuple[TeamSpec, ...]


P = Profession
ORGANISATIONS = (
    OrganisationSpec(
        "northbridge-council",
        "Northbridge Council Children's Services",
        Organisation.Kind.CHILDRENS_SERVICES,
        "northbridge-council.example",
        (
            TeamSpec("Front Door and MASH", (P.SOCIAL_WORKER,), 18),
            TeamSpec("Assessment Team North", (P.SOCIAL_WORKER,), 16),
            TeamSpec("Assessment Team South", (P.SOCIAL_WORKER,), 16),
            TeamSpec("Child Protection East", (P.SOCIAL_WORKER,), 15),
            TeamSpec("Child Protection West", (P.SOCIAL_WORKER,), 15),
            TeamSpec("Exploitation and Missing Team", (P.SOCIAL_WORKER, P.YOUTH_WORKER), 10),
            TeamSpec("Early Help North", (P.FAMILY_SUPPORT,), 14),
            TeamSpec("Early Help South", (P.FAMILY_SUPPORT,), 14),
        ),
    ),
    OrganisationSpec(
        "northbridge-police",
        "Northbridge Police",
        Organisation.Kind.POLICE,
        "northbridge-police.example",
        (
            TeamSpec("Public Protection Unit", (P.POLICE,), 16),
            TeamSpec("Neighbourhood Policing North", (P.POLICE,), 14),
            TeamSpec("Neighbourhood Policing South", (P.POLICE,), 14),
        ),
    ),
    OrganisationSpec(
        "northbridge-health",
        "Northbridge Health NHS Trust",
        Organisation.Kind.HEALTH,
        "northbridge-health.example",
        (
            TeamSpec("Health Visiting", (P.HEALTH_VISITOR,), 14),
            TeamSpec("School Nursing", (P.HEALTH_VISITOR, P.NURSE), 12),
            TeamSpec("Emergency Department Safeguarding", (P.NURSE, P.DOCTOR), 12),
        ),
    ),
    OrganisationSpec(
        "northbridge-youth-trust",
        "Northbridge Youth Trust",
        Organisation.Kind.VOLUNTARY,
        "northbridge-youth-trust.example",
        (
            TeamSpec("Youth Outreach", (P.YOUTH_WORKER,), 12),
            TeamSpec("Detached Youth Work", (P.YOUTH_WORKER,), 10),
        ),
    ),
)


@dataclass(frozen=True)
class CourseSpec:
    slug: str
    title: str
    topic: str
    mode: str
    hours: str
    outcomes: str
    professions: tuple[str, ...]
    sessions_per_year: int
    uptake: float  # share of the target workforce who attend over the 18 months


COURSES = (
    CourseSpec(
        "cse-recognise-respond-refer",
        "Child sexual exploitation: recognise, respond, refer",
        Topic.CSE,
        DeliveryMode.FACE_TO_FACE,
        "6.0",
        "Recognise the indicators of sexual exploitation, including online and in boys and young men.\n"
        "Talk with children without blame and record their own words.\n"
        "Make a referral that states the concern, the risk and what you want to happen.\n"
        "Escalate when a referral is not accepted.",
        (),
        8,
        0.6,
    ),
    CourseSpec(
        "good-referrals-front-door",
        "Making good referrals to the front door",
        Topic.REFERRALS,
        DeliveryMode.LIVE_ONLINE,
        "3.0",
        "Use the levels-of-need guidance.\nSeparate fact from opinion.\nShare multi-agency information.",
        (),
        6,
        0.35,
    ),
    CourseSpec(
        "cce-county-lines",
        "Child criminal exploitation and county lines",
        Topic.CRIMINAL_EXPLOITATION,
        DeliveryMode.BLENDED,
        "4.5",
        "Recognise criminal exploitation and county lines.\nUse the National Referral Mechanism.",
        (P.SOCIAL_WORKER, P.POLICE, P.YOUTH_WORKER),
        4,
        0.3,
    ),
    CourseSpec(
        "neglect-graded-care",
        "Neglect: assessing with a graded care tool",
        Topic.NEGLECT,
        DeliveryMode.FACE_TO_FACE,
        "6.0",
        "Assess neglect consistently.\nRecord the child's daily lived experience.",
        (P.SOCIAL_WORKER, P.FAMILY_SUPPORT, P.HEALTH_VISITOR),
        4,
        0.25,
    ),
    CourseSpec(
        "online-harm-frontline",
        "Online harm for frontline staff",
        Topic.ONLINE_HARM,
        DeliveryMode.E_LEARNING,
        "1.5",
        "Recognise online grooming and image-based abuse.",
        (),
        6,
        0.3,
    ),
)

DEMO_ACCOUNTS = (
    # username, first, last, role, organisation slug, extra
    ("trainer", "Priya", "Shah", Role.TRAINER, "northbridge-council", {}),
    ("trainer2", "Owen", "Price", Role.TRAINER, "northbridge-police", {}),
    ("manager", "Ruth", "Bennett", Role.MANAGER, "northbridge-council", {"team": "Assessment Team North"}),
    ("manager2", "Marcus", "Hughes", Role.MANAGER, "northbridge-council", {"team": "Assessment Team South"}),
    ("lead", "Deborah", "Clarke", Role.WORKFORCE_LEAD, "northbridge-council", {"sees_partnership": True}),
    ("admin", "Sam", "Admin", Role.ADMINISTRATOR, "northbridge-council", {}),
)


@dataclass(frozen=True)
class DemoScale:
    """How big a demo to generate: the same generators, scaled by these parameters.

    ``demo`` is the small partnership the README describes (its output never changes); ``la`` is a
    whole local authority's partnership and ``national`` many partnerships, for ``benchmarks/``.
    Everything but ``partnerships`` is per partnership: each has its own teams, staff and diary of
    sessions (of the shared courses), and ``seed_demo`` writes and commits one partnership at a time.
    """

    name: str
    partnerships: int = 1  # copies of the partnership's four organisations (the first is Northbridge)
    team_copies: int = 1  # copies of each team in an organisation
    staff_per_team: float = 1.0  # multiplier on each team's size
    sessions: float = 1.0  # multiplier on each course's sessions per year, in each partnership
    uptake: float = 1.0  # multiplier on each course's uptake (capped at 0.95)
    refresher_share: float = 0.0  # chance that someone trained attends another session of the course
    questionnaire_courses: tuple[str, ...] | None = None  # None: the CSE and referrals courses
    follow_ups: tuple[int, ...] = (42, 91)
    referral_rate: float = 1.0  # multiplier on referrals per person per quarter
    audit_share: float = 0.35  # share of referrals (three weeks old or more) that are audited
    # Share of organisations (of all partnerships') whose questionnaire and audit item answers are
    # stored; scale scores are stored for every response whatever this is.
    answers_share: float = 1.0


ALL_COURSES = tuple(spec.slug for spec in COURSES)
SCALES = {
    "demo": DemoScale("demo"),
    # About 2,000 staff, 300 sessions, 25,000 questionnaire responses, 40,000 referrals, 20,000 audits.
    "la": DemoScale(
        "la",
        team_copies=6,
        staff_per_team=1.5,
        sessions=6.4,
        uptake=3.0,
        refresher_share=0.6,
        questionnaire_courses=ALL_COURSES,
        follow_ups=(42, 91, 182),
        referral_rate=1.08,
        audit_share=0.5,
    ),
    # 38 partnerships of 4 organisations, each twice la's workforce (4,000 staff in 160 teams) with
    # la's training per person and la's attendees per session (600 sessions): about 150,000 staff,
    # 2 million questionnaire responses, 1.4 million referrals and 600,000 audits; item answers for
    # the first 5% of organisations (8, in Northbridge and Area 2), scale scores for all.
    "national": DemoScale(
        "national",
        partnerships=38,
        team_copies=10,
        staff_per_team=1.8,
        sessions=12.8,
        uptake=3.0,
        refresher_share=0.6,
        questionnaire_courses=ALL_COURSES,
        follow_ups=(42, 91, 182),
        referral_rate=0.5,
        audit_share=0.4,
        answers_share=0.05,
    ),
}


def _area(k: int) -> str:
    """The place name of the k-th partnership: Northbridge, then fictional numbered areas."""
    return "Northbridge" if k == 0 else f"Area {k + 1}"


@dataclass
class DemoTraining:
    """One partnership's training records, handed on to the later seeders (questionnaires, audits).

    ``courses`` and ``accounts`` (the demo sign-ins, in Northbridge) are shared by every
    partnership; ``areas`` is every partnership with its organisations, all created with the first."""

    today: dt.date
    partnership: Partnership
    organisations: list[Organisation]
    teams: list[Team]
    staff: list[StaffMember]
    courses: dict[str, Course]
    sessions: list[TrainingSession]
    accounts: dict[str, User] = field(default_factory=dict)
    scale: DemoScale = SCALES["demo"]
    index: int = 0  # which partnership: 0 is Northbridge
    areas: list[tuple[Partnership, list[Organisation]]] = field(default_factory=list)

    @property
    def area(self) -> str:
        return _area(self.index)

    def answers_kept(self) -> set[int]:
        """The organisations whose item answers are stored: the first ``scale.answers_share`` of
        all partnerships' organisations by id (at least one)."""
        ids = sorted(org.pk for _, organisations in self.areas for org in organisations)
        return set(ids[: max(1, round(len(ids) * self.scale.answers_share))])


def _aware(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _accounts(organisations: dict[str, Organisation], teams: dict[str, Team]) -> dict[str, User]:
    accounts = {}
    for username, first, last, role, org_slug, extra in DEMO_ACCOUNTS:
        user = User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@northbridge-council.example",
            role=role,
            organisation=organisations[org_slug],
            sees_partnership=extra.get("sees_partnership", False),
            is_staff=role == Role.ADMINISTRATOR,
            is_superuser=role == Role.ADMINISTRATOR,
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        if role == Role.ADMINISTRATOR:
            totp_enrol_with_secret(user=user, secret=from_base32(DEMO_ADMIN_TOTP_SECRET))
        if "team" in extra:
            teams[extra["team"]].managers.add(user)
        accounts[username] = user
    return accounts


def _areas(scale: DemoScale) -> list[tuple[Partnership, list[Organisation]]]:
    """Every partnership and its organisations (Northbridge's keep the demo's slugs)."""
    # Northbridge is marked as still loading until seed_demo has written every partnership.
    partnership = Partnership.objects.create(
        name="Northbridge Safeguarding Children Partnership", slug=DEMO_LOADING_SLUG
    )
    others = Partnership.objects.bulk_create(
        Partnership(name=f"{_area(k)} Safeguarding Children Partnership", slug=slugify(_area(k)))
        for k in range(1, scale.partnerships)
    )
    return [
        (
            area_partnership,
            [
                Organisation.objects.create(
                    name=spec.name.replace("Northbridge", _area(k)),
                    slug=spec.slug if k == 0 else spec.slug.replace("northbridge", slugify(_area(k))),
                    kind=spec.kind,
                    partnership=area_partnership,
                )
                for spec in ORGANISATIONS
            ],
        )
        for k, area_partnership in enumerate([partnership, *others])
    ]


def _courses(organisation: Organisation, accounts: dict[str, User]) -> dict[str, Course]:
    police_led = {"cce-county-lines"}  # the police trainer owns this one; "trainer" is assigned to all
    courses: dict[str, Course] = {}
    for spec in COURSES:
        course = Course.objects.create(
            slug=spec.slug,
            title=spec.title,
            topic=spec.topic,
            delivery_mode=spec.mode,
            duration_hours=Decimal(spec.hours),
            learning_outcomes=spec.outcomes,
            target_professions=list(spec.professions),
            organisation=organisation,
            owner=accounts["trainer2"] if spec.slug in police_led else accounts["trainer"],
        )
        course.trainers.add(accounts["trainer"])
        courses[spec.slug] = course
    return courses


def seed_training(
    *,
    rng: random.Random,
    today: dt.date,
    scale: DemoScale = SCALES["demo"],
    index: int = 0,
    first: DemoTraining | None = None,
) -> DemoTraining:
    """Create one partnership's teams, staff, 18 months of sessions and attendance.

    The first (``index`` 0, Northbridge) also creates every partnership and organisation, the demo
    sign-ins and the courses; later ones share those, passed in as ``first`` (the first's records).
    """
    areas = first.areas if first else _areas(scale)
    partnership, area_organisations = areas[index]
    area, area_slug = _area(index), slugify(_area(index))
    organisations = dict(zip((spec.slug for spec in ORGANISATIONS), area_organisations, strict=True))
    # (team name, copy) -> team; the demo's own teams keep their names.
    team_by: dict[tuple[str, int], Team] = {}
    for spec in ORGANISATIONS:
        for copy in range(scale.team_copies):
            for team_spec in spec.teams:
                name = team_spec.name if copy == 0 else f"{team_spec.name} {copy + 1}"
                slug = slugify(name if index == 0 else f"{area} {name}")
                team_by[team_spec.name, copy] = Team(
                    organisation=organisations[spec.slug], name=name, slug=slug
                )
    Team.objects.bulk_create(list(team_by.values()), batch_size=2000)
    if first is None:
        accounts = _accounts(
            organisations, {name: team for (name, copy), team in team_by.items() if copy == 0}
        )
    else:
        accounts = first.accounts

    staff: list[StaffMember] = []
    used_emails: set[str] = set()  # addresses are unique within a partnership: its domains are its own
    for spec in ORGANISATIONS:
        domain = spec.domain if index == 0 else spec.domain.replace("northbridge", area_slug)
        for copy in range(scale.team_copies):
            for team_spec in spec.teams:
                for _ in range(max(1, round(team_spec.size * scale.staff_per_team))):
                    first_name, last_name = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                    local = f"{first_name}.{last_name}".lower().replace("'", "")
                    email, n = f"{local}@{domain}", 2
                    while email in used_emails:
                        email, n = f"{local}{n}@{domain}", n + 1
                    used_emails.add(email)
                    staff.append(
                        StaffMember(
                            name=f"{first_name} {last_name}",
                            work_email=email,
                            profession=rng.choice(team_spec.professions),
                            team=team_by[team_spec.name, copy],
                            start_date_in_role=today - dt.timedelta(days=rng.randint(60, 3650)),
                            active=rng.random() > 0.04,
                        )
                    )
    staff = StaffMember.objects.bulk_create(staff, batch_size=2000)
    courses = first.courses if first else _courses(organisations["northbridge-council"], accounts)

    # Sessions run from 18 months ago until two months ahead, so there is history and a diary.
    owners = [accounts["trainer"], accounts["trainer2"]]
    first_day = today - dt.timedelta(days=548)
    last_day = today + dt.timedelta(days=60)
    sessions: list[TrainingSession] = []
    span_days = (last_day - first_day).days
    for spec in COURSES:
        count = max(2, round(spec.sessions_per_year * scale.sessions * span_days / 365))
        for k in range(count):
            day = first_day + dt.timedelta(days=round((k + rng.random() * 0.5) * span_days / count))
            if day.weekday() > 4:  # training runs on weekdays: move a weekend date back to Friday
                day -= dt.timedelta(days=day.weekday() - 4)
            start = _aware(day, 9, 30)
            sessions.append(
                TrainingSession(
                    course=courses[spec.slug],
                    start=start,
                    end=start + dt.timedelta(hours=min(float(spec.hours), 7.0)),
                    trainer=owners[rng.random() < 0.3],
                    venue=""
                    if spec.mode in (DeliveryMode.LIVE_ONLINE, DeliveryMode.E_LEARNING)
                    else f"{area} Civic Centre",
                    online_link=f"https://meet.{area_slug}-council.example/training"
                    if spec.mode != DeliveryMode.FACE_TO_FACE
                    else "",
                    capacity=30 if spec.mode != DeliveryMode.E_LEARNING else 200,
                )
            )
    sessions = TrainingSession.objects.bulk_create(sessions, batch_size=2000)

    # Each person attends a course at most once, at a time drawn from its diary: this gives
    # the staggered training dates the difference-in-differences needs.
    now = timezone.now()
    by_course: dict[int, list[TrainingSession]] = {}
    for session in sessions:
        by_course.setdefault(session.course_id, []).append(session)
    attendance: list[tuple[int, int, str, dt.datetime]] = []
    for spec in COURSES:
        course_sessions = by_course[courses[spec.slug].pk]
        eligible = [s for s in staff if not spec.professions or s.profession in spec.professions]
        uptake = min(0.95, spec.uptake * scale.uptake)
        for person in eligible:
            if rng.random() >= uptake:
                continue
            session = rng.choice(course_sessions)
            if session.start > now:
                status = AttendanceStatus.BOOKED
            else:
                status = rng.choices(
                    [
                        AttendanceStatus.ATTENDED,
                        AttendanceStatus.PARTIAL,
                        AttendanceStatus.NO_SHOW,
                        AttendanceStatus.CANCELLED,
                    ],
                    weights=[82, 4, 7, 7],
                )[0]
            attendance.append((session.pk, person.pk, status, now))
            if scale.refresher_share and rng.random() < scale.refresher_share:
                again = rng.choice(course_sessions)
                if again.pk != session.pk:
                    again_status = AttendanceStatus.BOOKED if again.start > now else AttendanceStatus.ATTENDED
                    attendance.append((again.pk, person.pk, again_status, now))
    insert_rows(Attendance, ["session", "staff", "status", "updated_at"], attendance)

    return DemoTraining(
        today=today,
        partnership=partnership,
        organisations=area_organisations,
        teams=list(team_by.values()),
        staff=staff,
        courses=courses,
        sessions=sessions,
        accounts=accounts,
        scale=scale,
        index=index,
        areas=areas,
    )
