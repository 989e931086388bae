"""CSV imports of past referrals and audits: all rows or none, errors by row and column, bulk
writes with a number of queries that does not grow with the file."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from practice.imports import audit_import, referral_import
from practice.models import Audit, Referral
from practice.services import EVIDENCE_MAX_LENGTH
from surveys.models import Answer, ScaleScore
from tests.factories import ReferralFactory, UserFactory
from tests.practice.conftest import CODES

pytestmark = pytest.mark.django_db

REFERRAL_HEADER = (
    "work_email,made_on,case_reference,route,concerns,outcome,outcome_on,exploitation_flag,local_label\n"
)


def test_good_referral_file_is_saved_hashed_and_flags_rereferrals(manager, our_staff):
    data = REFERRAL_HEADER + (
        f"{our_staff.work_email},2025-01-05,NB700001,MASH or front door,"
        "neglect; domestic abuse,nfa,2025-01-07,,\n"
        f"{our_staff.work_email},05/03/2025,nb 700001,police,cse,accepted,,,Our 12\n"
    )
    result = referral_import(data=data, by=manager)
    assert result.ok, result.errors
    assert result.created == 2
    first, second = Referral.objects.order_by("made_on")
    assert first.concerns == ["domestic_abuse", "neglect"] and first.route == "front_door"
    assert (second.is_rereferral, second.exploitation_flag, second.local_label) == (True, True, "Our 12")


def test_bad_referral_file_saves_nothing_and_lists_every_problem(manager, our_staff, their_staff):
    data = REFERRAL_HEADER + (
        f"{our_staff.work_email},2025-01-05,NB700002,police,neglect,nfa,,,\n"  # fine on its own
        f"{their_staff.work_email},2025-13-01,x,teleport,,maybe,,perhaps,\n"
        f"{our_staff.work_email},2025-02-01,NB700003,police,neglect,nfa,2025-01-01,,\n"
    )
    result = referral_import(data=data, by=manager)
    assert not result.ok
    assert {(e.row, e.column) for e in result.errors} == {
        (3, "work_email"),
        (3, "made_on"),
        (3, "case_reference"),
        (3, "route"),
        (3, "concerns"),
        (3, "outcome"),
        (3, "exploitation_flag"),
        (4, "outcome_on"),
    }
    assert Referral.objects.count() == 0


def test_unknown_column_is_refused(manager):
    result = referral_import(data=REFERRAL_HEADER.strip() + ",child_name\n", by=manager)
    assert [(e.row, e.column) for e in result.errors] == [(1, "child_name")]


def _audit_csv(rows, key="referral_id", evidence=()):
    header = f"{key},auditor,audit_date,second," + ",".join([*CODES, *evidence]) + "\n"
    return header + "".join(rows)


def _evidence(audit) -> dict[str, str]:
    """The audit's non-blank evidence comments by criterion code."""
    return dict(
        Answer.objects.filter(response=audit.response).exclude(text="").values_list("item__code", "text")
    )


def test_good_audit_file_creates_scored_audits(manager, manager2, our_staff):
    referral = ReferralFactory(staff=our_staff, case_reference="NB700010", made_on="2025-01-05")
    other = ReferralFactory(staff=our_staff, case_reference="NB700011", made_on="2025-01-06")
    data = _audit_csv(
        [
            f"{referral.pk},manager,2025-02-01,no," + ",".join(["4"] * 11) + "\n",
            f"{referral.pk},manager2,2025-02-03,yes," + ",".join(["2"] * 11) + "\n",
            f"{other.pk},manager,2025-02-05,," + ",".join(["1"] * 11) + "\n",
        ]
    )
    result = audit_import(data=data, by=manager)
    assert result.ok, result.errors
    first, second, third = Audit.objects.order_by("submitted_at")
    assert (first.overall_grade, first.score_0_100, first.is_second) == (4, 100.0, False)
    assert (second.overall_grade, second.auditor, second.is_second) == (2, manager2, True)
    assert (third.overall_grade, third.score_0_100) == (1, 0.0)
    assert Answer.objects.count() == 33
    assert ScaleScore.objects.filter(score=4.0).count() == 1
    assert first.version.is_frozen


