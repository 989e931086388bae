"""A tour of the pages no journey opens, each as the person who uses it (a trainer, a manager, a
workforce lead, an administrator or a trainee with a link), each checked with axe-core: no WCAG 2.2
A or AA violations.

The data is like the demo's: a course whose session had its questionnaires answered before and
after, a copy of the default questionnaire to adapt, and referrals audited by their manager, so
the pages show their tables, tags and lists rather than only their empty states. Forms are also
sent with a required answer missing, or a wrong code, and their error state is checked too: each
link in the error summary must take the keyboard to its field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from practice import services as practice_services
from surveys import services
from surveys.models import Administration, Instrument, Invitation, ItemKind, Phase
from tests.browser.helpers import submit, visit
from tests.factories import (
    AttendanceFactory,
    CourseFactory,
    ReferralFactory,
    StaffMemberFactory,
    TrainingSessionFactory,
)
from training import mfa, totp
from training.models import Attendance, AttendanceStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

COURSE = "Exploitation: recognise and refer"
PEOPLE = 6  # more than the 5 below which results are suppressed, so scores are shown


@dataclass
class Tour:
    """What the tour's pages are about."""

    course: object
    session: object
    copy: Instrument
    referral: object
    opt_out: str
    items: dict[str, str] = field(default_factory=dict)  # {kind: code of a question of that kind}


def _answers(version, phase, n: int) -> dict[str, str]:
    """A value for every question of the phase, varying from person to person."""
    values = {}
    for item in services.items_for_phase(version=version, phase=phase):
        if item.kind in (ItemKind.SINGLE_CHOICE, ItemKind.TRUE_FALSE):
            values[item.code] = item.correct_answer if (n + (phase == Phase.POST)) % 2 else "dk"
        elif item.kind == ItemKind.CONFIDENCE_0_10:
            values[item.code] = str(min(10, n + (5 if phase == Phase.POST else 2)))
        elif item.kind.startswith("likert"):
            values[item.code] = str(1 + (n + (phase == Phase.POST)) % 5)
        elif item.kind == ItemKind.FREE_TEXT and n == 0:
            values[item.code] = "More case studies, please."
    return values


def _answered_session(trainer, team, mailoutbox):
    """A session that happened this morning: everyone answered before it, all but one after it.
    Returns the session and the opt-out link in the invitation of the one who has not answered."""
    start = timezone.now() + dt.timedelta(hours=3)
    course = CourseFactory(owner=trainer, title=COURSE, slug="cse-recognise-refer")
    session = TrainingSessionFactory(course=course, start=start, end=start + dt.timedelta(hours=4))
    for n in range(PEOPLE):
        staff = StaffMemberFactory(team=team, name=f"Trainee {n + 1}", work_email=f"t{n}@council.example")
        AttendanceFactory(session=session, staff=staff, status=AttendanceStatus.BOOKED)
    services.administrations_attach(
        session=session,
        instrument=Instrument.objects.get(slug="cse-default"),
        by=trainer,
        follow_up_offsets=[42, 91],
    )
    pre = session.administrations.get(phase=Phase.PRE)
    assert services.invitations_send(administration=pre) == PEOPLE
    for n, invitation in enumerate(Invitation.objects.filter(administration=pre).order_by("pk")):
        services.invitation_respond(invitation=invitation, values=_answers(pre.version, Phase.PRE, n))

    # The session took place: it moves into the past, with its questionnaires' windows.
    start = timezone.now() - dt.timedelta(hours=6)
    session.start, session.end = start, start + dt.timedelta(hours=4)
    session.save(update_fields=["start", "end"])
    for phase, offset, opens, closes in services.administration_windows(
        session=session, follow_up_offsets=[42, 91]
    ):
        Administration.objects.filter(session=session, phase=phase, offset_days=offset).update(
            opens_at=opens, closes_at=closes
        )
    Attendance.objects.filter(session=session).update(status=AttendanceStatus.ATTENDED)
    post = session.administrations.get(phase=Phase.POST)
    sent = len(mailoutbox)
    assert services.invitations_send(administration=post) == PEOPLE
    invitations = list(Invitation.objects.filter(administration=post).order_by("pk"))
    for n, invitation in enumerate(invitations[1:]):
        services.invitation_respond(invitation=invitation, values=_answers(post.version, Phase.POST, n))
    waiting = invitations[0].staff.work_email
    email = next(m for m in mailoutbox[sent:] if m.to == [waiting])
    opt_out = re.search(r"https?://[^/\s]+(/q/[\w-]+/opt-out/)", email.body).group(1)
    return session, opt_out


