"""Dashboards, staff, imports and error pages, as each role sees them, each page checked with
axe-core (WCAG 2.2 A and AA)."""

import pytest

from tests.browser.helpers import follow, submit, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.mark.parametrize("who", ["trainer", "manager", "lead"])
def test_dashboard_for_each_role(page, sign_in, request, who, course):
    sign_in(page, request.getfixturevalue(who))
    visit(page, "/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")


def test_dashboard_on_a_phone(phone, sign_in, trainer, course):
    sign_in(phone, trainer)
    visit(phone, "/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_staff_list_and_detail(page, sign_in, manager, course, our_staff):
    sign_in(page, manager)
    visit(page, "/staff/")
    visit(page, f"/staff/?team={our_staff.team.slug}&q=Alex")
    follow(page, page.get_by_role("link", name="Alex Ours"))
    assert page.get_by_role("heading", level=1).inner_text() == "Alex Ours"


def test_staff_import_with_a_bad_csv_lists_every_problem(page, sign_in, lead, tmp_path):
    bad = tmp_path / "staff.csv"
    bad.write_text(
        "name,work_email,profession,organisation,team\nSam Example,not-an-email,astronaut,Nowhere,Nobody\n",
        encoding="utf-8",
    )
    sign_in(page, lead)
    visit(page, "/imports/staff/")
    page.get_by_label("CSV file").set_input_files(str(bad))
    submit(page, page.get_by_role("button", name="Upload and check"))
    assert page.title().startswith("Error: ")
    assert "Nothing was imported" in page.get_by_role("alert").inner_text()
    assert page.get_by_role("table", name="Problems by row").locator("tbody tr").count() >= 2


def test_import_rejects_a_file_that_is_not_csv(page, sign_in, trainer, tmp_path):
    notes = tmp_path / "register.txt"
    notes.write_text("hello", encoding="utf-8")
    sign_in(page, trainer)
    visit(page, "/imports/attendance/")
    page.get_by_label("CSV file").set_input_files(str(notes))
    submit(page, page.get_by_role("button", name="Upload and check"))
    assert "The selected file must be a CSV." in page.get_by_role("alert").inner_text()


def test_not_found_and_forbidden_pages(page, sign_in, manager, course):
    sign_in(page, manager)
    visit(page, "/no-such-page/", status=404)
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
    visit(page, "/courses/new/", status=403)