def test_imported_audits_store_their_criterion_grades_in_rubric_order(manager, our_staff):
    referral = ReferralFactory(staff=our_staff, made_on="2025-01-05")
    grades = ["1", "2", "3", "4", "4", "3", "2", "1", "2", "3", "4"]  # in the file's (CODES) order
    result = audit_import(
        data=_audit_csv([f"{referral.pk},manager,2025-02-01,no," + ",".join(grades) + "\n"]), by=manager
    )
    assert result.ok, result.errors
    audit = Audit.objects.get()
    assert audit.criterion_grades == "12344321234"
    answers = dict(Answer.objects.filter(response=audit.response).values_list("item__code", "value"))
    assert "".join(answers[code] for code in CODES) == audit.criterion_grades


def test_audit_file_with_evidence_columns_stores_each_comment_with_its_grade(manager, manager2, our_staff):
    referral = ReferralFactory(staff=our_staff, made_on="2025-01-05")
    other = ReferralFactory(staff=our_staff, made_on="2025-01-06")
    longest = "x" * EVIDENCE_MAX_LENGTH  # the audit page's limit, accepted
    tricky = 'Police, school and GP consulted;\n"see strategy notes"\tback\\slash'
    # Headers are matched as the other columns are: any case, spaces or hyphens for underscores.
    header_evidence = ("evidence_timely", "Evidence-child_voice", "EVIDENCE MULTI_AGENCY")
    data = _audit_csv(
        [
            f"{referral.pk},manager,2025-02-01,no,"
            + ",".join(["3"] * 11)
            + ',Same day.,  Views recorded in their words.  ,"'
            + tricky.replace('"', '""')
            + '"\n',
            f"{referral.pk},manager2,2025-02-03,yes," + ",".join(["2"] * 11) + f",{longest},,\n",
            f"{other.pk},manager,2025-02-05,no," + ",".join(["4"] * 11) + ",,,\n",
        ],
        evidence=header_evidence,
    )
    result = audit_import(data=data, by=manager)
    assert result.ok, result.errors
    first, second, third = Audit.objects.order_by("submitted_at")
    assert _evidence(first) == {
        "timely": "Same day.",
        "child_voice": "Views recorded in their words.",  # trimmed, as the form trims
        "multi_agency": tricky,
    }
    assert _evidence(second) == {"timely": longest}
    assert _evidence(third) == {}
    # Evidence sits beside the grade of the same criterion, and the grades and scores are unchanged.
    answer = Answer.objects.get(response=first.response, item__code="multi_agency")
    assert (answer.value, answer.text) == ("3", tricky)
    assert Answer.objects.count() == 33
    assert (first.overall_grade, second.overall_grade, third.score_0_100) == (3, 2, 100.0)


def test_audit_file_with_bad_evidence_saves_nothing_and_names_row_and_column(manager, our_staff):
    ours = ReferralFactory(staff=our_staff)
    other = ReferralFactory(staff=our_staff)
    too_long = "Named worry " + "y" * EVIDENCE_MAX_LENGTH
    data = _audit_csv(
        [
            f"{ours.pk},manager,2025-02-01,no," + ",".join(["3"] * 11) + ",Fine on its own.,\n",
            f"{other.pk},manager,2025-02-01,no," + ",".join(["3"] * 11) + f",,{too_long}\n",
        ],
        evidence=("evidence_timely", "evidence_consent"),
    )
    result = audit_import(data=data, by=manager)
    assert [(e.row, e.column) for e in result.errors] == [(3, "evidence_consent")]
    message = result.errors[0].message
    assert f"{EVIDENCE_MAX_LENGTH:,} characters or fewer" in message
    assert "Named worry" not in message  # the text is never repeated back
    assert Audit.objects.count() == 0 and Answer.objects.count() == 0


def test_evidence_column_for_no_criterion_is_refused(manager, our_staff):
    ours = ReferralFactory(staff=our_staff)
    data = _audit_csv(
        [f"{ours.pk},manager,2025-02-01,no," + ",".join(["3"] * 11) + ",Lost?\n"],
        evidence=("evidence_made_up",),
    )
    result = audit_import(data=data, by=manager)
    assert [(e.row, e.column, e.message) for e in result.errors] == [
        (1, "evidence_made_up", "This column is not recognised.")
    ]
    assert Audit.objects.count() == 0