def _audited_referrals(team, manager) -> object:
    """Referrals in the manager's team over the last year, most audited; returns one to edit."""
    today = timezone.localdate()
    referrals = []
    for n, days_ago in enumerate((300, 200, 120, 60, 20)):
        staff = StaffMemberFactory(team=team, name=f"Referrer {n + 1}")
        referral = ReferralFactory(
            staff=staff, made_on=today - dt.timedelta(days=days_ago), concerns=["cse", "neglect"]
        )
        referrals.append(referral)
        if days_ago == 20:
            continue  # the newest is not audited yet
        audit = practice_services.audit_start(referral=referral, by=manager)
        grades = {item.code: str(1 + (n + i) % 4) for i, item in enumerate(audit.version.items.all())}
        practice_services.audit_save(
            audit=audit, by=manager, grades=grades, evidence={}, revision=1, submit=n != 3
        )
    return referrals[0]


@pytest.fixture
def tour(trainer, manager, team, lead, admin_user, mailoutbox) -> Tour:
    session, opt_out = _answered_session(trainer, team, mailoutbox)
    copy = services.instrument_copy(instrument=Instrument.objects.get(slug="cse-default"), owner=trainer)
    items = {}
    for item in services.version_latest(copy).items.order_by("position"):
        items.setdefault(item.kind, item.code)
    referral = _audited_referrals(team, manager)
    return Tour(
        course=session.course, session=session, copy=copy, referral=referral, opt_out=opt_out, items=items
    )


@dataclass(frozen=True)
class Stop:
    """A page on the tour: who opens it, its address and the heading it should show; and, for the
    page a form leads to, what to type (as {label: text}) and which button to press. A form sent
    with a required answer missing shows its error state, which is checked as well."""

    who: str
    path: Callable[[Tour], str]
    heading: str | re.Pattern
    fill: tuple[tuple[str, str], ...] = ()
    then: str = ""
    error: bool = False
    arrives: str | re.Pattern | None = None  # the heading after the button, if not the same


def _change(kind: str) -> Stop:
    return Stop(
        "trainer",
        lambda t: f"/questionnaires/{t.copy.slug}/questions/{t.items[kind]}/",
        re.compile(r"^Change question "),
    )


QUESTION_KINDS = (
    ItemKind.SINGLE_CHOICE,
    ItemKind.TRUE_FALSE,
    ItemKind.CONFIDENCE_0_10,
    ItemKind.LIKERT_5,
    ItemKind.FREE_TEXT,
)
COPY = re.compile(r"\(copy\)$")
WRONG_CODE = (("Code from your authenticator app", "000000"),)

