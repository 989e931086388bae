"""Issue 9's trainer journey, as far as the pages exist: sign in, create a course, add a session
(recovering from a validation error), book people onto its register and mark attendance.

Later steps of the journey (attaching the pre, post and follow-up questionnaires) join here when
those pages exist.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.browser.helpers import sign_in_with_form, submit
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
    page.get_by_role("link", name="Create a course").first.click()
    page.wait_for_url("**/courses/new/")
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
    page.get_by_role("link", name="Add a session").click()
    page.wait_for_url("**/sessions/new/")
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
    page.get_by_role("link", name="Mark attendance").click()
    page.wait_for_url("**/attendance/")
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
