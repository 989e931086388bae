"""Writes for referrals, audits, moderation and the audit schedule.

Every function re-checks the caller's rights, so pages, the API and commands share one set of
rules. The clear case reference is only ever an argument here: it is hashed at once and never
stored, logged or put into a message.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from practice.grading import (
    DEFAULT_RUBRIC_SLUG,
    QUALITY_SCALE_CODE,
    criterion_grades_string,
    grade_from_mean,
    rubric_items,
    score_from_mean,
)
from practice.hashing import case_reference_hash
from practice.models import (
    EXPLOITATION_CONCERNS,
    AssignmentStatus,
    Audit,
    AuditAssignment,
    AuditReason,
    AuditStatus,
    Concern,
    Moderation,
    ModerationGrade,
    Outcome,
    Referral,
    Route,
)
from practice.sampling import Candidate, stratified_pick
from surveys.models import Answer, Instrument, InstrumentKind, InstrumentVersion, Item, Response, ScaleScore
from surveys.services import answers_validate, response_save, version_latest
from training.models import Attendance, Role, StaffMember, Team, User

logger = logging.getLogger(__name__)

STALE_EDIT_MESSAGE = (
    "Someone else saved this audit since you opened it. Your changes were not saved: reload to see theirs."
)
# The longest evidence comment on one criterion, on the audit page and in the audit import alike.
EVIDENCE_MAX_LENGTH = 4000
Q_FIRST = ~Q(reason=AuditReason.SECOND)
Q_SECOND = Q(reason=AuditReason.SECOND)


class StaleEditError(Exception):
    """The audit was saved by someone else after the caller loaded it."""

    def __init__(self) -> None:
        super().__init__(STALE_EDIT_MESSAGE)


# --- Referrals -------------------------------------------------------------------------------------


def one_year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def rereferral_flags(events: Iterable[tuple[str, dt.date, tuple]]) -> dict[tuple, bool]:
    """Whether each referral (case hash, date made, sort key) follows another for the same child
    made no more than 12 months earlier. Same-day referrals are ordered by the sort key, so the
    first one recorded is the referral and the next the re-referral."""
    by_child: dict[str, list[tuple[dt.date, tuple]]] = defaultdict(list)
    for case_hash, made_on, key in events:
        by_child[case_hash].append((made_on, key))
    flags = {}
    for dated in by_child.values():
        dated.sort()
        previous = None
        for made_on, key in dated:
            flags[key] = previous is not None and previous >= one_year_before(made_on)
            previous = made_on
    return flags


def _stored_for_children(hashes: Iterable[str]) -> list[tuple[int, str, dt.date, bool]]:
    hashes = sorted(set(hashes))
    rows = []
    for start in range(0, len(hashes), 500):  # bounded IN lists for SQLite's variable limit
        rows += Referral.objects.filter(case_hash__in=hashes[start : start + 500]).values_list(
            "pk", "case_hash", "made_on", "is_rereferral"
        )
    return rows


def _store_flags(changed: Mapping[int, bool]) -> None:
    # Two plain UPDATEs per chunk rather than bulk_update's CASE per row: much faster for imports.
    for flag in (True, False):
        ids = sorted(pk for pk, value in changed.items() if value is flag)
        for start in range(0, len(ids), 500):
            Referral.objects.filter(pk__in=ids[start : start + 500]).update(is_rereferral=flag)


def referral_rereferrals_refresh(*, case_hashes: Iterable[str], unsaved: Iterable[Referral] = ()) -> int:
    """Recompute ``is_rereferral`` for every referral of these children (and set it on ``unsaved``
    referrals about to be bulk-inserted). Needed after any insert or date change, because an
    earlier referral entered late changes the later ones' flags. Returns how many stored flags
    changed."""
    unsaved = list(unsaved)
    rows = _stored_for_children({*case_hashes, *(r.case_hash for r in unsaved)})
    # Stored referrals sort before unsaved ones made the same day: they were recorded first.
    events = [(h, made_on, (0, pk)) for pk, h, made_on, _ in rows]
    events += [(r.case_hash, r.made_on, (1, i)) for i, r in enumerate(unsaved)]
    flags = rereferral_flags(events)
    for i, referral in enumerate(unsaved):
        referral.is_rereferral = flags[(1, i)]
    changed = {pk: flags[(0, pk)] for pk, _, _, old in rows if flags[(0, pk)] != old}
    _store_flags(changed)
    return len(changed)


def _check_referral_fields(*, concerns: list[str], outcome: str, route: str, made_on, outcome_on) -> None:
    errors = {}
    if not concerns:
        errors["concerns"] = "Choose at least one concern."
    elif set(concerns) - set(Concern.values):
        errors["concerns"] = "Choose concerns from the list."
    if outcome not in Outcome.values:
        errors["outcome"] = "Choose an outcome."
    if route not in Route.values:
        errors["route"] = "Choose a route."
    if made_on and made_on > timezone.localdate():
        errors["made_on"] = "The date the referral was made must be today or in the past."
    if outcome_on and made_on and outcome_on < made_on:
        errors["outcome_on"] = "The outcome date must be on or after the date the referral was made."
    if outcome == Outcome.PENDING and outcome_on:
        errors["outcome_on"] = "A pending referral has no outcome date yet."
    if errors:
        raise ValidationError(errors)


def _hash_or_error(case_reference: str) -> str:
    try:
        return case_reference_hash(case_reference)
    except ValueError as exc:
        raise ValidationError({"case_reference": str(exc)}) from None


def _check_can_record_for(*, by: User, staff: StaffMember) -> None:
    if not by.has_role(Role.MANAGER, Role.WORKFORCE_LEAD):
        raise PermissionDenied("Only managers and workforce leads record referrals.")
    if not StaffMember.objects.for_user(by).filter(pk=staff.pk).exists():
        raise PermissionDenied("This person is not in a team you can record referrals for.")


@transaction.atomic
def referral_create(
    *,
    by: User,
    staff: StaffMember,
    made_on: dt.date,
    route: str,
    concerns: list[str],
    outcome: str,
    case_reference: str,
    exploitation_flag: bool = False,
    outcome_on: dt.date | None = None,
    local_label: str = "",
    notes: str = "",
) -> Referral:
    _check_can_record_for(by=by, staff=staff)
    _check_referral_fields(
        concerns=concerns, outcome=outcome, route=route, made_on=made_on, outcome_on=outcome_on
    )
    referral = Referral(
        staff=staff,
        made_on=made_on,
        route=route,
        concerns=sorted(set(concerns)),
        exploitation_flag=exploitation_flag or bool(EXPLOITATION_CONCERNS & set(concerns)),
        outcome=outcome,
        outcome_on=outcome_on,
        case_hash=_hash_or_error(case_reference),
        local_label=local_label.strip(),
        notes=notes.strip(),
        created_by=by,
    )
    referral.full_clean()
    referral.save()
    referral_rereferrals_refresh(case_hashes=[referral.case_hash])
    referral.refresh_from_db(fields=["is_rereferral"])
    logger.info("referral %s recorded by user %s", referral.pk, by.pk)
    return referral


@transaction.atomic
def referral_update(
    *,
    referral: Referral,
    by: User,
    made_on: dt.date,
    route: str,
    concerns: list[str],
    outcome: str,
    exploitation_flag: bool = False,
    outcome_on: dt.date | None = None,
    case_reference: str = "",
    local_label: str | None = None,
    notes: str = "",
) -> Referral:
    """Change a referral. A blank case reference keeps the stored one (we cannot show it back);
    the local label can only be changed by someone who may see it."""
    _check_can_record_for(by=by, staff=referral.staff)
    _check_referral_fields(
        concerns=concerns, outcome=outcome, route=route, made_on=made_on, outcome_on=outcome_on
    )
    old_hash = referral.case_hash
    if case_reference.strip():
        referral.case_hash = _hash_or_error(case_reference)
    referral.made_on, referral.route, referral.outcome, referral.outcome_on = (
        made_on,
        route,
        outcome,
        outcome_on,
    )
    referral.concerns = sorted(set(concerns))
    referral.exploitation_flag = exploitation_flag or bool(EXPLOITATION_CONCERNS & set(concerns))
    referral.notes = notes.strip()
    if local_label is not None and label_visible(user=by, referral=referral):
        referral.local_label = local_label.strip()
    referral.full_clean()
    referral.save()
    referral_rereferrals_refresh(case_hashes={old_hash, referral.case_hash})
    referral.refresh_from_db(fields=["is_rereferral"])
    logger.info("referral %s changed by user %s", referral.pk, by.pk)
    return referral


def label_visible(*, user: User, referral: Referral) -> bool:
    """The local label is for the referrer's own team: its managers (and administrators) only."""
    return user.is_administrator or (
        user.role == Role.MANAGER and referral.staff.team.managers.filter(pk=user.pk).exists()
    )


