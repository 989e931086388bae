"""The access log is wired into audits, referrals and questionnaire answers: pages, API, exports
and trainees' submissions."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.auth import SignedInClient
from tests.factories import ReferralFactory
from tests.security.world import build_world, grades
from tests.surveys.conftest import answers_for
from training.models import AccessAction, AccessLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def _entries(**filters):
    return list(
        AccessLog.objects.filter(**filters)
        .order_by("pk")
        .values_list("actor__username", "action", "object_type", "object_id")
    )


def _client(user):
    client = SignedInClient()
    client.force_login(user)
    return client


def test_viewing_an_audit_is_logged(world):
    manager = world.users["manager"]
    assert _client(manager).get(f"/audits/{world.audit.pk}/").status_code == 200
    assert _entries(object_type="practice.audit") == [
        ("manager", AccessAction.VIEW, "practice.audit", str(world.audit.pk))
    ]


def test_an_audit_out_of_scope_is_not_logged(world):
    assert _client(world.users["manager_other_team"]).get(f"/audits/{world.audit.pk}/").status_code == 404
    assert not AccessLog.objects.filter(object_type="practice.audit").exists()


def test_saving_and_submitting_an_audit_are_logged(world):
    manager = world.users["manager"]
    referral = ReferralFactory(staff=world.staff, case_reference="NB777001")
    client = _client(manager)
    started = client.post(f"/referrals/{referral.pk}/audit/")
    audit_id = started["Location"].rstrip("/").split("/")[-1]
    form = {"revision": "1", **{f"grade-{code}": "3" for code in grades()}}
    assert client.post(f"/audits/{audit_id}/", {**form, "save": "draft"}).status_code == 302
    assert (
        client.post(f"/audits/{audit_id}/", {**form, "revision": "2", "submit": "submit"}).status_code == 302
    )
    actions = [a for _, a, _, _ in _entries(object_type="practice.audit", object_id=audit_id)]
    assert actions == [AccessAction.CREATE, AccessAction.UPDATE, AccessAction.SUBMIT]


def test_the_audit_and_referral_api_log_reads_and_changes(world):
    manager = world.users["manager"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=manager).key}")
    assert api.get(f"/api/v1/audits/{world.audit.pk}/").status_code == 200
    assert api.get(f"/api/v1/referrals/{world.referral.pk}/").status_code == 200
    assert (
        api.patch(f"/api/v1/referrals/{world.referral.pk}/", {"notes": "Seen"}, format="json").status_code
        == 200
    )
    assert _entries(actor=manager) == [
        ("manager", AccessAction.VIEW, "practice.audit", str(world.audit.pk)),
        ("manager", AccessAction.VIEW, "practice.referral", str(world.referral.pk)),
        ("manager", AccessAction.UPDATE, "practice.referral", str(world.referral.pk)),
    ]


def test_referral_pages_log_views_creations_and_changes(world):
    lead = world.users["lead"]
    client = _client(lead)
    assert client.get(f"/referrals/{world.referral.pk}/").status_code == 200
    assert client.get(f"/referrals/{world.referral.pk}/edit/").status_code == 200
    created = client.post(
        "/referrals/new/",
        {
            "staff": world.staff.pk,
            "made_on": "2025-01-10",
            "case_reference": "NB777002",
            "route": "health",
            "concerns": ["neglect"],
            "outcome": "nfa",
        },
    )
    assert created.status_code == 302
    new_id = created["Location"].rstrip("/").split("/")[-1]
    assert _entries(actor=lead) == [
        ("lead", AccessAction.VIEW, "practice.referral", str(world.referral.pk)),
        ("lead", AccessAction.VIEW, "practice.referral", str(world.referral.pk)),
        ("lead", AccessAction.CREATE, "practice.referral", new_id),
    ]


def test_moderation_view_is_logged(world):
    manager = world.users["manager"]
    assert _client(manager).get(f"/referrals/{world.moderated_referral.pk}/moderate/").status_code == 200
    assert _entries(actor=manager) == [
        ("manager", AccessAction.VIEW, "practice.referral", str(world.moderated_referral.pk))
    ]


def test_results_and_exports_of_responses_are_logged(world):
    trainer = world.users["trainer"]
    client = _client(trainer)
    session = world.session.pk
    assert client.get(f"/sessions/{session}/questionnaires/").status_code == 200
    export = client.get(f"/sessions/{session}/questionnaires/export/long.csv")
    assert export.status_code == 200
    b"".join(export.streaming_content)
    assert client.get(f"/sessions/{session}/questionnaires/export/wide.csv").status_code == 200
    entries = list(
        AccessLog.objects.filter(actor=trainer)
        .order_by("pk")
        .values_list("action", "object_type", "object_id", "summary")
    )
    assert entries == [
        (AccessAction.VIEW, "surveys.response", str(session), "session results"),
        (AccessAction.EXPORT, "surveys.response", str(session), "session export, long"),
        (AccessAction.EXPORT, "surveys.response", str(session), "session export, wide"),
    ]


def test_a_trainee_submission_is_logged_without_a_person(world):
    response = APIClient().post(
        "/api/v1/responses/",
        {"token": world.token, "answers": answers_for(world.administration)},
        format="json",
    )
    assert response.status_code == 201
    [entry] = AccessLog.objects.filter(action=AccessAction.SUBMIT, object_type="surveys.response")
    assert entry.actor is None and entry.summary == ""


def test_a_trainee_submission_on_the_form_is_logged(world):
    page = SignedInClient().post(f"/q/{world.token}/", answers_for(world.administration))
    assert page.status_code == 200
    assert (
        AccessLog.objects.filter(
            action=AccessAction.SUBMIT, object_type="surveys.response", actor=None
        ).count()
        == 1
    )


def _api(user):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


def test_the_audit_schedule_api_logs_reads(world):
    manager = world.users["manager"]
    api = _api(manager)
    assert api.get("/api/v1/audit-schedule/").status_code == 200
    assert api.get(f"/api/v1/audit-schedule/{world.assignment.pk}/").status_code == 200
    assert api.get(f"/api/v1/audit-schedule/{world.theirs['assignment'].pk}/").status_code == 404
    assert _entries(actor=manager) == [
        ("manager", AccessAction.VIEW, "practice.auditassignment", ""),
        ("manager", AccessAction.VIEW, "practice.auditassignment", str(world.assignment.pk)),
    ]


def test_the_administrations_api_logs_reads_of_response_counts(world):
    trainer = world.users["trainer"]
    api = _api(trainer)
    post = world.administration.pk
    assert api.get(f"/api/v1/administrations/?session={world.session.pk}").status_code == 200
    assert api.get(f"/api/v1/administrations/{post}/").status_code == 200
    assert api.get(f"/api/v1/administrations/{post}/response-rate/").status_code == 200
    assert _entries(actor=trainer) == [
        ("trainer", AccessAction.VIEW, "surveys.administration", ""),
        ("trainer", AccessAction.VIEW, "surveys.administration", str(post)),
        ("trainer", AccessAction.VIEW, "surveys.administration", str(post)),
    ]


def test_asking_for_a_second_audit_is_logged(world):
    manager = world.users["manager"]
    second = world.users["manager_other_team"]
    page = _client(manager).post(f"/referrals/{world.referral.pk}/second-audit/", {"manager": second.pk})
    assert page.status_code == 302
    assignment = world.referral.assignments.get(reason="second_audit")
    assert _entries(actor=manager) == [
        ("manager", AccessAction.CREATE, "practice.auditassignment", str(assignment.pk))
    ]


def test_a_refused_second_audit_request_is_not_logged_as_a_change(world):
    manager = world.users["manager"]
    # The first auditor cannot be the second.
    _client(manager).post(f"/referrals/{world.referral.pk}/second-audit/", {"manager": manager.pk})
    assert not world.referral.assignments.filter(reason="second_audit").exists()
    assert _entries(actor=manager) == []


@pytest.mark.parametrize(
    ("path", "object_type"),
    [
        ("/referrals/", "practice.referral"),
        ("/audits/", "practice.audit"),
        ("/audits/due/", "practice.auditassignment"),
        ("/moderation/", "practice.referral"),
    ],
)
def test_list_pages_of_referrals_and_audits_are_logged(world, path, object_type):
    manager = world.users["manager"]
    assert _client(manager).get(path).status_code == 200
    logged = AccessLog.objects.order_by("pk").values_list(
        "actor__username", "action", "object_type", "summary"
    )
    assert list(logged) == [("manager", AccessAction.VIEW, object_type, "list")]


def test_the_admin_logs_views_and_changes_of_referrals_and_audits(world):
    admin = world.users["admin"]
    client = _client(admin)
    assert client.get("/admin/practice/audit/").status_code == 200
    assert client.get(f"/admin/practice/audit/{world.audit.pk}/change/").status_code == 200
    url = f"/admin/practice/referral/{world.referral.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({"staff": world.staff.pk, "concerns": '["neglect"]', "notes": "Checked in the admin"})
    changed = client.post(url, data)
    assert changed.status_code == 302, changed.context["adminform"].form.errors
    assert client.get("/admin/surveys/invitation/").status_code == 200
    assert _entries(actor=admin) == [
        ("admin", AccessAction.VIEW, "practice.audit", ""),
        ("admin", AccessAction.VIEW, "practice.audit", str(world.audit.pk)),
        ("admin", AccessAction.VIEW, "practice.referral", str(world.referral.pk)),
        ("admin", AccessAction.UPDATE, "practice.referral", str(world.referral.pk)),
        ("admin", AccessAction.VIEW, "surveys.invitation", ""),
    ]


def test_imports_of_referrals_and_audits_are_logged(world):
    manager = world.users["manager"]
    client = _client(manager)
    referrals = (
        "work_email,made_on,case_reference,route,concerns,outcome\n"
        f"{world.staff.work_email},2025-01-05,NB700001,police,neglect,nfa\n"
    )
    page = client.post("/imports/referrals/", {"file": SimpleUploadedFile("r.csv", referrals.encode())})
    assert page.status_code == 302
    audits = (
        "work_email,made_on,case_reference,auditor,audit_date," + ",".join(grades()) + "\n"
        f"{world.staff.work_email},2025-01-05,NB700001,manager,2025-02-01,"
        + ",".join(grades().values())
        + "\n"
    )
    page = client.post("/imports/audits/", {"file": SimpleUploadedFile("a.csv", audits.encode())})
    assert page.status_code == 302
    # A file with errors saves nothing, so nothing is logged.
    client.post("/imports/referrals/", {"file": SimpleUploadedFile("bad.csv", b"work_email\nnobody\n")})
    logged = AccessLog.objects.filter(actor=manager).order_by("pk")
    assert list(logged.values_list("action", "object_type", "summary")) == [
        (AccessAction.CREATE, "practice.referral", "import, 1 new, 0 updated"),
        (AccessAction.CREATE, "practice.audit", "import, 1 new, 0 updated"),
    ]
