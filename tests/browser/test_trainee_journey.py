"""Issue 9's trainee journey: a member of staff, who has no account, answers the pre and the post
questionnaire from the links in their invitation emails, on a phone. They leave a question out
once and recover, a second submission (from a second tab) is refused, and a whole questionnaire
can be completed with the keyboard alone.
"""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from surveys import services
from surveys.models import Administration, Instrument, Invitation, Phase, Response
from tests.browser.helpers import answer_with_keyboard, chosen, submit, visit
from tests.factories import AttendanceFactory, CourseFactory, StaffMemberFactory, TrainingSessionFactory
from training.models import Attendance, AttendanceStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

EMAIL = "robin.okafor@council.example"
COURSE = "Exploitation: recognise and refer"


@pytest.fixture
def session(trainer, team):
    """A session this afternoon with Robin booked on it, and the default questionnaires attached."""
    start = timezone.now() + dt.timedelta(hours=3)
    course = CourseFactory(owner=trainer, title=COURSE)
    session = TrainingSessionFactory(course=course, start=start, end=start + dt.timedelta(hours=4))
    robin = StaffMemberFactory(team=team, name="Robin Okafor", work_email=EMAIL)
    AttendanceFactory(session=session, staff=robin, status=AttendanceStatus.BOOKED)
    services.administrations_attach(
        session=session,
        instrument=Instrument.objects.get(slug="cse-default"),
        by=trainer,
        follow_up_offsets=[42],
    )
    return session


def _administration(session, phase) -> Administration:
    return session.administrations.get(phase=phase)


def invite(session, phase, mailoutbox) -> str:
    """Send the phase's invitations and return the path of the link in Robin's email (the link's
    host is SITE_URL; the browser follows it on the live server)."""
    assert services.invitations_send(administration=_administration(session, phase)) == 1
    message = mailoutbox[-1]
    assert message.to == [EMAIL]
    return re.search(r"https?://[^/\s]+(/q/[\w-]+/)\s", message.body).group(1)


def training_happened(session) -> None:
    """The session took place this morning and Robin attended. The live server's clock cannot be
    moved, so the session moves instead, with its questionnaires' windows worked out again."""
    start = timezone.now() - dt.timedelta(hours=6)
    session.start, session.end = start, start + dt.timedelta(hours=4)
    session.save(update_fields=["start", "end"])
    for phase, offset, opens, closes in services.administration_windows(
        session=session, follow_up_offsets=[42]
    ):
        Administration.objects.filter(session=session, phase=phase, offset_days=offset).update(
            opens_at=opens, closes_at=closes
        )
    Attendance.objects.filter(session=session).update(status=AttendanceStatus.ATTENDED)


def planned_answers(session, phase, *, knowledge_right: bool) -> dict[str, str]:
    """A value for every question shown in the phase: the right answers to the knowledge
    questions (or "I'm not sure"), and middling views and confidence."""
    items = services.items_for_phase(version=_administration(session, phase).version, phase=phase)
    values = {}
    for item in items:
        if item.kind in ("single_choice", "true_false"):
            values[item.code] = item.correct_answer if knowledge_right else "dk"
        elif item.kind == "confidence_0_10":
            values[item.code] = "3" if phase == Phase.PRE else "8"
        elif item.kind.startswith("likert"):
            values[item.code] = "4"
    return values


def tap_answers(page, values: dict[str, str]) -> None:
    for code, value in values.items():
        page.locator(f'input[name="{code}"][value="{value}"]').check()


def stored(invitation: Invitation) -> dict[str, str]:
    return {a.item.code: a.value or a.text for a in invitation.response.answers.select_related("item")}


def knowledge_score(invitation: Invitation) -> float:
    return invitation.response.scale_scores.get(scale__code="knowledge").score


