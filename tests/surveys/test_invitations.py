"""Invitations by email with hashed single-use links, and reminders that never duplicate."""

import datetime as dt
import hashlib
import io

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from surveys import services
from surveys.models import Invitation, InvitationToken, Phase
from tests.surveys.conftest import answers_for, tokens_from_outbox
from training.models import AttendanceStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(make_session, attach):
    session = make_session(people=3)
    return next(a for a in attach(session) if a.phase == Phase.POST)


def test_sending_invites_each_attendee_once_with_a_link(post):
    assert services.invitations_send(administration=post) == 3
    assert len(mail.outbox) == 3
    assert services.invitations_send(administration=post) == 0  # idempotent
    call_command("send_invitations", stdout=io.StringIO())
    assert len(mail.outbox) == 3
    message = mail.outbox[0]
    assert "Questionnaire about" in message.subject
    assert "names of children" in message.body
    assert "/opt-out/" in message.body


def test_only_a_digest_of_the_token_is_stored(post):
    services.invitations_send(administration=post)
    tokens = tokens_from_outbox()
    stored = set(InvitationToken.objects.values_list("digest", flat=True))
    for token in tokens.values():
        assert len(token) >= 43  # 32 random bytes
        assert token not in stored
        assert hashlib.sha256(token.encode()).hexdigest() in stored


def test_pre_invites_booked_people_and_post_only_those_who_attended(make_session, attach):
    session = make_session(
        start=timezone.now() + dt.timedelta(days=3), people=2, status=AttendanceStatus.BOOKED
    )
    pre, post, *_ = attach(session)
    services.invitations_create(administration=pre)
    services.invitations_create(administration=post)
    assert pre.invitations.count() == 2
    assert post.invitations.count() == 0


def test_closed_and_unopened_questionnaires_send_nothing(post):
    with time_machine.travel(post.closes_at + dt.timedelta(minutes=1)):
        assert services.invitations_send(administration=post) == 0
    with time_machine.travel(post.opens_at - dt.timedelta(minutes=1)):
        assert services.invitations_send(administration=post) == 0
    assert mail.outbox == []


def _sent(post):
    services.invitations_send(administration=post)
    mail.outbox.clear()
    return post.opens_at


def test_reminders_wait_the_interval_and_stop_at_the_maximum(post, settings):
    settings.SURVEY_MAX_REMINDERS = 2
    settings.SURVEY_REMINDER_INTERVAL_DAYS = 3
    with time_machine.travel(post.opens_at + dt.timedelta(hours=1), tick=False):
        _sent(post)
        assert services.reminders_send() == 0  # too soon after the invitation
    with time_machine.travel(post.opens_at + dt.timedelta(days=3, hours=2), tick=False):
        assert services.reminders_send() == 3
        assert services.reminders_send() == 0  # cron again, same minute: no duplicates
        assert services.reminders_send() == 0
    with time_machine.travel(post.opens_at + dt.timedelta(days=5), tick=False):
        assert services.reminders_send() == 0  # not yet three days since the first reminder
    with time_machine.travel(post.opens_at + dt.timedelta(days=6, hours=3), tick=False):
        assert services.reminders_send() == 3
    with time_machine.travel(post.opens_at + dt.timedelta(days=12), tick=False):
        assert services.reminders_send() == 0  # two reminders is the maximum
    assert len(mail.outbox) == 6
    assert all(m.subject.startswith("Reminder:") for m in mail.outbox)
    assert set(Invitation.objects.values_list("reminder_count", flat=True)) == {2}


def test_no_reminders_after_close_to_opted_out_or_to_people_who_answered(post, settings):
    settings.SURVEY_REMINDER_INTERVAL_DAYS = 1
    with time_machine.travel(post.opens_at + dt.timedelta(hours=1), tick=False):
        _sent(post)
        first, second, third = Invitation.objects.select_related("administration__version").order_by("pk")
        services.invitation_opt_out(invitation=first)
        services.invitation_respond(invitation=second, values=answers_for(post))
    with time_machine.travel(post.closes_at + dt.timedelta(hours=1), tick=False):
        assert services.reminders_send() == 0  # closed
    with time_machine.travel(post.opens_at + dt.timedelta(days=2), tick=False):
        call_command("send_reminders", stdout=io.StringIO())
    assert [m.to[0] for m in mail.outbox] == [third.staff.work_email]


def test_a_reminder_link_and_the_original_link_both_work_until_answered(post, settings, client):
    settings.SURVEY_REMINDER_INTERVAL_DAYS = 1
    with time_machine.travel(post.opens_at + dt.timedelta(hours=1), tick=False):
        services.invitations_send(administration=post)
        original = tokens_from_outbox()
    with time_machine.travel(post.opens_at + dt.timedelta(days=2), tick=False):
        services.reminders_send()
        reminder = tokens_from_outbox()
        email = next(iter(original))
        assert original[email] != reminder[email]
        assert client.get(f"/q/{original[email]}/").status_code == 200
        client.post(f"/q/{reminder[email]}/", answers_for(post))
        body = client.get(f"/q/{original[email]}/").content.decode()
    assert "You have already answered this questionnaire. Thank you." in body


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_reminder_runs_send_each_reminder_once(post, settings):
    """Two cron runs at the same moment: the conditional UPDATE lets only one claim each reminder."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL")
    settings.SURVEY_REMINDER_INTERVAL_DAYS = 1
    when = post.opens_at + dt.timedelta(days=2)
    services.invitations_send(administration=post, now=post.opens_at)
    mail.outbox.clear()

    def run(_):
        try:
            return services.reminders_send(now=when)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = list(pool.map(run, range(4)))
    assert sum(counts) == 3
    assert len(mail.outbox) == 3
