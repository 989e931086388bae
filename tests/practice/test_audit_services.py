"""Audits: grading, drafts, stale edits refused, blind second audits, moderation, constraints."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from practice import services
from practice.grading import grade_from_mean, score_from_mean
from practice.models import Audit, AuditStatus, Moderation
from surveys.models import Answer, Item
from tests.factories import ReferralFactory
from tests.practice.conftest import CODES, all_grades

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("mean", "grade", "score"),
    [
        (1.0, 1, 0.0),
        (1.49, 1, 16.33),
        (1.5, 2, 16.67),
        (2.5, 3, 50.0),
        (3.0, 3, 66.67),
        (3.5, 4, 83.33),
        (4.0, 4, 100.0),
    ],
)
def test_overall_grade_bands_the_mean_and_score_is_linear(mean, grade, score):
    assert grade_from_mean(mean) == grade
    assert score_from_mean(mean) == pytest.approx(score, abs=0.01)


def test_submitting_stores_overall_grade_and_score(our_referral, manager):
    audit = services.audit_start(referral=our_referral, by=manager)
    grades = all_grades("4", timely="3", consent="3", fact_opinion="3", levels_of_need="3", multi_agency="3")
    audit = services.audit_save(
        audit=audit, by=manager, grades=grades, evidence={"timely": "Same day."}, revision=1, submit=True
    )
    audit.refresh_from_db()
    mean = (6 * 4 + 5 * 3) / 11
    assert audit.status == AuditStatus.SUBMITTED
    assert audit.overall_grade == 4
    assert audit.score_0_100 == pytest.approx(100 * (mean - 1) / 3, abs=0.01)
    assert Answer.objects.get(response=audit.response, item__code="timely").text == "Same day."


def test_a_draft_may_leave_criteria_ungraded_but_not_grade_them_wrongly(our_referral, manager):
    audit = services.audit_start(referral=our_referral, by=manager)
    services.audit_save(
        audit=audit, by=manager, grades={"timely": "2"}, evidence={}, revision=1, submit=False
    )
    with pytest.raises(ValidationError) as error:
        services.audit_save(
            audit=audit, by=manager, grades={"timely": "7"}, evidence={}, revision=2, submit=False
        )
    assert "timely" in error.value.message_dict
    assert Answer.objects.get(response=audit.response).value == "2"


def _with_consent_optional(audit: Audit) -> None:
    """Let this audit's rubric leave "consent" (the sixth criterion) ungraded on submission."""
    Item.objects.filter(version=audit.version, code="consent").update(required=False)


def test_submitting_stores_each_criterion_grade_in_rubric_order_with_0_for_ungraded(our_referral, manager):
    audit = services.audit_start(referral=our_referral, by=manager)
    _with_consent_optional(audit)
    grades = all_grades("3", reason_clear="4", timely="1", multi_agency="2", consent="")
    services.audit_save(audit=audit, by=manager, grades=grades, evidence={}, revision=1, submit=True)
    audit.refresh_from_db()
    # reason_clear, exploitation_indicators, risk_analysed, child_voice, history_siblings, consent,
    # fact_opinion, levels_of_need, timely, desired_outcome, multi_agency
    assert audit.criterion_grades == "43333033132"
    answers = dict(Answer.objects.filter(response=audit.response).values_list("item__code", "value"))
    assert "".join(answers.get(code) or "0" for code in CODES) == audit.criterion_grades


def test_a_draft_has_no_criterion_grades(our_referral, manager):
    audit = services.audit_start(referral=our_referral, by=manager)
    services.audit_save(
        audit=audit, by=manager, grades=all_grades("2"), evidence={}, revision=1, submit=False
    )
    audit.refresh_from_db()
    assert (audit.status, audit.criterion_grades) == (AuditStatus.DRAFT, "")


