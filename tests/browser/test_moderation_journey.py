"""Issue 9's second-manager journey: a blind second audit of a referral another manager audited,
which disagrees with the first on two criteria, and the moderation that settles the grades."""

import pytest
from playwright.sync_api import expect

from practice import services
from practice.models import AssignmentStatus, Audit, AuditAssignment, AuditReason, Moderation
from tests.browser.helpers import chosen, follow, submit, visit
from tests.factories import ReferralFactory, StaffMemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# The first audit grades every criterion Good (3). The second differs on two criteria, one each
# way, so the overall grade (from the mean) is Good in both and only the two criteria disagree.
FIRST = "3"
SECOND_DIFFERS = {"child_voice": "4", "timely": "2"}
CHILD_VOICE = "The child's voice and views are recorded"
TIMELY = "The referral was timely"


@pytest.fixture
def referral(manager, manager2, team, other_team):
    """Audited by the team's manager, who asked manager2 (who manages another team of the same
    council) for a blind second audit."""
    referral = ReferralFactory(staff=StaffMemberFactory(team=team, name="Sam Patel"), concerns=["cse"])
    audit = services.audit_start(referral=referral, by=manager)
    grades = {item.code: FIRST for item in audit.version.items.all()}
    services.audit_save(audit=audit, by=manager, grades=grades, evidence={}, revision=1, submit=True)
    services.second_audit_assign(referral=referral, by=manager, manager=manager2)
    return referral


def test_second_manager_audits_blind_and_moderates_the_disagreement(page, sign_in, manager2, referral):
    sign_in(page, manager2)
    visit(page, "/audits/due/")
    row = page.locator("main table tbody tr")
    assert row.count() == 1
    assert "Blind second audit" in row.inner_text()
    follow(page, row.get_by_role("link", name=f"Referral {referral.pk}"))

    # Blind: the first audit, its grades and its link are not shown.
    first = Audit.objects.get(referral=referral, is_second=False)
    assert page.locator(f'a[href="/audits/{first.pk}/"]').count() == 0
    assert "No audits you can see yet." in page.locator("main").inner_text()
    submit(page, page.get_by_role("button", name="Start a blind second audit"))
    assert (
        page.get_by_role("heading", level=1).inner_text() == f"Blind second audit of referral {referral.pk}"
    )
    assert "first audit's grades are hidden" in page.locator("main").inner_text()
    assert chosen(page) == {}  # nothing carried over from the first audit

    second_grades = {item.code: SECOND_DIFFERS.get(item.code, FIRST) for item in first.version.items.all()}
    for code, grade in second_grades.items():
        page.locator(f'input[name="grade-{code}"][value="{grade}"]').check()
    submit(page, page.get_by_role("button", name="Submit audit"))
    assert "Audit submitted." in page.get_by_role("alert").inner_text()
    assert "differ on 2 points" in page.locator("main").inner_text()

    # The moderation page, from the menu.
    follow(page, page.get_by_role("navigation", name="Menu").get_by_role("link", name="Moderation"))
    listed = page.locator("main table tbody tr")
    assert listed.count() == 1
    assert listed.locator("td").nth(2).inner_text() == "3 and 3"  # the overall grades agree
    follow(page, listed.get_by_role("link", name=f"Moderate referral {referral.pk}"))

    differences = page.get_by_role("table", name="Where the audits differ").locator("tbody tr")
    assert [differences.nth(i).locator("td").all_inner_texts() for i in range(differences.count())] == [
        [CHILD_VOICE, "3", "4"],
        [TIMELY, "3", "2"],
    ]
    # Sending it without choosing: an error for each agreed grade still needed.
    submit(page, page.get_by_role("button", name="Record the agreed grades"))
    assert page.title().startswith("Error: ")
    links = page.get_by_role("alert").get_by_role("link")
    # Each message says which grade is missing, so the three links can be told apart.
    assert links.all_inner_texts() == [
        f"Choose the agreed grade for: {CHILD_VOICE}.",
        f"Choose the agreed grade for: {TIMELY}.",
        "Choose the agreed overall grade.",
    ]
    note = "Agreed with the first auditor: her words are quoted once, in the summary."
    page.get_by_label("Moderation note").fill(note)
    page.get_by_role("group", name=CHILD_VOICE).get_by_label("Good (3)").check()
    page.get_by_role("group", name=TIMELY).get_by_label("Requires improvement (2)").check()
    # The overall grade is left out this time: the choices made so far are kept.
    submit(page, page.get_by_role("button", name="Record the agreed grades"))
    links = page.get_by_role("alert").get_by_role("link")
    assert links.all_inner_texts() == ["Choose the agreed overall grade."]
    assert chosen(page) == {"grade-child_voice": "3", "grade-timely": "2"}
    assert page.get_by_label("Moderation note").input_value() == note
    links.first.click()
    assert page.evaluate("document.activeElement.id") == "id_overall_grade_0"
    expect(page.get_by_role("group", name="Agreed overall grade")).to_have_accessible_description(
        "Error: Choose the agreed overall grade."
    )
    page.get_by_role("group", name="Agreed overall grade").get_by_label("Good (3)").check()
    submit(page, page.get_by_role("button", name="Record the agreed grades"))

    assert "Moderation recorded." in page.get_by_role("alert").inner_text()
    assert "Nothing to moderate." in page.locator("main").inner_text()
    moderation = Moderation.objects.get(referral=referral)
    assert (moderation.moderator, moderation.agreed_overall_grade, moderation.note) == (manager2, 3, note)
    assert {g.item.code: g.grade for g in moderation.grades.select_related("item")} == {
        "child_voice": 3,
        "timely": 2,
    }
    second = AuditAssignment.objects.get(referral=referral, reason=AuditReason.SECOND)
    assert second.status == AssignmentStatus.DONE
