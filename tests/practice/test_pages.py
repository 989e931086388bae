"""Manager and lead pages: scope, the accessible audit form, the stale-edit message, moderation,
coverage, and query counts that do not grow with the list."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from practice import services
from practice.models import Audit, AuditAssignment, Moderation
from tests.factories import ReferralFactory, StaffMemberFactory
from tests.practice.conftest import CODES, all_grades

pytestmark = pytest.mark.django_db


def _signed_in(client, user):
    client.force_login(user)
    return client


def test_manager_sees_only_their_teams_referrals(client, manager, our_referral, their_referral):
    page = _signed_in(client, manager).get(reverse("referral-list")).content.decode()
    assert f'href="/referrals/{our_referral.pk}/"' in page
    assert f'href="/referrals/{their_referral.pk}/"' not in page
    assert client.get(reverse("referral-detail", args=[their_referral.pk])).status_code == 404
    assert client.post(reverse("audit-start", args=[their_referral.pk])).status_code == 404


def _due(referral, manager=None, reason="baseline"):
    return AuditAssignment.objects.create(
        referral=referral, reason=reason, due_on="2030-01-01", assigned_manager=manager
    )


def test_another_teams_manager_does_not_see_our_due_audits(client, manager, manager2, our_staff, their_staff):
    ours_assigned = _due(ReferralFactory(staff=our_staff), manager)
    ours_unassigned = _due(ReferralFactory(staff=our_staff), reason="comparison")
    theirs = _due(ReferralFactory(staff=their_staff), manager2)
    url = reverse("audits-due")
    ours_page = _signed_in(client, manager).get(url).content.decode()
    for assignment in (ours_assigned, ours_unassigned):
        assert f'href="/referrals/{assignment.referral_id}/"' in ours_page
    assert f'href="/referrals/{theirs.referral_id}/"' not in ours_page

    page = _signed_in(client, manager2).get(url).content.decode()
    assert f'href="/referrals/{theirs.referral_id}/"' in page and "Blake Theirs" in page
    for assignment in (ours_assigned, ours_unassigned):
        assert f'href="/referrals/{assignment.referral_id}/"' not in page
        assert f"Referral {assignment.referral_id}," not in page
    assert "Alex Ours" not in page and "Assessment North" not in page


def test_another_teams_manager_does_not_see_our_audit_history(
    client, manager, manager2, submitted_first, their_referral
):
    theirs = services.audit_start(referral=their_referral, by=manager2)
    services.audit_save(
        audit=theirs, by=manager2, grades=all_grades("2"), evidence={}, revision=1, submit=True
    )
    ours_link = f'href="{reverse("audit-detail", args=[submitted_first.pk])}"'
    theirs_link = f'href="{reverse("audit-detail", args=[theirs.pk])}"'
    ours_page = _signed_in(client, manager).get(reverse("audit-history")).content.decode()
    assert ours_link in ours_page and theirs_link not in ours_page

    _signed_in(client, manager2)
    for query in ("", "?team=assessment-north"):  # naming our team in the filter shows nothing either
        page = client.get(reverse("audit-history") + query).content.decode()
        assert ours_link not in page
        assert f"Audit of referral {submitted_first.referral_id}" not in page
        assert "Alex Ours" not in page
    assert theirs_link in client.get(reverse("audit-history")).content.decode()


def test_another_teams_manager_gets_404_for_our_audit(
    client, manager, manager2, submitted_first, our_referral
):
    draft = services.audit_start(referral=ReferralFactory(staff=our_referral.staff), by=manager)
    _signed_in(client, manager2)
    for audit in (submitted_first, draft):
        url = reverse("audit-detail", args=[audit.pk])
        assert client.get(url).status_code == 404
        posted = client.post(url, {"revision": audit.revision, "save": "1", "grade-timely": "1"})
        assert posted.status_code == 404
    draft.refresh_from_db()
    assert draft.revision == 1  # the refused post changed nothing
    assert _signed_in(client, manager).get(reverse("audit-detail", args=[draft.pk])).status_code == 200


def test_referral_form_warns_against_names(client, manager):
    page = _signed_in(client, manager).get(reverse("referral-create")).content.decode()
    assert "Do not enter children's or family members' names" in page


def test_audit_form_is_a_fieldset_per_criterion_with_descriptors(client, manager, our_referral):
    _signed_in(client, manager)
    response = client.post(reverse("audit-start", args=[our_referral.pk]))
    audit = Audit.objects.get()
    assert response.url == reverse("audit-detail", args=[audit.pk])
    page = client.get(response.url).content.decode()
    assert page.count('<fieldset class="govuk-fieldset"') == 11
    assert page.count("<legend") == 11
    assert page.count('type="radio"') == 44
    assert "Indicators of sexual or criminal exploitation are named" in page  # a descriptor as a hint
    assert page.count('class="govuk-textarea"') == 11
    assert "Evidence must not name the child or family members." in page
    assert 'name="submit"' in page and 'name="save"' in page


def test_submitting_an_incomplete_audit_links_each_error_to_its_first_radio(client, manager, our_referral):
    audit = services.audit_start(referral=our_referral, by=manager)
    data = {
        "revision": 1,
        "submit": "1",
        **{f"grade-{c}": "3" for c in CODES if c not in ("timely", "consent")},
    }
    page = _signed_in(client, manager).post(reverse("audit-detail", args=[audit.pk]), data).content.decode()
    assert "There is a problem" in page
    assert 'href="#grade-consent"' in page and 'href="#grade-timely"' in page
    assert 'id="grade-timely"' in page  # the anchor exists: the first radio of the group
    assert page.index('href="#grade-consent"') < page.index('href="#grade-timely"')  # in page order


def test_saving_a_draft_and_submitting_from_the_page(client, manager, our_referral):
    audit = services.audit_start(referral=our_referral, by=manager)
    _signed_in(client, manager)
    url = reverse("audit-detail", args=[audit.pk])
    assert (
        client.post(
            url, {"revision": 1, "save": "1", "grade-timely": "4", "evidence-timely": "Same day"}
        ).status_code
        == 302
    )
    data = {"revision": 2, "submit": "1", **{f"grade-{c}": g for c, g in all_grades("4").items()}}
    assert client.post(url, data).status_code == 302
    audit.refresh_from_db()
    assert (audit.status, audit.overall_grade) == ("submitted", 4)
    assert "Outstanding" in client.get(url).content.decode()  # now a read-only record


def test_stale_edit_shows_the_message_and_keeps_what_was_typed(client, manager, co_manager, our_referral):
    audit = services.audit_start(referral=our_referral, by=manager)
    services.audit_save(
        audit=audit, by=co_manager, grades={"timely": "4"}, evidence={}, revision=1, submit=False
    )
    page = (
        _signed_in(client, manager)
        .post(
            reverse("audit-detail", args=[audit.pk]),
            {"revision": 1, "save": "1", "grade-timely": "1", "evidence-timely": "My careful note"},
        )
        .content.decode()
    )
    assert (
        "Someone else saved this audit since you opened it. "
        "Your changes were not saved: reload to see theirs." in page
    )
    assert "My careful note" in page
    assert Audit.objects.get(pk=audit.pk).revision == 2


def test_second_auditor_page_hides_the_first_grades(client, manager, manager2, submitted_first, our_referral):
    services.second_audit_assign(referral=our_referral, by=manager, manager=manager2)
    _signed_in(client, manager2)
    detail = client.get(reverse("referral-detail", args=[our_referral.pk])).content.decode()
    assert "Good" not in detail  # the first audit's overall grade
    assert reverse("audit-detail", args=[submitted_first.pk]) not in detail
    assert client.get(reverse("audit-detail", args=[submitted_first.pk])).status_code == 404
    assert client.post(reverse("audit-start", args=[our_referral.pk]), {"second": "1"}).status_code == 302
    assert Audit.objects.filter(is_second=True, auditor=manager2).exists()


def test_moderation_list_and_form(client, manager, manager2, submitted_first, our_referral):
    services.second_audit_assign(referral=our_referral, by=manager, manager=manager2)
    second = services.audit_start(referral=our_referral, by=manager2, second=True)
    services.audit_save(
        audit=second, by=manager2, grades=all_grades("3", timely="1"), evidence={}, revision=1, submit=True
    )
    _signed_in(client, manager)
    assert f"Moderate referral {our_referral.pk}" in client.get(reverse("moderation-list")).content.decode()
    url = reverse("moderation-form", args=[our_referral.pk])
    refused = client.post(url, {"overall_grade": "3"}).content.decode()
    assert 'href="#id_grade-timely_0"' in refused
    assert client.post(url, {"overall_grade": "3", "grade-timely": "2", "note": "Agreed"}).status_code == 302
    assert Moderation.objects.get().grades.get().grade == 2
    assert (
        f"Moderate referral {our_referral.pk}" not in client.get(reverse("moderation-list")).content.decode()
    )


def test_lead_sees_coverage_but_not_audits(client, lead, submitted_first, our_referral):
    _signed_in(client, lead)
    page = client.get(reverse("audit-coverage")).content.decode()
    assert "Assessment North" in page and "100%" in page
    assert client.get(reverse("audit-detail", args=[submitted_first.pk])).status_code == 403


def test_audit_import_page_describes_the_evidence_columns_and_warns_against_names(client, manager):
    page = _signed_in(client, manager).get(reverse("import-audits")).content.decode()
    columns = page[page.index("The file needs these columns") :]
    assert "a grade from 1 to 4 in each of: reason_clear," in columns
    assert "optionally, evidence_ followed by a criterion" in columns and "evidence_timely" in columns
    assert "up to 4,000 characters. Evidence must not name the child or family members." in columns


def test_evidence_imported_from_the_page_shows_on_the_audit(client, manager, our_referral):
    header = "referral_id,auditor,audit_date," + ",".join(CODES) + ",evidence_timely,evidence_consent\n"
    row = f"{our_referral.pk},manager,2025-02-01," + ",".join(["3"] * 11) + ',"Same day, by phone",\n'
    upload = SimpleUploadedFile("audits.csv", (header + row).encode(), content_type="text/csv")
    response = _signed_in(client, manager).post(reverse("import-audits"), {"file": upload})
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get(reverse("audit-detail", args=[Audit.objects.get().pk])).content.decode()
    assert "Same day, by phone" in page

    too_long = SimpleUploadedFile(
        "audits.csv", (header + row.replace("Same day", "x" * 4001)).encode(), content_type="text/csv"
    )
    refused = client.post(reverse("import-audits"), {"file": too_long}).content.decode()
    assert "Nothing was imported: 1 problem found" in refused and "evidence_timely" in refused


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "name", ["referral-list", "audits-due", "audit-history", "moderation-list", "audit-coverage"]
)
def test_list_pages_use_a_fixed_number_of_queries(client, manager, manager2, team, name):
    _signed_in(client, manager)

    def add(n):
        for _ in range(n):
            referral = ReferralFactory(staff=StaffMemberFactory(team=team))
            AuditAssignment.objects.create(
                referral=referral, reason="baseline", due_on="2030-01-01", assigned_manager=manager
            )
            audit = services.audit_start(referral=referral, by=manager)
            services.audit_save(
                audit=audit, by=manager, grades=all_grades("3"), evidence={}, revision=1, submit=True
            )
            services.second_audit_assign(referral=referral, by=manager, manager=manager2)
            second = services.audit_start(referral=referral, by=manager2, second=True)
            services.audit_save(
                audit=second, by=manager2, grades=all_grades("2"), evidence={}, revision=1, submit=True
            )

    add(2)
    few = _queries(client, reverse(name))
    add(6)
    assert _queries(client, reverse(name)) == few


def test_navigation_offers_the_manager_pages(client, manager):
    page = _signed_in(client, manager).get(reverse("dashboard")).content.decode()
    for name in ("referral-list", "audits-due", "moderation-list", "audit-coverage"):
        assert re.search(f'href="{reverse(name)}"', page)