def test_audit_file_can_name_referrals_by_person_date_and_case_reference(manager, our_staff):
    ReferralFactory(staff=our_staff, case_reference="NB700020", made_on="2025-01-05")
    header = "work_email,made_on,case_reference,auditor,audit_date," + ",".join(CODES) + "\n"
    row = f"{our_staff.work_email},2025-01-05,nb700020,manager,2025-02-01," + ",".join(["3"] * 11) + "\n"
    assert audit_import(data=header + row, by=manager).ok
    assert Audit.objects.get().referral.made_on.isoformat() == "2025-01-05"


def test_bad_audit_file_saves_nothing(manager, our_staff, their_staff):
    ours = ReferralFactory(staff=our_staff)
    theirs = ReferralFactory(staff=their_staff)
    UserFactory(username="trainerperson", role="trainer")
    data = _audit_csv(
        [
            f"{ours.pk},manager,2025-02-01,no," + ",".join(["3"] * 11) + "\n",  # fine on its own
            f"{theirs.pk},manager,2025-02-01,no," + ",".join(["3"] * 11) + "\n",  # out of scope
            f"{ours.pk},trainerperson,someday,no," + ",".join(["3"] * 10) + ",5\n",
            f"{ours.pk},manager,2025-02-02,yes," + ",".join(["3"] * 11) + "\n",  # second by the first auditor
        ]
    )
    result = audit_import(data=data, by=manager)
    assert {(e.row, e.column) for e in result.errors} == {
        (3, "referral_id"),
        (4, "auditor"),
        (4, "audit_date"),
        (4, "multi_agency"),
        (5, "auditor"),
    }
    assert Audit.objects.count() == 0 and Answer.objects.count() == 0


def test_missing_criterion_column_is_a_file_error(manager):
    header = "referral_id,auditor,audit_date," + ",".join(CODES[:-1]) + "\n"
    result = audit_import(data=header + "1,manager,2025-01-01," + ",".join(["3"] * 10) + "\n", by=manager)
    assert [(e.row, e.column) for e in result.errors] == [(1, "multi_agency")]


def test_trainers_cannot_import(trainer):
    assert not referral_import(data=REFERRAL_HEADER, by=trainer).ok


def _count_queries(fn):
    with CaptureQueriesContext(connection) as captured:
        result = fn()
    assert result.ok, result.errors[:3]
    return len(captured)


def test_import_queries_do_not_grow_with_the_number_of_rows(manager, our_staff):
    def referrals(n, offset):
        rows = "".join(
            f"{our_staff.work_email},2025-01-{1 + i % 28:02d},NB{offset + i:06d},police,neglect,nfa,,,\n"
            for i in range(n)
        )
        return lambda: referral_import(data=REFERRAL_HEADER + rows, by=manager)

    small, large = _count_queries(referrals(20, 0)), _count_queries(referrals(1500, 1000))
    # More batches of bulk inserts (SQLite caps the parameters per statement), never one per row.
    assert large <= small + 1500 // 50

    ids = list(Referral.objects.order_by("pk").values_list("pk", flat=True))

    def audits(chosen):
        rows = [f"{pk},manager,2025-02-01,no," + ",".join(["3"] * 11) + ",Seen,Asked,\n" for pk in chosen]
        return lambda: audit_import(
            data=_audit_csv(rows, evidence=("evidence_timely", "evidence_consent", "evidence_risk_analysed")),
            by=manager,
        )

    small, large = _count_queries(audits(ids[:20])), _count_queries(audits(ids[20:1520]))
    assert Answer.objects.exclude(text="").count() == 2 * 1520  # the evidence went in with the grades
    # 1,500 audits write 1,500 responses and 16,500 answers: batches, far fewer than one per row.
    assert large <= small + 1500 // 10


def test_a_large_referral_file_is_quick(manager, our_staff):
    rows = "".join(
        f"{our_staff.work_email},2024-{1 + i % 12:02d}-{1 + i % 28:02d},NB{i % 4000:06d},"
        "police,neglect,nfa,,,\n"
        for i in range(10_000)
    )
    started = time.perf_counter()
    result = referral_import(data=REFERRAL_HEADER + rows, by=manager)
    assert result.ok and result.created == 10_000
    assert time.perf_counter() - started < 30