# --- Audits ----------------------------------------------------------------------------------------


def rubric_current() -> InstrumentVersion:
    """The version new audits use: the latest of the default rubric (loaded by a migration)."""
    rubric = Instrument.objects.get(slug=DEFAULT_RUBRIC_SLUG, kind=InstrumentKind.AUDIT_RUBRIC)
    return version_latest(rubric)


def _is_org_manager(user: User, referral: Referral) -> bool:
    return Team.objects.filter(organisation_id=referral.staff.team.organisation_id, managers=user).exists()


@transaction.atomic
def audit_start(*, referral: Referral, by: User, second: bool = False) -> Audit:
    """Open a draft audit of a referral: the first audit, or a blind second one.

    The first audit is done by a manager of the referrer's team. The second is done by a
    different manager of the same organisation who can see the referral: a co-manager of the
    team, or a manager of another team whom the schedule or a team manager assigned it to (which
    is how moderation across teams works). Once assigned, only the assignee may do it.
    """
    if not by.has_role(Role.MANAGER):
        raise PermissionDenied("Only managers audit referrals.")
    first = referral.audits.filter(is_second=False).first()
    if not second:
        if first is not None:
            raise ValidationError("This referral already has an audit.")
        if not by.is_administrator and not referral.staff.team.managers.filter(pk=by.pk).exists():
            raise PermissionDenied("Only a manager of the referrer's team does the first audit.")
        version = rubric_current()
    else:
        if first is None:
            raise ValidationError("A second audit follows a first one: this referral has no audit yet.")
        if first.auditor_id == by.pk:
            raise ValidationError("The second audit must be done by someone other than the first auditor.")
        if referral.audits.filter(is_second=True).exists():
            raise ValidationError("This referral already has a second audit.")
        assigned = referral.assignments.filter(reason=AuditReason.SECOND).first()
        if assigned is not None and assigned.assigned_manager_id not in (None, by.pk):
            raise PermissionDenied("This second audit has been assigned to another manager.")
        if not Referral.objects.for_user(by).filter(pk=referral.pk).exists():
            raise PermissionDenied("Ask a manager of the referrer's team to assign you the second audit.")
        if not by.is_administrator and not _is_org_manager(by, referral):
            raise PermissionDenied("Second auditors are managers in the referrer's organisation.")
        # The same wording as the first audit, so the two can be compared criterion by criterion.
        version = first.version
    audit = Audit(
        referral=referral,
        auditor=by,
        version=version,
        response=Response.objects.create(version=version),
        is_second=second,
    )
    audit.full_clean()
    audit.save()
    logger.info("audit %s started by user %s", audit.pk, by.pk)
    return audit


