"""Issue 9's manager journey: work through the audits due for your team, recover from a validation
error without losing anything typed, and complete an audit with the keyboard alone."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from practice.models import AssignmentStatus, Audit, AuditAssignment, AuditReason, AuditStatus
from practice.services import rubric_current
from tests.browser.helpers import answer_with_keyboard, axe_check, chosen, follow, submit, tab_to, visit
from tests.factories import ReferralFactory, StaffMemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def referrals(team, other_team):
    """Three referrals proposed for audit: an overdue one and one due soon in the manager's team,
    and one in another manager's team, which this manager must not be offered."""
    today = timezone.localdate()
    made = {
        "overdue": (StaffMemberFactory(team=team, name="Sam Patel"), today - dt.timedelta(days=3)),
        "soon": (StaffMemberFactory(team=team, name="Jo Lewis"), today + dt.timedelta(days=10)),
        "theirs": (StaffMemberFactory(team=other_team, name="Kit Theirs"), today),
    }
    found = {}
    for key, (staff, due_on) in made.items():
        referral = ReferralFactory(staff=staff, concerns=["cse"], made_on=today - dt.timedelta(days=40))
        AuditAssignment.objects.create(referral=referral, reason=AuditReason.BASELINE, due_on=due_on)
        found[key] = referral
    return found


def criteria() -> list:
    return list(rubric_current().items.order_by("position"))


def radios(grades: dict[str, str]) -> dict[str, str]:
    """Grades as the form's radio groups: {"grade-<criterion>": grade}."""
    return {f"grade-{code}": grade for code, grade in grades.items()}


def answers(audit: Audit) -> tuple[dict[str, str], dict[str, str]]:
    """The audit's stored ({criterion: grade}, {criterion: evidence})."""
    stored = audit.response.answers.select_related("item")
    return (
        {a.item.code: a.value for a in stored if a.value},
        {a.item.code: a.text for a in stored if a.text},
    )


def test_manager_works_through_the_audits_due_and_recovers_from_an_error(page, sign_in, manager, referrals):
    sign_in(page, manager)
    visit(page, "/")
    follow(page, page.get_by_role("navigation", name="Menu").get_by_role("link", name="Audits due"))

    # Only this manager's team, soonest first, the late one marked.
    rows = page.locator("main table tbody tr")
    assert rows.count() == 2
    overdue, soon = referrals["overdue"], referrals["soon"]
    assert rows.nth(0).locator("td").first.inner_text().startswith(f"Referral {overdue.pk}")
    assert "Overdue" in rows.nth(0).inner_text()
    assert "Sam Patel" in rows.nth(0).inner_text()
    assert rows.nth(1).locator("td").first.inner_text().startswith(f"Referral {soon.pk}")
    assert "Overdue" not in rows.nth(1).inner_text()
    assert "Kit Theirs" not in page.locator("main").inner_text()

    follow(page, page.get_by_role("link", name=f"Referral {overdue.pk}"))
    submit(page, page.get_by_role("button", name="Start the audit"))
    assert page.get_by_role("heading", level=1).inner_text() == f"Audit of referral {overdue.pk}"

    # Grade all but two criteria, with evidence for two, and try to submit.
    items = criteria()
    grades = {item.code: "3" for item in items}
    grades |= {"exploitation_indicators": "4", "child_voice": "2"}
    missed = {"consent", "timely"}
    evidence = {
        "exploitation_indicators": "Missing episodes and an older boyfriend are both named.",
        "child_voice": "Her words are not recorded.",
    }
    for item in items:
        if item.code not in missed:
            page.get_by_role("group", name=item.text).get_by_label(f"({grades[item.code]})").check()
    for code, text in evidence.items():
        page.locator(f"#evidence-{code}").fill(text)
    submit(page, page.get_by_role("button", name="Submit audit"))

    assert page.title().startswith("Error: ")
    summary = page.get_by_role("alert")
    links = summary.get_by_role("link")
    # One error per criterion left out, in the order of the form, each naming its criterion.
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
        "#grade-consent",
        "#grade-timely",
    ]
    assert links.nth(1).inner_text().startswith("The referral was timely")
    # The group itself says what is wrong, for a screen reader user who tabs to it.
    expect(page.get_by_role("group", name="The referral was timely")).to_have_accessible_description(
        re.compile("Error:.+")
    )
    # Nothing entered is lost: every grade and both pieces of evidence are still on the page.
    assert chosen(page) == radios({code: grade for code, grade in grades.items() if code not in missed})
    for code, text in evidence.items():
        assert page.locator(f"#evidence-{code}").input_value() == text
    audit = Audit.objects.get(referral=overdue)
    assert (audit.status, audit.revision) == (AuditStatus.DRAFT, 1)  # nothing saved either

    links.nth(1).click()
    assert page.evaluate("document.activeElement.id") == "grade-timely"
    page.keyboard.press("Space")  # Outstanding, the first option
    grades["timely"] = "4"
    page.get_by_role("group", name="Parents are informed").get_by_label("(3)").check()
    # Save a draft first: it comes back with everything in place.
    submit(page, page.get_by_role("button", name="Save draft"))
    assert "Draft saved." in page.get_by_role("alert").inner_text()
    assert chosen(page) == radios(grades)
    assert page.locator("#evidence-child_voice").input_value() == evidence["child_voice"]

    submit(page, page.get_by_role("button", name="Submit audit"))
    assert "Audit submitted." in page.get_by_role("alert").inner_text()
    audit_row = page.locator("main table tbody tr")
    assert audit_row.count() == 1
    assert "Submitted" in audit_row.inner_text()
    assert "Good" in audit_row.inner_text()

    audit.refresh_from_db()
    assert audit.status == AuditStatus.SUBMITTED
    assert answers(audit) == (grades, evidence)
    assert AuditAssignment.objects.get(referral=overdue).status == AssignmentStatus.DONE

    # Back to the list: the audit done is no longer due; the other one is.
    follow(page, page.get_by_role("navigation", name="Menu").get_by_role("link", name="Audits due"))
    rows = page.locator("main table tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("td").first.inner_text().startswith(f"Referral {soon.pk}")


def test_manager_completes_an_audit_with_the_keyboard_alone(page, sign_in, manager, referrals):
    referral = referrals["soon"]
    sign_in(page, manager)
    visit(page, f"/referrals/{referral.pk}/")
    tab_to(page, "Start the audit")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    axe_check(page)
    assert page.get_by_role("heading", level=1).inner_text() == f"Audit of referral {referral.pk}"

    items = criteria()
    # Options run from Outstanding (4) down to Inadequate (1): every position is used.
    grades = {item.code: str(4 - n % 4) for n, item in enumerate(items)}
    evidence = {"reason_clear": "Clear and specific", "multi_agency": "School and police informed"}
    reached = answer_with_keyboard(
        page,
        radios(grades),
        {f"evidence-{code}": text for code, text in evidence.items()},
        "Submit audit",
    )

    expected = []
    for item in items:
        expected.append(f"grade-{item.code}")
        if item.code in evidence:
            expected.append(f"evidence-{item.code}")
    assert reached == expected
    assert "Audit submitted." in page.get_by_role("alert").inner_text()
    audit = Audit.objects.get(referral=referral)
    assert audit.status == AuditStatus.SUBMITTED
    assert answers(audit) == (grades, evidence)