def test_the_migration_backfill_gives_the_strings_the_service_stores(
    submitted_first, our_referral, manager, our_staff
):
    """Audits submitted before Audit.criterion_grades existed are filled in from their answers."""
    migration = importlib.import_module("practice.migrations.0004_audit_criterion_grades")
    ungraded = services.audit_start(referral=ReferralFactory(staff=our_staff), by=manager)
    _with_consent_optional(ungraded)
    services.audit_save(
        audit=ungraded,
        by=manager,
        grades=all_grades("2", timely="4", consent=""),
        evidence={"consent": "Not asked."},
        revision=1,
        submit=True,
    )
    without_answers = services.audit_start(referral=ReferralFactory(staff=our_staff), by=manager)
    services.audit_save(
        audit=without_answers, by=manager, grades=all_grades("1"), evidence={}, revision=1, submit=True
    )
    Answer.objects.filter(response=without_answers.response).delete()  # as the largest demo keeps none
    draft = services.audit_start(referral=ReferralFactory(staff=our_staff), by=manager)
    services.audit_save(
        audit=draft, by=manager, grades={"timely": "3"}, evidence={}, revision=1, submit=False
    )
    stored = dict(Audit.objects.values_list("pk", "criterion_grades"))
    assert stored[ungraded.pk] == "22222022422" and stored[submitted_first.pk] == "3" * 11

    Audit.objects.update(criterion_grades="")
    migration.backfill_criterion_grades(apps, None)

    assert dict(Audit.objects.values_list("pk", "criterion_grades")) == {
        **stored,
        without_answers.pk: "",  # no answers, so no criterion grades
    }


