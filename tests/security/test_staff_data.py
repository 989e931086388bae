"""Export and erasure of one staff member's data on request."""

import json

import pytest
from django.core.management import call_command

from tests.factories import AttendanceFactory, UserFactory
from training.models import AccessLog, Attendance, StaffMember

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(our_staff):
    AttendanceFactory(staff=our_staff, status="attended")
    our_staff.user = UserFactory(
        username="alex", first_name="Alex", last_name="Ours", email="alex@council.example"
    )
    our_staff.save()
    return our_staff


def test_export_writes_everything_held_about_the_person(person, tmp_path):
    out = tmp_path / "alex.json"
    call_command("staff_data", "export", "--email", "ALEX@council.example", "--output", str(out))
    data = json.loads(out.read_text())
    assert data["staff record (training)"]["name"] == "Alex Ours"
    assert data["staff record (training)"]["user_account"] == "alex"
    assert len(data["attendance (training)"]) == 1
    assert AccessLog.objects.filter(action="export", object_id=str(person.pk)).exists()


def test_erase_leaves_no_name_or_email_anywhere(person):
    account = person.user
    call_command("staff_data", "erase", "--email", "alex@council.example")
    person.refresh_from_db()
    assert person.user is None
    assert not StaffMember.objects.filter(name__icontains="Alex").exists()
    assert not StaffMember.objects.filter(work_email__icontains="alex").exists()
    account.refresh_from_db()
    assert not account.is_active and not account.has_usable_password()
    assert "alex" not in (account.username + account.first_name + account.last_name + account.email).lower()
    assert Attendance.objects.filter(staff=person).count() == 1  # aggregate-safe rows stay
    assert AccessLog.objects.filter(action="delete", object_id=str(person.pk)).exists()


def test_unknown_email_is_an_error(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("staff_data", "erase", "--email", "nobody@council.example")


def test_administrators_export_and_erase_from_the_admin(client, admin_user, person):
    client.force_login(admin_user)
    url = "/admin/training/staffmember/"
    exported = client.post(url, {"action": "export_data", "_selected_action": [person.pk]})
    assert json.loads(exported.content)[0]["staff record (training)"]["work_email"] == "alex@council.example"

    confirm = client.post(url, {"action": "erase_data", "_selected_action": [person.pk]})
    assert "cannot be undone" in confirm.content.decode()
    person.refresh_from_db()
    assert person.name == "Alex Ours"  # nothing happens before confirmation

    client.post(url, {"action": "erase_data", "_selected_action": [person.pk], "confirmed": "yes"})
    person.refresh_from_db()
    assert person.name.startswith("Erased person")
