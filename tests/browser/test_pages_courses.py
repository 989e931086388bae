"""Courses, sessions and the register, as a trainer and a manager see them, each page checked
with axe-core (WCAG 2.2 A and AA)."""

import pytest

from tests.browser.helpers import submit, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_course_list_and_search(page, sign_in, trainer, course):
    sign_in(page, trainer)
    visit(page, "/courses/")
    assert page.get_by_role("link", name=course.title).is_visible()
    page.get_by_label("Search by title").fill("no such course")
    submit(page, page.get_by_role("button", name="Search"))
    assert "No courses match" in page.locator("main").inner_text()


def test_course_detail(page, sign_in, trainer, course):
    sign_in(page, trainer)
    visit(page, f"/courses/{course.slug}/")
    assert page.get_by_role("heading", level=1).inner_text() == course.title


def test_course_form_errors(page, sign_in, trainer):
    sign_in(page, trainer)
    visit(page, "/courses/new/")
    submit(page, page.get_by_role("button", name="Save course"))
    assert page.title().startswith("Error: ")
    assert "There is a problem" in page.get_by_role("alert").inner_text()


def test_session_detail_as_trainer_and_manager(page, sign_in, trainer, manager, session):
    sign_in(page, trainer)
    visit(page, f"/sessions/{session.pk}/")
    assert page.get_by_role("link", name="Mark attendance").is_visible()
    page.context.clear_cookies()
    sign_in(page, manager)
    visit(page, f"/sessions/{session.pk}/")
    assert page.get_by_role("link", name="Mark attendance").count() == 0


def test_attendance_register(page, sign_in, trainer, session):
    sign_in(page, trainer)
    visit(page, f"/sessions/{session.pk}/attendance/")
    assert page.locator("tbody tr").count() == 4


def test_attendance_register_on_a_phone(phone, sign_in, trainer, session):
    sign_in(phone, trainer)
    visit(phone, f"/sessions/{session.pk}/attendance/")