def test_database_refuses_criterion_grades_other_than_digits_0_to_4(submitted_first):
    for grades in ("3333x333333", "33333333335", "3 3"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Audit.objects.filter(pk=submitted_first.pk).update(criterion_grades=grades)


def test_submitting_needs_every_criterion(our_referral, manager):
    audit = services.audit_start(referral=our_referral, by=manager)
    grades = all_grades("3")
    del grades["child_voice"]
    with pytest.raises(ValidationError) as error:
        services.audit_save(audit=audit, by=manager, grades=grades, evidence={}, revision=1, submit=True)
    assert error.value.message_dict == {"child_voice": ["Choose a grade."]}
    audit.refresh_from_db()
    assert (audit.status, audit.revision) == (AuditStatus.DRAFT, 1)  # the refused save changed nothing


def test_a_stale_edit_is_refused_and_the_other_save_is_kept(our_referral, manager, co_manager):
    audit = services.audit_start(referral=our_referral, by=manager)
    mine = Audit.objects.get(pk=audit.pk)  # both people open the audit at revision 1
    theirs = Audit.objects.get(pk=audit.pk)
    services.audit_save(
        audit=theirs,
        by=co_manager,
        grades={"timely": "4"},
        evidence={"timely": "Theirs"},
        revision=1,
        submit=False,
    )
    with pytest.raises(services.StaleEditError, match="Someone else saved this audit since you opened it"):
        services.audit_save(
            audit=mine,
            by=manager,
            grades={"timely": "1"},
            evidence={"timely": "Mine"},
            revision=1,
            submit=False,
        )
    answer = Answer.objects.get(response=audit.response, item__code="timely")
    assert (answer.value, answer.text) == ("4", "Theirs")
    assert Audit.objects.get(pk=audit.pk).revision == 2


def test_a_submitted_audit_cannot_change(submitted_first, manager):
    with pytest.raises(ValidationError, match="submitted"):
        services.audit_save(
            audit=submitted_first,
            by=manager,
            grades=all_grades("1"),
            evidence={},
            revision=submitted_first.revision,
            submit=True,
        )


def test_unknown_criteria_are_refused(our_referral, manager):
    audit = services.audit_start(referral=our_referral, by=manager)
    with pytest.raises(ValidationError) as error:
        services.audit_save(
            audit=audit, by=manager, grades={"made_up": "3"}, evidence={}, revision=1, submit=False
        )
    assert "made_up" in error.value.message_dict


def test_only_a_manager_of_the_team_starts_the_first_audit(our_referral, manager2):
    with pytest.raises(PermissionDenied):
        services.audit_start(referral=our_referral, by=manager2)


def test_second_auditor_must_not_be_the_first(submitted_first, manager, our_referral):
    with pytest.raises(ValidationError, match="someone other than the first auditor"):
        services.audit_start(referral=our_referral, by=manager, second=True)


def test_another_teams_manager_needs_to_be_assigned_the_second_audit(submitted_first, our_referral, manager2):
    with pytest.raises(PermissionDenied):
        services.audit_start(referral=our_referral, by=manager2, second=True)


def test_second_auditor_from_another_organisation_is_refused(submitted_first, our_referral, far_manager):
    with pytest.raises(PermissionDenied):
        services.audit_start(referral=our_referral, by=far_manager, second=True)


def test_a_second_audit_assigned_to_someone_else_is_refused(
    submitted_first, our_referral, manager, manager2, co_manager
):
    services.second_audit_assign(referral=our_referral, by=manager, manager=manager2)
    with pytest.raises(PermissionDenied):
        services.audit_start(referral=our_referral, by=co_manager, second=True)
    assert services.audit_start(referral=our_referral, by=manager2, second=True).is_second


def test_database_allows_one_first_and_one_second_audit(submitted_first, our_referral, manager, manager2):
    services.second_audit_assign(referral=our_referral, by=manager, manager=manager2)
    second = services.audit_start(referral=our_referral, by=manager2, second=True)
    for is_second in (False, True):
        with pytest.raises(IntegrityError), transaction.atomic():
            Audit.objects.create(
                referral=our_referral,
                auditor=manager2,
                version=second.version,
                response=_response(second),
                is_second=is_second,
            )


def _response(audit):
    from surveys.models import Response

    return Response.objects.create(version=audit.version)


def test_database_refuses_out_of_range_grades_and_inconsistent_status(submitted_first):
    for changes in ({"overall_grade": 5}, {"score_0_100": 101.0}, {"status": AuditStatus.DRAFT}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Audit.objects.filter(pk=submitted_first.pk).update(**changes)


def test_blind_second_auditor_cannot_see_the_first_audit_until_both_are_submitted(
    submitted_first, our_referral, manager, manager2
):
    services.second_audit_assign(referral=our_referral, by=manager, manager=manager2)
    second = services.audit_start(referral=our_referral, by=manager2, second=True)
    assert list(Audit.objects.for_user(manager2)) == [second]
    assert list(Audit.objects.for_user(manager)) == [submitted_first]  # blind both ways
    services.audit_save(
        audit=second, by=manager2, grades=all_grades("2"), evidence={}, revision=1, submit=True
    )
    assert set(Audit.objects.for_user(manager2)) == {submitted_first, second}
    assert set(Audit.objects.for_user(manager)) == {submitted_first, second}


def test_co_manager_asked_for_the_second_audit_is_blind_before_starting(
    submitted_first, our_referral, manager, co_manager
):
    # co_manager manages the team, so would normally see the first audit; being the second auditor hides it.
    assert submitted_first in Audit.objects.for_user(co_manager)
    services.second_audit_assign(referral=our_referral, by=manager, manager=co_manager)
    assert submitted_first not in Audit.objects.for_user(co_manager)


def test_disagreements_are_listed_and_moderation_records_agreed_grades(
    submitted_first, our_referral, manager, manager2
):
    services.second_audit_assign(referral=our_referral, by=manager, manager=manager2)
    second = services.audit_start(referral=our_referral, by=manager2, second=True)
    services.audit_save(
        audit=second,
        by=manager2,
        grades=all_grades("3", timely="1", consent="2"),
        evidence={},
        revision=1,
        submit=True,
    )
    found = services.disagreements(referral=our_referral)
    assert [(d.item.code, d.first, d.second) for d in found if d.item] == [
        ("consent", 3, 2),
        ("timely", 3, 1),
    ]
    with pytest.raises(ValidationError) as error:
        services.moderation_record(referral=our_referral, by=manager, grades={"timely": 2}, overall_grade=3)
    assert "consent" in error.value.message_dict
    moderation = services.moderation_record(
        referral=our_referral, by=manager, grades={"timely": 2, "consent": 3}, overall_grade=3, note="Agreed."
    )
    assert sorted(moderation.grades.values_list("item__code", "grade")) == [("consent", 3), ("timely", 2)]
    with pytest.raises(ValidationError, match="already"):
        services.moderation_record(referral=our_referral, by=manager, grades={}, overall_grade=3)
    assert Moderation.objects.count() == 1


def test_identical_double_audits_need_no_moderation(submitted_first, our_referral, manager, manager2):
    services.second_audit_assign(referral=our_referral, by=manager, manager=manager2)
    second = services.audit_start(referral=our_referral, by=manager2, second=True)
    services.audit_save(
        audit=second, by=manager2, grades=all_grades("3"), evidence={}, revision=1, submit=True
    )
    assert services.disagreements(referral=our_referral) == []
    with pytest.raises(ValidationError, match="nothing to moderate"):
        services.moderation_record(referral=our_referral, by=manager, grades={}, overall_grade=3)