STOPS = {
    # Questionnaires, as the trainer who adapts them (the lead reads them).
    "questionnaire-list": Stop("trainer", lambda t: "/questionnaires/", "Questionnaires"),
    "questionnaire-list-lead": Stop("lead", lambda t: "/questionnaires/", "Questionnaires"),
    "questionnaire-detail": Stop(
        "trainer",
        lambda t: "/questionnaires/cse-default/",
        "Child sexual exploitation: knowledge, confidence and attitudes",
    ),
    "questionnaire-copy": Stop(
        "trainer",
        lambda t: "/questionnaires/cse-default/",
        "Child sexual exploitation: knowledge, confidence and attitudes",
        then="Copy and adapt",
        arrives=COPY,
    ),
    "questionnaire-detail-own-copy": Stop("trainer", lambda t: f"/questionnaires/{t.copy.slug}/", COPY),
    "question-add": Stop(
        "trainer", lambda t: f"/questionnaires/{t.copy.slug}/questions/new/", "Add a question"
    ),
    "question-add-errors": Stop(
        "trainer",
        lambda t: f"/questionnaires/{t.copy.slug}/questions/new/",
        "Add a question",
        then="Save question",
        error=True,
    ),
    **{f"question-edit-{kind}": _change(kind) for kind in QUESTION_KINDS},
    "question-edit-errors": Stop(
        "trainer",
        lambda t: f"/questionnaires/{t.copy.slug}/questions/{t.items[ItemKind.LIKERT_5]}/",
        re.compile(r"^Change question "),
        fill=(("Question", ""),),
        then="Save question",
        error=True,
    ),
    # A session's questionnaires: results for its trainer and the lead, and setting them up.
    "session-results": Stop(
        "trainer", lambda t: f"/sessions/{t.session.pk}/questionnaires/", "Questionnaires"
    ),
    "session-results-lead": Stop(
        "lead", lambda t: f"/sessions/{t.session.pk}/questionnaires/", "Questionnaires"
    ),
    "session-set-up": Stop(
        "trainer", lambda t: f"/sessions/{t.session.pk}/questionnaires/set-up/", "Set up questionnaires"
    ),
    # The trainee, from the link in an invitation, stops the reminders: no account needed.
    "opt-out": Stop(
        "trainee",
        lambda t: t.opt_out,
        "Stop reminders about this questionnaire?",
        then="Stop reminders",
        arrives="You will get no more reminders",
    ),
    # Courses and sessions, changed by their trainer.
    "course-edit": Stop("trainer", lambda t: f"/courses/{t.course.slug}/edit/", f"Edit {COURSE}"),
    "course-edit-errors": Stop(
        "trainer",
        lambda t: f"/courses/{t.course.slug}/edit/",
        f"Edit {COURSE}",
        fill=(("Title", ""),),
        then="Save course",
        error=True,
    ),
    "session-edit": Stop("trainer", lambda t: f"/sessions/{t.session.pk}/edit/", "Edit session"),
    "session-edit-errors": Stop(
        "trainer",
        lambda t: f"/sessions/{t.session.pk}/edit/",
        "Edit session",
        fill=(("Start", ""),),
        then="Save session",
        error=True,
    ),
    # Referrals and audits, as the team's manager; coverage and imports as the lead too.
    "referral-list": Stop("manager", lambda t: "/referrals/", "Referrals"),
    "referral-list-lead": Stop("lead", lambda t: "/referrals/", "Referrals"),
    "referral-new": Stop("manager", lambda t: "/referrals/new/", "Record a referral"),
    "referral-new-errors": Stop(
        "manager", lambda t: "/referrals/new/", "Record a referral", then="Save referral", error=True
    ),
    "referral-edit": Stop(
        "manager", lambda t: f"/referrals/{t.referral.pk}/edit/", re.compile(r"^Change referral \d+$")
    ),
    "audit-history": Stop("manager", lambda t: "/audits/", "Audit history"),
    "audit-coverage": Stop("manager", lambda t: "/audits/coverage/", "Audit coverage"),
    "audit-coverage-lead": Stop("lead", lambda t: "/audits/coverage/", "Audit coverage"),
    "import-referrals": Stop("manager", lambda t: "/imports/referrals/", "Import past referrals"),
    "import-referrals-lead": Stop("lead", lambda t: "/imports/referrals/", "Import past referrals"),
    "import-audits": Stop("manager", lambda t: "/imports/audits/", "Import past audits"),
    "import-audits-errors": Stop(
        "lead", lambda t: "/imports/audits/", "Import past audits", then="Upload and check", error=True
    ),
    # An administrator's authenticator: set up at the first sign-in, a code at every later one.
    "mfa-setup": Stop("admin_user", lambda t: "/accounts/mfa/setup/", "Set up your authenticator"),
    "mfa-setup-wrong-code": Stop(
        "admin_user",
        lambda t: "/accounts/mfa/setup/",
        "Set up your authenticator",
        fill=WRONG_CODE,
        then="Confirm",
        error=True,
    ),
    "mfa-verify": Stop("enrolled_admin", lambda t: "/accounts/mfa/verify/", "Enter your authenticator code"),
    "mfa-verify-wrong-code": Stop(
        "enrolled_admin",
        lambda t: "/accounts/mfa/verify/",
        "Enter your authenticator code",
        fill=WRONG_CODE,
        then="Continue",
        error=True,
    ),
}


@pytest.fixture
def enrolled_admin(admin_user):
    """An administrator whose authenticator is set up, so each sign-in asks for a code."""
    mfa.totp_enrol_with_secret(user=admin_user, secret=totp.new_secret())
    return admin_user


def _heading_is(page, expected: str | re.Pattern) -> None:
    heading = page.get_by_role("heading", level=1).inner_text()
    if isinstance(expected, re.Pattern):
        assert expected.search(heading), f"{page.url}: {heading!r} does not match {expected.pattern!r}"
    else:
        assert heading == expected, f"{page.url}: {heading!r}"


@pytest.mark.parametrize("stop", STOPS.values(), ids=STOPS.keys())
def test_page_is_accessible(page, sign_in, request, tour, stop):
    if stop.who != "trainee":  # a trainee has no account: the link is all they need
        sign_in(page, request.getfixturevalue(stop.who))
    visit(page, stop.path(tour))  # axe-checked, as every page below
    _heading_is(page, stop.heading)
    if not stop.then:
        return
    for label, text in stop.fill:
        page.locator("main").get_by_label(label, exact=True).fill(text)
    submit(page, page.locator("main").get_by_role("button", name=stop.then, exact=True))
    if stop.error:
        assert page.title().startswith("Error: "), page.title()
        summary = page.get_by_role("alert").filter(has_text="There is a problem")
        # Each link in the summary takes the keyboard to the field it is about (axe_check has
        # made sure each leads to an element, and that no two say the same about different ones).
        for link in summary.get_by_role("link").all():
            target = link.get_attribute("href").removeprefix("#")
            link.click()
            assert page.evaluate("document.activeElement.id") == target
    else:
        assert not page.title().startswith("Error: "), page.title()
    _heading_is(page, stop.arrives or stop.heading)
