"""The append-only access log: views and changes are recorded; nothing can rewrite them."""

import csv
import io

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from training.access_log import access_log_record
from training.models import AccessAction, AccessLog, AppendOnlyError

pytestmark = pytest.mark.django_db


def test_viewing_a_staff_page_is_logged(client, manager, our_staff):
    client.force_login(manager)
    response = client.get(f"/staff/{our_staff.pk}/", REMOTE_ADDR="192.0.2.44")
    assert response.status_code == 200
    entry = AccessLog.objects.get()
    assert (entry.actor, entry.action, entry.object_type, entry.object_id) == (
        manager,
        AccessAction.VIEW,
        "training.staffmember",
        str(our_staff.pk),
    )
    assert entry.ip_address == "192.0.2.44"
    assert entry.path == f"/staff/{our_staff.pk}/"


def test_an_out_of_scope_attempt_is_not_logged_as_a_view(client, manager, their_staff):
    client.force_login(manager)
    assert client.get(f"/staff/{their_staff.pk}/").status_code == 404
    assert not AccessLog.objects.exists()


def test_the_staff_api_logs_retrieve_and_list(api_as, manager, our_staff):
    api = api_as(manager)
    assert api.get(f"/api/v1/staff/{our_staff.pk}/").status_code == 200
    assert api.get("/api/v1/staff/").status_code == 200
    entries = list(AccessLog.objects.order_by("id").values_list("action", "object_id", "summary"))
    assert entries == [("view", str(our_staff.pk), ""), ("view", "", "list")]


def test_the_staff_api_logs_changes(api_as, lead, team):
    response = api_as(lead).post(
        "/api/v1/staff/",
        {
            "name": "New Person",
            "work_email": "new@council.example",
            "profession": "social_worker",
            "team": team.pk,
        },
    )
    assert response.status_code == 201
    entry = AccessLog.objects.get()
    assert (entry.action, entry.object_id) == ("create", str(response.data["id"]))


def test_an_entry_cannot_be_changed_or_deleted_through_django(our_staff, manager):
    entry = access_log_record(user=manager, action="view", obj=our_staff)
    entry.summary = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(pk=entry.pk).update(summary="rewritten")
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.all().delete()
    assert AccessLog.objects.get().summary == ""


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "sql", ["UPDATE training_accesslog SET summary = 'x'", "DELETE FROM training_accesslog"]
)
def test_postgresql_trigger_rejects_raw_sql(our_staff, manager, sql):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only; SQLite relies on the model's guard")
    access_log_record(user=manager, action="view", obj=our_staff)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AccessLog.objects.count() == 1


def test_the_admin_shows_the_log_read_only_and_exports_csv(client, admin_user, our_staff, manager):
    access_log_record(user=manager, action="view", obj=our_staff, summary="=HYPERLINK(1)")
    client.force_login(admin_user)
    assert client.get("/admin/training/accesslog/").status_code == 200
    assert client.get("/admin/training/accesslog/?action__exact=view").status_code == 200
    assert client.get("/admin/training/accesslog/add/").status_code == 403
    entry = AccessLog.objects.get()
    assert client.post(f"/admin/training/accesslog/{entry.pk}/delete/").status_code == 403

    response = client.post(
        "/admin/training/accesslog/", {"action": "export_csv", "_selected_action": [entry.pk]}
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["at", "actor", "action"]
    assert rows[1][1:5] == ["manager", "view", "training.staffmember", str(our_staff.pk)]
    assert rows[1][5] == "'=HYPERLINK(1)"  # neutralised for spreadsheets
    # The export is itself logged.
    assert AccessLog.objects.filter(action="export", actor=admin_user).exists()


def test_only_administrators_read_the_log(client, lead):
    lead.is_staff = True
    lead.save()
    client.force_login(lead)
    # The admin is opened by the administrator role, not is_staff: anyone else is sent to sign in.
    refused = client.get("/admin/training/accesslog/")
    assert refused.status_code == 302
    assert refused["Location"].startswith("/admin/login/")
