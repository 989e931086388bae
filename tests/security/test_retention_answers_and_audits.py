"""purge_expired for questionnaire answers (surveys) and referrals with their audits (practice),
with the clock moved past the retention periods: whole units go, in-date ones stay, nothing is left
half-purged, and every purge leaves an access-log entry."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from analysis.frames import selection_from_params
from analysis.reports import impact_report_get
from practice import services as practice_services
from practice.models import Audit, AuditAssignment, Moderation, ModerationGrade, Referral
from surveys import services as survey_services
from surveys.models import Answer, Invitation, InvitationToken, Phase, Response, ScaleScore
from tests.auth import SignedInClient
from tests.factories import AttendanceFactory, ReferralFactory, TrainingSessionFactory
from tests.security.world import build_world
from tests.surveys.conftest import answers_for
from training.models import AccessAction, AccessLog, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def _answer(administration, staff, *, now=None, comment="Helpful"):
    invitation, _ = Invitation.objects.get_or_create(administration=administration, staff=staff)
    values = {**answers_for(administration), "comments": comment}
    return survey_services.invitation_respond(invitation=invitation, values=values, now=now)


def _purge(*args) -> str:
    out = io.StringIO()
    call_command("purge_expired", *args, stdout=out)
    return out.getvalue()


def _answered_session(world, start):
    """A session for the world's staff member, with its pre and post answered."""
    session = TrainingSessionFactory(course=world.course, start=start, end=start + dt.timedelta(hours=6))
    AttendanceFactory(session=session, staff=world.staff)
    administrations = survey_services.administrations_attach(
        session=session, instrument=world.instrument, by=world.users["trainer"], follow_up_offsets=[]
    )
    for administration in administrations:
        answered_at = administration.opens_at + dt.timedelta(hours=1)
        _answer(administration, world.staff, now=answered_at)
    return session


def test_questionnaire_answers_go_by_whole_session_after_the_retention_period(world, settings):
    settings.RETENTION_QUESTIONNAIRE_DAYS = 30
    session = world.session
    pre = session.administrations.get(phase=Phase.PRE)
    _answer(pre, world.staff, now=pre.opens_at + dt.timedelta(hours=1))
    _answer(world.administration, world.staff)  # the post
    follow_up = session.administrations.get(phase=Phase.FOLLOW_UP)
    ours = list(
        Response.objects.filter(invitation__administration__session=session).values_list("pk", flat=True)
    )
    assert len(ours) == 2 and ScaleScore.objects.filter(response__in=ours).exists()
    audit_responses = set(Response.objects.filter(audit__isnull=False).values_list("pk", flat=True))

    # The pre and post closed more than 30 days ago, but the follow-up has not: nothing goes, or the
    # follow-up would have no baseline to compare with.
    with time_machine.travel(world.administration.closes_at + dt.timedelta(days=31), tick=False):
        assert follow_up.closes_at > timezone.now()
        assert "questionnaire answers (surveys): 0 purged" in _purge()
    assert Response.objects.filter(pk__in=ours).count() == 2

    later = follow_up.closes_at + dt.timedelta(days=31)
    with time_machine.travel(later - dt.timedelta(days=5), tick=False):
        recent = _answered_session(world, timezone.now() - dt.timedelta(days=1))
    with time_machine.travel(later, tick=False):
        assert "questionnaire answers (surveys): 2 would be purged" in _purge("--dry-run")
        assert Response.objects.filter(pk__in=ours).count() == 2
        assert "questionnaire answers (surveys): 2 purged" in _purge()

    assert not Response.objects.filter(pk__in=ours).exists()
    assert not Answer.objects.filter(response__in=ours).exists()
    assert not ScaleScore.objects.filter(response__in=ours).exists()
    assert not Invitation.objects.filter(administration__session=session).exists()
    assert not InvitationToken.objects.filter(invitation__administration__session=session).exists()
    assert session.administrations.count() == 3  # which questionnaire, when: nothing personal
    # In date: the recent session's answers, and the audits' rubric answers (practice's to purge).
    assert Response.objects.filter(invitation__administration__session=recent).count() == 2
    assert set(Response.objects.filter(audit__isnull=False).values_list("pk", flat=True)) == audit_responses
    [entry] = AccessLog.objects.filter(action=AccessAction.DELETE, object_type="surveys.response")
    assert (entry.actor, entry.object_id, entry.summary) == (
        None,
        str(session.pk),
        "retention purge, responses: 2",
    )
    assert entry.at == later

    # The session's results page still works, showing no answers.
    client = SignedInClient()
    client.force_login(world.users["trainer"])
    assert client.get(f"/sessions/{session.pk}/questionnaires/").status_code == 200


