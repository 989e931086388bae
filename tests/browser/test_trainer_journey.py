"""Issue 9's trainer journey: sign in, create a course, add a session (recovering from a
validation error), book people onto its register and mark attendance, then attach the pre, post and
follow-up questionnaires (recovering from a follow-up no questionnaire can be sent on).

Every page is reached as a person reaches it, through links and buttons, and each is checked with
axe-core on arrival.
"""

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from surveys.models import Administration, Instrument, Phase
from tests.browser.helpers import follow, sign_in_with_form, submit
from tests.factories import TEST_PASSWORD, StaffMemberFactory
from training.models import Attendance, Course, TrainingSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LONDON = ZoneInfo("Europe/London")


def test_trainer_creates_a_course_and_session_and_marks_attendance(page, trainer, team):
    alex = StaffMemberFactory(team=team, name="Alex Adebayo")
    blake = StaffMemberFactory(team=team, name="Blake Byrne")
    casey = StaffMemberFactory(team=team, name="Casey Chen")
    StaffMemberFactory(team=team, name="Dana Not Booked")

    sign_in_with_form(page, "trainer", TEST_PASSWORD)

    # Create a course from the dashboard.
    follow(page, page.get_by_role("link", name="Create a course").first)
    assert page.url.endswith("/courses/new/")
    submit(page, page.get_by_role("button", name="Save course"))  # empty: errors, checked by axe
    assert "There is a problem" in page.get_by_role("alert").inner_text()
    page.get_by_label("Title").fill("Exploitation: from concern to referral")
    page.get_by_label("Topic").select_option(label="Child sexual exploitation")
    page.get_by_role("group", name="Delivery mode").get_by_label("Face to face").check()
    page.get_by_label("Duration in hours").fill("3.5")
    page.get_by_label("Learning outcomes").fill("Spot grooming\nWrite a referral that says why")
    professions = page.get_by_role("group", name="Target professions")
    professions.get_by_label("Social worker").check()
    professions.get_by_label("Police officer or staff").check()
    submit(page, page.get_by_role("button", name="Save course"))
    assert page.get_by_role("heading", level=1).inner_text() == "Exploitation: from concern to referral"
    assert "created" in page.get_by_role("alert").inner_text()

    # Add a session, first ending before it starts.
    follow(page, page.get_by_role("link", name="Add a session"))
    assert page.url.endswith("/sessions/new/")
    page.get_by_label("Start").fill("2025-06-02T10:00")
    page.get_by_label("End").fill("2025-06-02T09:00")
    page.get_by_label("Venue").fill("Civic Centre, room 4")
    page.get_by_label("Capacity").fill("12")
    submit(page, page.get_by_role("button", name="Save session"))
    assert page.title().startswith("Error: ")
    summary = page.get_by_role("alert")
    assert "The session must end after it starts." in summary.inner_text()
    summary.get_by_role("link", name="The session must end after it starts.").click()
    assert page.evaluate("document.activeElement.id") == "id_end"
    assert page.get_by_label("Start").input_value() == "2025-06-02T10:00"  # kept, not retyped
    page.get_by_label("End").fill("2025-06-02T13:00")
    submit(page, page.get_by_role("button", name="Save session"))
    assert "Monday 2 June 2025, 10:00 to 13:00" in page.get_by_role("heading", level=1).inner_text()

    # Book three people onto the register, then mark who came.
    follow(page, page.get_by_role("link", name="Mark attendance"))
    assert page.url.endswith("/attendance/")
    submit(page, page.get_by_role("button", name="Add to register"))  # nobody chosen: an error
    assert page.get_by_role("alert").count() == 1
    page.get_by_label("Add people to the register").select_option(
        label=["Alex Adebayo", "Blake Byrne", "Casey Chen"]
    )
    submit(page, page.get_by_role("button", name="Add to register"))
    assert "Added 3 people" in page.get_by_role("alert").inner_text()
    page.get_by_label("Alex Adebayo").select_option(label="Attended")
    page.get_by_label("Blake Byrne").select_option(label="Did not attend")
    page.get_by_label("Casey Chen").select_option(label="Attended part")
    submit(page, page.get_by_role("button", name="Save attendance"))
    assert "Attendance saved." in page.get_by_role("alert").inner_text()

    # Attach the questionnaires, from the session's page: none yet, so set them up.
    follow(page, page.get_by_role("link", name="Questionnaires: set up, response rates and scores"))
    assert "No questionnaires are set up for this session yet." in page.locator("main").inner_text()
    follow(page, page.get_by_role("link", name="Set up questionnaires"))
    assert page.get_by_role("heading", level=1).inner_text() == "Set up questionnaires"
    assert re.search(r"/sessions/\d+/questionnaires/set-up/$", page.url)
    default = Instrument.objects.get(slug="cse-default")
    page.get_by_label("Questionnaire").select_option(label=default.name)
    offsets = page.get_by_label("Follow-ups, in days after the session")
    # A follow-up on the day of the session is no follow-up: refused, and nothing is attached.
    offsets.fill("0")
    submit(page, page.get_by_role("button", name="Save questionnaires"))
    assert page.title().startswith("Error: ")
    problem = "Follow-ups must be between 1 and 730 days after the session."
    summary = page.get_by_role("alert")
    assert summary.get_by_role("link").all_inner_texts() == [problem]
    summary.get_by_role("link", name=problem).click()
    assert page.evaluate("document.activeElement.id") == "id_follow_up_offsets"
    # The field shows the message too, and a screen reader landing on it hears it.
    assert problem in page.locator("#id_follow_up_offsets_error").inner_text()
    expect(offsets).to_have_accessible_description(re.compile(re.escape(problem)))
    assert offsets.input_value() == "0"  # kept, to be corrected
    assert page.get_by_label("Questionnaire").evaluate("s => s.selectedOptions[0].text") == default.name
    assert not Administration.objects.exists()

    offsets.fill("42, 91")
    page.get_by_label("Questionnaire").select_option(label=default.name)
    submit(page, page.get_by_role("button", name="Save questionnaires"))
    assert not page.title().startswith("Error: ")
    assert "Questionnaires set up for this session." in page.get_by_role("alert").inner_text()
    assert page.get_by_role("heading", level=1).inner_text() == "Questionnaires"
    rates = page.get_by_role("table", name="Response rates by questionnaire")
    assert [label.split(" Open")[0] for label in rates.locator("tbody th").all_inner_texts()] == [
        "Before the session",
        "After the session",
        "Follow-up after 42 days",
        "Follow-up after 91 days",
    ]

    course = Course.objects.get(title="Exploitation: from concern to referral")
    assert course.owner == trainer
    assert course.topic == "cse"
    assert course.delivery_mode == "face_to_face"
    assert course.duration_hours == Decimal("3.5")
    assert course.target_professions == ["social_worker", "police"]
    session = TrainingSession.objects.get(course=course)
    assert session.start == dt.datetime(2025, 6, 2, 10, 0, tzinfo=LONDON)
    assert session.end == dt.datetime(2025, 6, 2, 13, 0, tzinfo=LONDON)
    assert (session.venue, session.capacity, session.trainer) == ("Civic Centre, room 4", 12, trainer)
    assert dict(Attendance.objects.filter(session=session).values_list("staff__name", "status")) == {
        alex.name: "attended",
        blake.name: "no_show",
        casey.name: "partial",
    }
    attached = Administration.objects.filter(session=session).select_related("version__instrument")
    assert sorted((a.phase, a.offset_days) for a in attached) == sorted(
        [(Phase.PRE, 0), (Phase.POST, 0), (Phase.FOLLOW_UP, 42), (Phase.FOLLOW_UP, 91)]
    )
    assert {a.version.instrument for a in attached} == {default}
    assert {a.created_by for a in attached} == {trainer}