def _draft_errors(*, version: InstrumentVersion, grades: Mapping[str, str]) -> dict[str, str]:
    """Drafts may leave criteria ungraded, but whatever is graded must be a valid grade.

    The engine's ``response_save`` stores drafts without validating them, so we check here.
    """
    errors = answers_validate(version=version, values=grades)
    return {code: message for code, message in errors.items() if str(grades.get(code, "")).strip()}


@transaction.atomic
def audit_save(
    *,
    audit: Audit,
    by: User,
    grades: Mapping[str, str],
    evidence: Mapping[str, str],
    revision: int,
    submit: bool,
) -> Audit:
    """Save a draft or submit it, refusing a stale edit.

    ``revision`` is the revision the caller loaded. The conditional UPDATE below is the lock: it
    succeeds only if nobody has saved since, and on PostgreSQL a concurrent save waits for it and
    then finds the revision moved on. So two people never silently overwrite each other.
    """
    if not Audit.objects.editable_by(by).filter(pk=audit.pk).exists():
        raise PermissionDenied("You cannot change this audit.")
    unknown = (set(grades) | set(evidence)) - set(audit.version.items.values_list("code", flat=True))
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This is not a criterion of the rubric."))
    moved = Audit.objects.filter(pk=audit.pk, revision=revision, status=AuditStatus.DRAFT).update(
        revision=F("revision") + 1, updated_at=timezone.now()
    )
    if not moved:
        current = Audit.objects.get(pk=audit.pk)
        if current.revision != revision:
            raise StaleEditError()
        raise ValidationError("This audit has been submitted and can no longer be changed.")
    if not submit and (errors := _draft_errors(version=audit.version, grades=grades)):
        raise ValidationError(errors)
    response_save(
        version=audit.version, values=grades, texts=evidence, response=audit.response, submit=submit
    )
    audit.revision = revision + 1
    if submit:
        mean = ScaleScore.objects.get(response=audit.response, scale__code=QUALITY_SCALE_CODE).score
        audit.status = AuditStatus.SUBMITTED
        audit.submitted_at = timezone.now()
        audit.overall_grade = grade_from_mean(mean)
        audit.score_0_100 = score_from_mean(mean)
        # From the answers as stored, so the string says exactly what they say.
        answers = Answer.objects.filter(response=audit.response).values_list("item__code", "value")
        audit.criterion_grades = criterion_grades_string(rubric_items(audit.version), dict(answers))
        audit.save(
            update_fields=["status", "submitted_at", "overall_grade", "score_0_100", "criterion_grades"]
        )
        reason = Q_SECOND if audit.is_second else Q_FIRST
        AuditAssignment.objects.filter(reason, referral=audit.referral).update(status=AssignmentStatus.DONE)
    logger.info("audit %s %s by user %s", audit.pk, "submitted" if submit else "saved", by.pk)
    return audit


