"""Case references: a keyed hash is stored, and the clear reference is found nowhere, not in any
table of the database nor in the logs, whichever way referrals arrive."""

import logging

import pytest
from django.db import connection
from django.urls import reverse

from practice import imports, services
from practice.hashing import case_reference_hash, normalise_case_reference
from practice.models import Referral
from tests.factories import UserFactory
from tests.practice.conftest import CODES

pytestmark = pytest.mark.django_db

CLEAR = ["NB900001", "NB900002", "NB900003", "NB900004", "NB900005", "NB900006", "NB900007"]


def test_normalising_makes_typing_variants_the_same_child():
    assert normalise_case_reference("  nb 90 0001\t") == "NB900001"
    assert case_reference_hash("nb900001") == case_reference_hash("NB 900001 ")
    assert len(case_reference_hash("NB900001")) == 64


def test_the_hash_depends_on_the_secret_key(settings):
    before = case_reference_hash("NB900001")
    settings.CASE_REFERENCE_HASH_KEY = "another-key"
    assert case_reference_hash("NB900001") != before


def test_a_malformed_reference_is_refused_without_repeating_it():
    with pytest.raises(ValueError) as error:
        case_reference_hash("NB<90>")
    assert "NB<90>" not in str(error.value)


def _every_stored_value():
    """Every value in every column of every table, as text."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")  # noqa: S608 - names from introspection
            for row in cursor.fetchall():
                for value in row:
                    if value is not None:
                        yield table, str(value)


def test_no_clear_case_reference_anywhere_in_the_database_or_logs(client, api_as, manager, our_staff, caplog):
    caplog.set_level(logging.DEBUG)
    # 1. the service
    services.referral_create(
        by=manager,
        staff=our_staff,
        made_on=our_staff.start_date_in_role,
        route="police",
        concerns=["cse"],
        outcome="accepted",
        case_reference=CLEAR[0],
    )
    # 2. the page, including a failed attempt that redisplays the form
    client.force_login(manager)
    form = {
        "staff": our_staff.pk,
        "made_on": "2025-01-10",
        "case_reference": CLEAR[1],
        "route": "health",
        "concerns": ["neglect"],
        "outcome": "nfa",
        "notes": "",
    }
    refused = client.post(reverse("referral-create"), {**form, "outcome": ""})
    assert refused.content.decode().count(CLEAR[1]) == 1  # only in the field the user typed it in
    assert client.post(reverse("referral-create"), form).status_code == 302
    # 2b. the edit page, giving that referral another reference, again after a refused attempt
    edited = Referral.objects.get(case_hash=case_reference_hash(CLEAR[1]))
    edit_url = reverse("referral-edit", args=[edited.pk])
    edit = {name: value for name, value in form.items() if name != "staff"} | {"case_reference": CLEAR[6]}
    refused = client.post(edit_url, {**edit, "outcome": ""})
    assert refused.status_code == 200
    assert refused.content.decode().count(CLEAR[6]) == 1  # only in the field the user typed it in
    assert client.post(edit_url, edit).status_code == 302
    edited.refresh_from_db()
    assert edited.case_hash == case_reference_hash(CLEAR[6])  # the edit took the new reference
    # 3. the API
    api = api_as(manager)
    response = api.post(
        "/api/v1/referrals/",
        {
            "staff": our_staff.pk,
            "made_on": "2025-02-01",
            "case_reference": CLEAR[2],
            "route": "school",
            "concerns": ["online_harm"],
            "outcome": "early_help",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert CLEAR[2] not in response.content.decode()
    # 4. the imports, with a bad file first (its errors must not repeat references)
    bad = imports.referral_import(
        data=f"work_email,made_on,case_reference,route,concerns,outcome\nnobody@x.example,2025-01-01,{CLEAR[3]},police,neglect,nfa\n",
        by=manager,
    )
    assert not bad.ok and all(CLEAR[3] not in str(e) for e in bad.errors)
    good = imports.referral_import(
        data=(
            "work_email,made_on,case_reference,route,concerns,outcome\n"
            f"{our_staff.work_email},2025-03-01,{CLEAR[4]},police,neglect,nfa\n"
        ),
        by=manager,
    )
    assert good.ok, good.errors
    auditor = UserFactory(username="auditor1", role="manager", organisation=manager.organisation)
    audit_csv = (
        "work_email,made_on,case_reference,auditor,audit_date,"
        + ",".join(CODES)
        + "\n"
        + f"{our_staff.work_email},2025-03-01,{CLEAR[4]},{auditor.username},2025-04-01,"
        + ",".join("3" * len(CODES))
        + "\n"
        + f"{our_staff.work_email},2025-03-01,{CLEAR[5]},{auditor.username},2025-04-01,"
        + ",".join("3" * len(CODES))
        + "\n"
    )
    refused_audits = imports.audit_import(data=audit_csv, by=manager)
    assert not refused_audits.ok and all(CLEAR[5] not in str(e) for e in refused_audits.errors)
    assert imports.audit_import(data=audit_csv.rsplit("\n", 2)[0] + "\n", by=manager).ok

    hits = [(table, value) for table, value in _every_stored_value() for ref in CLEAR if ref in value.upper()]
    assert hits == []
    assert [r for r in caplog.records for ref in CLEAR if ref in r.getMessage().upper()] == []
    assert all(ref not in caplog.text.upper() for ref in CLEAR)
