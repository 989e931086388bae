"""The sign-in page: styled, accessible in its normal and error states, usable by keyboard alone."""

import pytest

from tests.browser.helpers import axe_check, css_loaded, sign_in_with_form, submit, visit
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_sign_in_page_is_styled_and_accessible(page):
    visit(page, "/accounts/login/")
    assert css_loaded(page), "GOV.UK Frontend's CSS did not load from /static/build/app.css"
    assert page.title() == "Sign in \N{EN DASH} Closing the Loop"
    # The system font, never GDS Transport, and no crown.
    font = page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
    assert "GDS Transport" not in font
    assert "system-ui" in font
    assert page.locator(".govuk-logo, .govuk-header__logotype").count() == 0


def test_wrong_password_shows_an_accessible_error_and_recovers(page, trainer):
    visit(page, "/accounts/login/")
    page.get_by_label("Username").fill("trainer")
    page.get_by_label("Password").fill("not the password")
    submit(page, page.get_by_role("button", name="Sign in"))

    summary = page.get_by_role("alert")
    assert "There is a problem" in summary.inner_text()
    assert page.get_by_label("Username").input_value() == "trainer"
    # The summary's link takes keyboard and screen-reader users to the field.
    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "id_username"

    page.get_by_label("Password").fill(TEST_PASSWORD)
    submit(page, page.get_by_role("button", name="Sign in"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")


def test_sign_in_with_the_keyboard_alone(page, trainer):
    visit(page, "/accounts/login/")
    # From the top of the page: the skip link comes first, then the form's fields in order.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "id_username":
            break
    else:
        pytest.fail("Tab never reached the username field")
    page.keyboard.type("trainer")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_password"
    page.keyboard.type(TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    axe_check(page)
    assert page.url.endswith("/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")


def test_sign_in_on_a_phone(phone, trainer):
    sign_in_with_form(phone, "trainer", TEST_PASSWORD)
    assert phone.get_by_role("heading", level=1).inner_text().startswith("Welcome")
    # Nothing wider than the screen: no sideways scrolling on a 390px phone.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
