"""The practice API: scope (404 outside it), write-only case references, labels for the team only,
revision-checked audit saves (409), blind second audits, rubrics and the schedule."""

import pytest

from practice import services
from practice.models import AuditAssignment, Referral
from tests.factories import ReferralFactory
from tests.practice.conftest import all_grades

pytestmark = pytest.mark.django_db


def test_manager_sees_only_their_own_teams_referrals(api_as, manager, our_referral, their_referral):
    api = api_as(manager)
    assert [r["id"] for r in api.get("/api/v1/referrals/").json()["results"]] == [our_referral.pk]
    assert api.get(f"/api/v1/referrals/{their_referral.pk}/").status_code == 404
    assert (
        api.patch(f"/api/v1/referrals/{their_referral.pk}/", {"outcome": "nfa"}, format="json").status_code
        == 404
    )


def test_local_label_is_shown_only_to_the_teams_managers(api_as, manager, lead, our_staff):
    referral = ReferralFactory(staff=our_staff, local_label="Our ref 17")
    assert api_as(manager).get(f"/api/v1/referrals/{referral.pk}/").json()["local_label"] == "Our ref 17"
    assert api_as(lead).get(f"/api/v1/referrals/{referral.pk}/").json()["local_label"] is None


def test_creating_a_referral_sets_only_the_listed_fields(api_as, manager, our_staff):
    response = api_as(manager).post(
        "/api/v1/referrals/",
        {
            "staff": our_staff.pk,
            "made_on": "2025-02-01",
            "case_reference": "NB300001",
            "route": "police",
            "concerns": ["cse"],
            "outcome": "accepted",
            "is_rereferral": True,  # computed, not settable
            "case_hash": "0" * 64,  # never settable
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert "case_reference" not in body and "case_hash" not in body
    referral = Referral.objects.get(pk=body["id"])
    assert referral.is_rereferral is False
    assert referral.exploitation_flag is True  # CSE always carries the flag
    assert referral.case_hash != "0" * 64


def test_cannot_record_a_referral_for_another_teams_staff(api_as, manager, their_staff):
    response = api_as(manager).post(
        "/api/v1/referrals/",
        {
            "staff": their_staff.pk,
            "made_on": "2025-02-01",
            "case_reference": "NB300002",
            "route": "police",
            "concerns": ["neglect"],
            "outcome": "nfa",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "staff" in response.json()


def test_partial_update_keeps_the_case_reference(api_as, manager, our_referral):
    before = our_referral.case_hash
    response = api_as(manager).patch(
        f"/api/v1/referrals/{our_referral.pk}/", {"outcome": "nfa"}, format="json"
    )
    assert response.status_code == 200, response.content
    our_referral.refresh_from_db()
    assert (our_referral.outcome, our_referral.case_hash) == ("nfa", before)


def test_audit_save_with_a_stale_revision_is_409_and_changes_nothing(
    api_as, manager, co_manager, our_referral
):
    created = api_as(manager).post("/api/v1/audits/", {"referral": our_referral.pk}, format="json")
    assert created.status_code == 201, created.content
    audit_id, revision = created.json()["id"], created.json()["revision"]
    first = api_as(co_manager).put(
        f"/api/v1/audits/{audit_id}/", {"revision": revision, "grades": {"timely": "4"}}, format="json"
    )
    assert first.status_code == 200, first.content
    stale = api_as(manager).put(
        f"/api/v1/audits/{audit_id}/", {"revision": revision, "grades": {"timely": "1"}}, format="json"
    )
    assert stale.status_code == 409
    assert "Someone else saved this audit" in stale.json()["detail"]
    body = api_as(manager).get(f"/api/v1/audits/{audit_id}/").json()
    assert body["revision"] == revision + 1
    assert body["criteria"] == [{"criterion": "timely", "grade": "4", "evidence": ""}]


def test_audit_evidence_longer_than_the_form_allows_is_refused_and_nothing_changes(
    api_as, manager, our_referral
):
    from practice.services import EVIDENCE_MAX_LENGTH

    api = api_as(manager)
    audit = api.post("/api/v1/audits/", {"referral": our_referral.pk}, format="json").json()
    too_long = api.put(
        f"/api/v1/audits/{audit['id']}/",
        {
            "revision": audit["revision"],
            "grades": {"timely": "3"},
            "evidence": {"timely": "x" * (EVIDENCE_MAX_LENGTH + 1)},
        },
        format="json",
    )
    assert too_long.status_code == 400
    assert "evidence" in too_long.json()
    assert api.get(f"/api/v1/audits/{audit['id']}/").json()["revision"] == audit["revision"]


def test_audit_submit_through_the_api(api_as, manager, our_referral):
    api = api_as(manager)
    audit = api.post("/api/v1/audits/", {"referral": our_referral.pk}, format="json").json()
    response = api.put(
        f"/api/v1/audits/{audit['id']}/",
        {
            "revision": audit["revision"],
            "grades": all_grades("2"),
            "evidence": {"consent": "Not recorded."},
            "submit": True,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["overall_grade"], body["score_0_100"]) == (
        "submitted",
        2,
        pytest.approx(33.33),
    )
    incomplete = api.put(
        f"/api/v1/audits/{audit['id']}/", {"revision": body["revision"], "submit": True}, format="json"
    )
    assert incomplete.status_code == 400


def test_blind_second_auditor_gets_404_for_the_first_audit(
    api_as, submitted_first, our_referral, manager, manager2
):
    services.second_audit_assign(referral=our_referral, by=manager, manager=manager2)
    api = api_as(manager2)
    second = api.post("/api/v1/audits/", {"referral": our_referral.pk, "is_second": True}, format="json")
    assert second.status_code == 201, second.content
    assert api.get(f"/api/v1/audits/{submitted_first.pk}/").status_code == 404
    assert [a["id"] for a in api.get("/api/v1/audits/").json()["results"]] == [second.json()["id"]]
    # The referral itself is visible to the second auditor, but without the team's label.
    assert api.get(f"/api/v1/referrals/{our_referral.pk}/").json()["local_label"] is None
    api.put(
        f"/api/v1/audits/{second.json()['id']}/",
        {"revision": second.json()["revision"], "grades": all_grades("2"), "submit": True},
        format="json",
    )
    assert api.get(f"/api/v1/audits/{submitted_first.pk}/").status_code == 200


def test_lead_sees_no_individual_audits(api_as, lead, submitted_first):
    assert api_as(lead).get("/api/v1/audits/").json()["count"] == 0


def test_rubric_is_readable_with_descriptors(api_as, manager):
    [rubric] = api_as(manager).get("/api/v1/rubrics/").json()["results"]
    items = rubric["versions"][0]["items"]
    assert len(items) == 11
    assert [o["label"] for o in items[0]["options"]] == [
        "Outstanding",
        "Good",
        "Requires improvement",
        "Inadequate",
    ]
    assert all(o["descriptor"] for item in items for o in item["options"])


def test_rubrics_are_read_only(api_as, admin_user):
    assert api_as(admin_user).post("/api/v1/rubrics/", {}, format="json").status_code == 405


def test_schedule_is_scoped(api_as, manager, manager2, our_referral, their_referral):
    for referral in (our_referral, their_referral):
        AuditAssignment.objects.create(referral=referral, reason="baseline", due_on="2030-01-01")
    assert [a["referral"] for a in api_as(manager).get("/api/v1/audit-schedule/").json()["results"]] == [
        our_referral.pk
    ]


def test_second_audit_request_needs_a_manager_of_the_organisation(manager, far_manager, our_referral):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.second_audit_assign(referral=our_referral, by=manager, manager=far_manager)
