"""Export and erasure of one staff member's questionnaire responses (surveys) and referrals with the
audits of them (practice), keeping anonymous questionnaires' promise and children's data out."""

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from practice import services as practice_services
from practice.models import Audit, Moderation
from surveys import services as survey_services
from surveys.models import Answer, Invitation, Phase, ScaleScore
from tests.auth import SignedInClient
from tests.factories import AttendanceFactory, ReferralFactory, TrainingSessionFactory
from tests.security.world import build_world, grades
from tests.surveys.conftest import answers_for

pytestmark = pytest.mark.django_db

EMAIL = "alex@council.example"


@pytest.fixture
def world():
    return build_world()


def _answer(administration, staff, comment):
    invitation, _ = Invitation.objects.get_or_create(administration=administration, staff=staff)
    values = {**answers_for(administration), "comments": comment}
    return survey_services.invitation_respond(invitation=invitation, values=values)


@pytest.fixture
def answered(world):
    """Alex answered the world's named post questionnaire, and an anonymous one of another session."""
    _answer(world.administration, world.staff, "As the only Welsh speaker in North I found it useful")
    start = timezone.now() - dt.timedelta(days=1)
    session = TrainingSessionFactory(course=world.course, start=start, end=start + dt.timedelta(hours=6))
    AttendanceFactory(session=session, staff=world.staff)
    administrations = survey_services.administrations_attach(
        session=session,
        instrument=world.instrument,
        by=world.users["trainer"],
        follow_up_offsets=[],
        anonymous=True,
    )
    post = next(a for a in administrations if a.phase == Phase.POST)
    _answer(post, world.staff, "Anonymously I think the trainer rushed")
    return world


def _export(tmp_path) -> tuple[dict, str]:
    out = tmp_path / "export.json"
    call_command("staff_data", "export", "--email", EMAIL, "--output", str(out))
    text = out.read_text()
    return json.loads(text), text


def test_export_holds_named_answers_but_not_anonymous_ones(answered, tmp_path):
    data, text = _export(tmp_path)
    entries = data["questionnaire responses (surveys)"]
    [named] = [e for e in entries if not e["anonymous"]]
    assert named["questionnaire"] == "After the session" and named["answered_at"]
    assert any(a["answer"].startswith("As the only Welsh speaker") for a in named["answers"])
    assert named["scores"] and all(isinstance(v, float | None) for v in named["scores"].values())
    [anonymous] = [e for e in entries if e["anonymous"]]
    # Only that they were invited, which the attendance list shows anyway: not whether, when or
    # what they answered, nor how often they were reminded.
    assert set(anonymous) == {"course", "session_start", "questionnaire", "anonymous", "note"}
    assert "rushed" not in text


def test_erasure_blanks_free_text_everywhere_and_keeps_scores(answered, tmp_path):
    responses = [i.response for i in Invitation.objects.filter(staff=answered.staff, response__isnull=False)]
    assert len(responses) == 2
    scores = ScaleScore.objects.filter(response__in=responses).count()
    values = list(Answer.objects.filter(response__in=responses).exclude(value="").values_list("pk", "value"))

    call_command("staff_data", "erase", "--email", EMAIL)

    assert not Answer.objects.filter(response__in=responses).exclude(text="").exists()
    assert ScaleScore.objects.filter(response__in=responses).count() == scores
    assert (
        list(Answer.objects.filter(response__in=responses).exclude(value="").values_list("pk", "value"))
        == values
    )


@pytest.fixture
def audited(world):
    """A referral of Alex's with evidence comments and notes about the child, and a moderated one."""
    manager = world.users["manager"]
    referral = ReferralFactory(
        staff=world.staff,
        case_reference="NB900003",
        local_label="LBL-4471",
        notes="Child at Riverside Primary",
    )
    audit = practice_services.audit_start(referral=referral, by=manager)
    practice_services.audit_save(
        audit=audit,
        by=manager,
        grades=grades("3", timely="2"),
        evidence={"timely": "Alex sent it two days late"},
        revision=audit.revision,
        submit=True,
    )
    practice_services.moderation_record(
        referral=world.moderated_referral,
        by=manager,
        grades={"timely": 2},
        overall_grade=3,
        note="Alex agreed it was late",
    )
    return referral


def test_export_holds_referrals_and_their_audits_without_the_childs_details(world, audited, tmp_path):
    data, text = _export(tmp_path)
    referrals = {r["id"]: r for r in data["referrals and their audits (practice)"]}
    assert set(referrals) == {world.referral.pk, world.moderated_referral.pk, audited.pk}
    [audit] = referrals[audited.pk]["audits"]
    assert audit["overall_grade"] and audit["score_0_100"] is not None
    assert any(c["grade"] == "2" and c["evidence"] == "Alex sent it two days late" for c in audit["criteria"])
    moderated = referrals[world.moderated_referral.pk]
    assert [a["second_audit"] for a in moderated["audits"]] == [False, True]
    assert moderated["moderated_grade"] == "Good"
    for childs in (audited.case_hash, "LBL-4471", "Riverside", "NB900003"):
        assert childs not in text


def test_erasure_blanks_comments_about_their_work_and_keeps_grades(world, audited):
    audit = Audit.objects.get(referral=audited)
    grade, score = audit.overall_grade, audit.score_0_100

    call_command("staff_data", "erase", "--email", EMAIL)

    assert not Answer.objects.filter(response__audit__referral__staff=world.staff).exclude(text="").exists()
    assert Moderation.objects.get(referral=world.moderated_referral).note == ""
    audit.refresh_from_db()
    assert (audit.overall_grade, audit.score_0_100) == (grade, score)
    assert Answer.objects.get(response=audit.response, item__code="timely").value == "2"


def test_the_admin_does_not_show_who_answered_an_anonymous_questionnaire(answered):
    client = SignedInClient()
    client.force_login(answered.users["admin"])
    listing = client.get("/admin/surveys/invitation/").content.decode()
    # Both were answered: the named one says so, the anonymous one shows neither yes nor no.
    assert listing.count("icon-yes.svg") == 1 and listing.count("icon-unknown.svg") == 1
    assert "icon-no.svg" not in listing
    anonymous = Invitation.objects.get(administration__anonymous=True)
    page = client.get(f"/admin/surveys/invitation/{anonymous.pk}/change/").content.decode()
    assert "not shown (anonymous)" in page