def test_trainee_answers_the_pre_and_post_questionnaires_on_a_phone(phone, session, mailoutbox):
    # Before the session: the pre questionnaire, from the link in the invitation.
    link = invite(session, Phase.PRE, mailoutbox)
    visit(phone, link)
    assert phone.get_by_role("heading", level=1).inner_text() == "Before the training"
    assert phone.get_by_text(COURSE).first.is_visible()
    # Questions about the training itself are left out before it happens.
    assert phone.locator('input[name="r_relevant"]').count() == 0
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "the form scrolls sideways"

    # Robin also opened the email's link in a second tab, and will try to send that one later.
    second_tab = phone.context.new_page()
    visit(second_tab, link)
    # A tab in the background gets no animation frames, which Playwright's actions wait for.
    phone.bring_to_front()

    answers = planned_answers(session, Phase.PRE, knowledge_right=False)
    skipped = answers.pop("k_boys")
    tap_answers(phone, answers)
    submit(phone, phone.get_by_role("button", name="Send my answers"))

    # One question missed: the error summary says which, and links to it; nothing is lost.
    assert phone.title().startswith("Error: ")
    summary = phone.get_by_role("alert")
    assert "There is a problem" in summary.inner_text()
    links = summary.get_by_role("link")
    assert links.count() == 1
    assert links.first.get_attribute("href") == "#q-k_boys"
    links.first.click()
    assert phone.evaluate("document.activeElement.id") == "q-k_boys"
    group = phone.get_by_role("group").filter(has=phone.locator("#q-k_boys"))
    expect(group).to_have_accessible_description(re.compile("Error:"))
    assert chosen(phone) == answers, "answers given before the error were lost"
    assert not Response.objects.exists()

    phone.locator(f'input[name="k_boys"][value="{skipped}"]').check()
    submit(phone, phone.get_by_role("button", name="Send my answers"))
    assert phone.get_by_role("heading", level=1).inner_text() == "Answers sent"

    # The second tab's copy of the form is refused, and the answers already sent are kept.
    second_tab.bring_to_front()
    tap_answers(second_tab, planned_answers(session, Phase.PRE, knowledge_right=True))
    submit(second_tab, second_tab.get_by_role("button", name="Send my answers"))
    heading = second_tab.get_by_role("heading", level=1).inner_text()
    assert heading == "You have already answered this questionnaire"
    second_tab.close()
    phone.bring_to_front()
    # So is following the link again.
    visit(phone, link)
    assert phone.locator("form[method=post]").count() == 0
    assert "Each link can be used once" in phone.locator("main").inner_text()

    pre = Invitation.objects.get(administration__phase=Phase.PRE)
    assert Response.objects.count() == 1
    assert stored(pre) == {**answers, "k_boys": skipped}
    assert knowledge_score(pre) == 0.0  # "I'm not sure" to every knowledge question

    # After the session: the post questionnaire, which now asks about the training too.
    training_happened(session)
    link = invite(session, Phase.POST, mailoutbox)
    visit(phone, link)
    assert phone.get_by_role("heading", level=1).inner_text() == "After the training"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    answers = planned_answers(session, Phase.POST, knowledge_right=True)
    assert "r_relevant" in answers
    tap_answers(phone, answers)
    phone.get_by_label("Is there anything else you would like to tell us").fill(
        "The case studies helped most."
    )
    submit(phone, phone.get_by_role("button", name="Send my answers"))
    assert phone.get_by_role("heading", level=1).inner_text() == "Answers sent"

    post = Invitation.objects.get(administration__phase=Phase.POST)
    assert stored(post) == {**answers, "comments": "The case studies helped most."}
    assert knowledge_score(post) == 100.0
    assert Response.objects.filter(submitted_at__isnull=False).count() == 2


def test_trainee_completes_a_questionnaire_with_the_keyboard_alone(page, session, mailoutbox):
    training_happened(session)
    visit(page, invite(session, Phase.POST, mailoutbox))
    answers = planned_answers(session, Phase.POST, knowledge_right=True)
    # Some answers further down their groups, so the arrow keys are exercised too.
    answers |= {"c_recognise": "10", "a_boys": "5", "r_relevant": "1"}

    reached = answer_with_keyboard(page, answers, {"comments": "Good pace"}, "Send my answers")

    assert page.get_by_role("heading", level=1).inner_text() == "Answers sent"
    shown = [
        i.code
        for i in services.items_for_phase(version=_administration(session, "post").version, phase="post")
    ]
    assert reached == shown, "the keyboard did not reach every question, in the order shown"
    invitation = Invitation.objects.get()
    assert stored(invitation) == {**answers, "comments": "Good pace"}
    assert knowledge_score(invitation) == 100.0