# --- Moderation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Disagreement:
    item: Item | None  # None for the overall grade
    first: int | None
    second: int | None


def disagreements(*, referral: Referral) -> list[Disagreement]:
    """Criteria (and the overall grade) where a referral's two submitted audits differ."""
    audits = {a.is_second: a for a in referral.audits.filter(status=AuditStatus.SUBMITTED)}
    if len(audits) < 2:
        return []
    first, second = audits[False], audits[True]
    grades = defaultdict(dict)
    for is_second, item_id, value in Response.objects.filter(
        pk__in=[first.response_id, second.response_id]
    ).values_list("audit__is_second", "answers__item_id", "answers__value"):
        if item_id is not None:
            grades[item_id][is_second] = int(value) if value else None
    items = {i.pk: i for i in Item.objects.filter(pk__in=grades).order_by("position")}
    found = [
        Disagreement(items[item_id], pair.get(False), pair.get(True))
        for item_id, pair in sorted(grades.items(), key=lambda kv: items[kv[0]].position)
        if pair.get(False) != pair.get(True)
    ]
    if first.overall_grade != second.overall_grade:
        found.append(Disagreement(None, first.overall_grade, second.overall_grade))
    return found


@transaction.atomic
def moderation_record(
    *, referral: Referral, by: User, grades: Mapping[str, int], overall_grade: int, note: str = ""
) -> Moderation:
    """Record the agreed grades of a double-audited referral: one per disagreed criterion, and an
    agreed overall grade. The moderator is any manager who can see the referral, including either
    auditor, because moderation is usually a conversation between them."""
    if not by.has_role(Role.MANAGER) or not Referral.objects.for_user(by).filter(pk=referral.pk).exists():
        raise PermissionDenied("Only managers who can see this referral moderate its audits.")
    if Moderation.objects.filter(referral=referral).exists():
        raise ValidationError("This referral has already been moderated.")
    found = disagreements(referral=referral)
    if not found:
        raise ValidationError(
            "There is nothing to moderate: the referral needs two submitted audits that differ."
        )
    errors = {}
    needed = [d.item for d in found if d.item is not None]
    for item in needed:
        if grades.get(item.code) not in (1, 2, 3, 4):
            errors[item.code] = "Choose the agreed grade."
    if overall_grade not in (1, 2, 3, 4):
        errors["overall_grade"] = "Choose the agreed overall grade."
    if errors:
        raise ValidationError(errors)
    moderation = Moderation.objects.create(
        referral=referral, moderator=by, agreed_overall_grade=overall_grade, note=note.strip()
    )
    ModerationGrade.objects.bulk_create(
        ModerationGrade(moderation=moderation, item=item, grade=grades[item.code]) for item in needed
    )
    logger.info("referral %s moderated by user %s", referral.pk, by.pk)
    return moderation


# --- The audit schedule ----------------------------------------------------------------------------