def test_referrals_go_with_all_their_audits_after_the_retention_period(world, settings):
    settings.RETENTION_AUDIT_DAYS = 365
    start = timezone.now()
    manager = world.users["manager"]
    moderated = world.moderated_referral
    practice_services.moderation_record(
        referral=moderated, by=manager, grades={"timely": 2}, overall_grade=3, note="Agreed"
    )
    long_ago = ReferralFactory(staff=world.staff, made_on=timezone.localdate() - dt.timedelta(days=400))
    audited = [world.referral, moderated]
    audit_responses = list(Audit.objects.filter(referral__in=audited).values_list("response_id", flat=True))
    assert len(audit_responses) == 3

    assert "referrals and their audits (practice): 1 purged" in _purge()
    assert not Referral.objects.filter(pk=long_ago.pk).exists()

    # Made over a year ago by then, but audited within the year: kept as long as its audits.
    with time_machine.travel(start + dt.timedelta(days=300), tick=False):
        assert "referrals and their audits (practice): 0 purged" in _purge()
    assert Referral.objects.filter(pk__in=[r.pk for r in audited]).count() == 2

    with time_machine.travel(start + dt.timedelta(days=400), tick=False):
        fresh = ReferralFactory(staff=world.staff, made_on=timezone.localdate() - dt.timedelta(days=10))
        # The world's two and the other organisation's referral, each audited or drafted at the start.
        assert "referrals and their audits (practice): 3 purged" in _purge()

    assert list(Referral.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not Audit.objects.exists()
    assert not Moderation.objects.exists() and not ModerationGrade.objects.exists()
    assert not AuditAssignment.objects.exists()
    assert not Response.objects.filter(pk__in=audit_responses).exists()
    assert not Answer.objects.filter(response__in=audit_responses).exists()
    assert not ScaleScore.objects.filter(response__in=audit_responses).exists()
    logged = dict(
        AccessLog.objects.filter(action=AccessAction.DELETE, object_type="practice.referral").values_list(
            "object_id", "summary"
        )
    )
    assert logged[str(long_ago.pk)] == "retention purge, audits: 0"
    assert logged[str(moderated.pk)] == "retention purge, audits: 2"
    assert logged[str(world.referral.pk)] == "retention purge, audits: 1"


def test_after_a_purge_of_the_demo_nothing_is_orphaned_and_the_report_still_works(settings):
    call_command("seed_demo", "--seed", "2014", stdout=io.StringIO())
    settings.RETENTION_QUESTIONNAIRE_DAYS = 365
    settings.RETENTION_AUDIT_DAYS = 365
    referrals, responses = Referral.objects.count(), Response.objects.count()

    _purge()

    cutoff = timezone.localdate() - dt.timedelta(days=365)
    assert 0 < Referral.objects.count() < referrals
    assert 0 < Response.objects.count() < responses
    # Every response left belongs to a questionnaire invitation or an audit; no audit lost its pair.
    assert not Response.objects.filter(invitation__isnull=True, audit__isnull=True).exists()
    assert not Referral.objects.filter(made_on__lt=cutoff, audits__isnull=True).exists()
    assert not Moderation.objects.exclude(referral__audits__is_second=True).exists()
    lead = User.objects.get(username="lead")
    report = impact_report_get(
        user=lead, selection=selection_from_params(user=lead, params={}), use_cache=False
    )
    assert report.section("practice") is not None
    assert report.section("learning") is not None
