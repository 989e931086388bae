"""purge_expired: each registered purger, with the clock moved past the retention periods."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from tests.factories import AttendanceFactory, StaffMemberFactory, TrainingSessionFactory
from training.access_log import access_log_record
from training.models import AccessLog, SignInFailure, StaffMember

pytestmark = pytest.mark.django_db


@pytest.fixture
def leaver(team):
    person = StaffMemberFactory(team=team, name="Lee Leaver", work_email="lee@council.example", active=False)
    session = TrainingSessionFactory(start=timezone.now() - dt.timedelta(days=30))
    AttendanceFactory(session=session, staff=person, status="attended")
    return person


def test_leavers_are_anonymised_after_the_retention_period(leaver, our_staff, settings, capsys):
    settings.RETENTION_LEAVER_DAYS = 365
    call_command("purge_expired")
    leaver.refresh_from_db()
    assert leaver.name == "Lee Leaver"  # their last training is recent

    with time_machine.travel(timezone.now() + dt.timedelta(days=400)):
        call_command("purge_expired", "--dry-run")
        assert "leavers anonymised (training): 1 would be purged" in capsys.readouterr().out
        leaver.refresh_from_db()
        assert leaver.name == "Lee Leaver"
        call_command("purge_expired")
    leaver.refresh_from_db()
    assert "Lee" not in leaver.name and "lee@" not in leaver.work_email
    assert leaver.attendances.count() == 1  # the aggregate-safe row stays
    our_staff.refresh_from_db()
    assert our_staff.name == "Alex Ours"  # active staff are never purged


def test_access_log_entries_go_after_their_retention_period(our_staff, manager, settings):
    settings.RETENTION_ACCESS_LOG_DAYS = 30
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        access_log_record(user=manager, action="view", obj=our_staff)
    with time_machine.travel(start + dt.timedelta(days=20), tick=False):
        access_log_record(user=manager, action="view", obj=our_staff)
    with time_machine.travel(start + dt.timedelta(days=31), tick=False):
        call_command("purge_expired", "--dry-run")
        assert AccessLog.objects.count() == 2
        call_command("purge_expired")
    assert AccessLog.objects.count() == 1


def test_old_sign_in_failures_are_removed(client):
    client.post("/accounts/login/", {"username": "someone", "password": "wrong"})
    assert SignInFailure.objects.count() == 1
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        call_command("purge_expired")
    assert not SignInFailure.objects.exists()


def test_other_apps_register_their_purgers(monkeypatch, capsys):
    from training import retention

    monkeypatch.setattr(retention, "_PURGERS", dict(retention._PURGERS))
    calls = []

    def purge(*, now, dry_run):
        calls.append(dry_run)
        return 7

    retention.register_purger("questionnaire answers (surveys)", purge)
    call_command("purge_expired", "--dry-run")
    assert calls == [True]
    assert "questionnaire answers (surveys): 7 would be purged" in capsys.readouterr().out
    assert StaffMember.objects.count() == 0