# Windows in days relative to the first training date: before training, then about 3 and
# about 6 months after, wide enough that most staff have a referral in each.
WINDOWS: dict[str, tuple[int, int]] = {
    AuditReason.BASELINE: (-180, -1),
    AuditReason.FOLLOW_UP_3M: (60, 120),
    AuditReason.FOLLOW_UP_6M: (150, 210),
}
# A comparison colleague must still be untrained at the end of the last window.
UNTRAINED_UNTIL_DAYS = 210


@dataclass
class ScheduleResult:
    created: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.created.values())


def _window_of(made_on: dt.date, anchor: dt.date) -> str | None:
    offset = (made_on - anchor).days
    return next((name for name, (lo, hi) in WINDOWS.items() if lo <= offset <= hi), None)


@transaction.atomic
def schedule_audits(
    *,
    seed: int,
    today: dt.date,
    course_slug: str | None = None,
    due_in_days: int = 28,
    second_share: float = 0.10,
) -> ScheduleResult:
    """Propose referrals to audit for every trained staff member and a comparison sample.

    For each person trained (attended or partly attended; on ``course_slug`` if given, else any
    course), anchored at their first training date: one referral made before training
    (baseline) and one in each follow-up window, then for a matched colleague not yet trained
    (same team if possible, else same profession in the same organisation) one referral in
    each of the same windows. Referrals already audited or proposed are never proposed again,
    nor is a window already covered, so running this again adds only what is new.
    Selection is stratified by outcome (``practice.sampling``) with ``random.Random(seed)``.
    About ``second_share`` of new proposals also get a blind second audit, assigned to a manager
    of another team in the same organisation where there is one.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible sampling, not security
    trained = Attendance.objects.trained()
    if course_slug:
        trained = trained.filter(session__course__slug=course_slug)
    anchors = {
        staff_id: timezone.localtime(first).date()
        for staff_id, first in trained.values("staff_id")
        .annotate(first=Min("session__start"))
        .values_list("staff_id", "first")
    }
    staff = {
        pk: (team_id, profession, org_id)
        for pk, team_id, profession, org_id in StaffMember.objects.filter(active=True).values_list(
            "pk", "team_id", "profession", "team__organisation_id"
        )
    }
    referrals_by_staff: dict[int, list[tuple[int, dt.date, str]]] = defaultdict(list)
    for pk, staff_id, made_on, outcome in (
        Referral.objects.filter(made_on__lte=today)
        .values_list("pk", "staff_id", "made_on", "outcome")
        .order_by("pk")
    ):
        referrals_by_staff[staff_id].append((pk, made_on, outcome))
    audited = set(Audit.objects.filter(is_second=False).values_list("referral_id", flat=True))
    existing = list(
        AuditAssignment.objects.filter(Q_FIRST).values_list(
            "referral_id",
            "referral__staff_id",
            "reason",
            "compared_with_id",
            "anchor_date",
            "referral__made_on",
        )
    )
    proposed = {row[0] for row in existing}
    covered = {
        (staff_id, reason) for _, staff_id, reason, _, _, _ in existing if reason != AuditReason.COMPARISON
    }
    matched: dict[int, int] = {}
    for _, staff_id, reason, compared_with, anchor, made_on in existing:
        if reason == AuditReason.COMPARISON and compared_with is not None:
            matched[compared_with] = staff_id
            covered.add((compared_with, f"comparison:{_window_of(made_on, anchor)}"))

    def candidates(staff_id: int, anchor: dt.date, window: str) -> list[Candidate] | None:
        """Unaudited, unproposed referrals in the window; None when the window is already covered
        by an audit (a person's window needs one audit, not more)."""
        lo, hi = WINDOWS[window]
        in_window = [
            (pk, outcome)
            for pk, made_on, outcome in referrals_by_staff.get(staff_id, [])
            if lo <= (made_on - anchor).days <= hi
        ]
        if any(pk in audited for pk, _ in in_window):
            return None
        return [Candidate(pk, outcome) for pk, outcome in in_window if pk not in proposed]

    new: list[AuditAssignment] = []
    trained_people = sorted(pk for pk in anchors if pk in staff)
    for reason in WINDOWS:
        units = {}
        for person in trained_people:
            if (person, reason) not in covered and (found := candidates(person, anchors[person], reason)):
                units[(person,)] = found
        for (person,), choice in sorted(stratified_pick(units, rng=rng).items()):
            proposed.add(choice.referral_id)
            new.append(
                AuditAssignment(referral_id=choice.referral_id, reason=reason, anchor_date=anchors[person])
            )

    def untrained(colleague: int, anchor: dt.date) -> bool:
        first = anchors.get(colleague)
        return first is None or (first - anchor).days > UNTRAINED_UNTIL_DAYS

    # Colleagues by team and by profession within organisation, looked up rather than found by
    # scanning every staff member for every trained person (which took hours at national scale).
    by_team: dict[int, list[int]] = defaultdict(list)
    by_profession: dict[tuple[str, int], list[int]] = defaultdict(list)
    for pk, (team_id, profession, org_id) in staff.items():
        by_team[team_id].append(pk)
        by_profession[profession, org_id].append(pk)
    units = {}
    for person in trained_people:
        anchor = anchors[person]
        colleague = matched.get(person)
        if colleague is None:
            team_id, profession, org_id = staff[person]
            for pool in (by_team[team_id], by_profession[profession, org_id]):
                options = sorted(
                    c for c in pool if c != person and untrained(c, anchor) and referrals_by_staff.get(c)
                )
                if options:
                    colleague = rng.choice(options)
                    break
        if colleague is None:
            continue
        matched[person] = colleague
        for window in WINDOWS:
            if (person, f"comparison:{window}") not in covered and (
                found := candidates(colleague, anchor, window)
            ):
                units[(person, window)] = found
    for (person, _window), choice in sorted(stratified_pick(units, rng=rng).items()):
        proposed.add(choice.referral_id)
        new.append(
            AuditAssignment(
                referral_id=choice.referral_id,
                reason=AuditReason.COMPARISON,
                anchor_date=anchors[person],
                compared_with_id=person,
            )
        )

    managers_by_team: dict[int, list[int]] = defaultdict(list)
    for team_id, user_id in Team.managers.through.objects.order_by("user_id").values_list(
        "team_id", "user_id"
    ):
        managers_by_team[team_id].append(user_id)
    teams_by_org: dict[int, list[int]] = defaultdict(list)
    for team_id, org_id in Team.objects.order_by("pk").values_list("pk", "organisation_id"):
        teams_by_org[org_id].append(team_id)
    staff_of = dict(
        Referral.objects.filter(pk__in=[a.referral_id for a in new]).values_list("pk", "staff_id")
    )
    due_on = today + dt.timedelta(days=due_in_days)
    seconds = []
    for assignment in new:
        team_id, _, org_id = staff[staff_of[assignment.referral_id]]
        first_manager = (managers_by_team.get(team_id) or [None])[0]
        assignment.assigned_manager_id, assignment.due_on, assignment.seed = first_manager, due_on, seed
        if rng.random() >= second_share:
            continue
        others = sorted(
            {m for t in teams_by_org[org_id] if t != team_id for m in managers_by_team.get(t, [])}
            - {first_manager}
        ) or [m for m in managers_by_team.get(team_id, []) if m != first_manager]
        if others:
            seconds.append(
                AuditAssignment(
                    referral_id=assignment.referral_id,
                    reason=AuditReason.SECOND,
                    anchor_date=assignment.anchor_date,
                    due_on=due_on + dt.timedelta(days=14),
                    assigned_manager_id=rng.choice(others),
                    seed=seed,
                )
            )
    AuditAssignment.objects.bulk_create(new + seconds, batch_size=1000)
    result = ScheduleResult()
    for assignment in new + seconds:
        result.created[assignment.reason] = result.created.get(assignment.reason, 0) + 1
    return result


@transaction.atomic
def second_audit_assign(*, referral: Referral, by: User, manager: User) -> AuditAssignment:
    """Ask another manager of the organisation for a blind second audit of a referral."""
    if not by.has_role(Role.MANAGER) or not Referral.objects.for_user(by).filter(pk=referral.pk).exists():
        raise PermissionDenied("Only managers who can see this referral ask for a second audit.")
    first = referral.audits.filter(is_second=False).first()
    if manager.role != Role.MANAGER or not _is_org_manager(manager, referral):
        raise ValidationError({"manager": "Choose a manager in the referrer's organisation."})
    if first is not None and first.auditor_id == manager.pk:
        raise ValidationError({"manager": "The second auditor must not be the first auditor."})
    if referral.assignments.filter(Q_SECOND).exists():
        raise ValidationError("A second audit has already been asked for.")
    return AuditAssignment.objects.create(
        referral=referral,
        reason=AuditReason.SECOND,
        due_on=timezone.localdate() + dt.timedelta(days=14),
        assigned_manager=manager,
    )
