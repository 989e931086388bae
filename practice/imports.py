"""CSV imports of past referrals and past audits: all rows or none, with errors by row and column.

Both use the shared machinery in ``training.csv_import``. They are written for files of 100,000
rows: every lookup is one query before the rows are checked, and everything is written with
bulk inserts. Case references are hashed as each row is read; the clear reference is never
stored and never appears in an error message.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from practice.grading import (
    QUALITY_SCALE_CODE,
    criterion_grades_string,
    grade_from_mean,
    rubric_items,
    score_from_mean,
)
from practice.hashing import INVALID_REFERENCE_MESSAGE, case_reference_hash
from practice.models import (
    EXPLOITATION_CONCERNS,
    AssignmentStatus,
    Audit,
    AuditAssignment,
    AuditReason,
    AuditStatus,
    Concern,
    Outcome,
    Referral,
    Route,
)
from practice.services import EVIDENCE_MAX_LENGTH, referral_rereferrals_refresh, rubric_current
from surveys.models import Answer, Response, ScaleScore
from surveys.scoring import ItemRule, score_scales
from surveys.services import version_freeze
from training.bulk import insert_rows
from training.csv_import import (
    ImportRejected,
    ImportResult,
    RowError,
    match_choice,
    parse_bool,
    parse_date,
    read_rows,
)
from training.models import Role, StaffMember, User

REFERRAL_COLUMNS = ("work_email", "made_on", "case_reference", "route", "concerns", "outcome")
REFERRAL_OPTIONAL_COLUMNS = ("outcome_on", "exploitation_flag", "local_label")
AUDIT_COLUMNS = ("auditor", "audit_date")
AUDIT_KEY_COLUMNS = ("referral_id", "work_email", "made_on", "case_reference", "second")
EVIDENCE_PREFIX = "evidence_"  # evidence_<criterion code>: optional, an evidence comment per criterion
BATCH = 2000
# Enum ``.choices`` builds a new list on every access: read once, not three times per row.
ROUTES, OUTCOMES, CONCERNS = list(Route.choices), list(Outcome.choices), list(Concern.choices)


def _run(rows_errors, build) -> ImportResult:
    rows, errors = rows_errors
    if errors:
        return ImportResult(errors=errors)
    try:
        with transaction.atomic():
            result = build(rows)
            if result.errors:
                raise ImportRejected(result.errors)
    except ImportRejected as rejected:
        return ImportResult(errors=rejected.errors)
    return result


def _refused(by: User) -> ImportResult | None:
    if by.has_role(Role.MANAGER, Role.WORKFORCE_LEAD):
        return None
    return ImportResult(
        errors=[RowError(1, "(file)", "Only managers and workforce leads import referrals and audits.")]
    )


def _parse_concerns(value: str) -> list[str]:
    """Concerns separated by semicolons (commas would clash with CSV), as codes or labels."""
    parts = [part.strip() for part in value.split(";") if part.strip()]
    if not parts:
        raise ValueError("Enter at least one concern, separated by semicolons.")
    return sorted({match_choice(part, CONCERNS) for part in parts})


def referral_import(*, data: bytes | str, by: User) -> ImportResult:
    """Add past referrals. Staff are matched by work email within the importer's scope."""
    if refused := _refused(by):
        return refused

    def build(rows) -> ImportResult:
        result = ImportResult()
        staff = {
            email.lower(): pk
            for pk, email in StaffMember.objects.for_user(by).values_list("pk", "work_email")
        }
        today = timezone.localdate()
        to_create = []
        for row, cells in rows:
            errors_before = len(result.errors)

            def error(column: str, message: str, row=row) -> None:
                result.errors.append(RowError(row, column, message))

            staff_id = staff.get(cells["work_email"].lower())
            if staff_id is None:
                error("work_email", "No one with this email in the teams you can import for.")
            made_on = outcome_on = None
            try:
                made_on = parse_date(cells["made_on"])
                if made_on > today:
                    error("made_on", "The date must be today or in the past.")
            except ValueError as exc:
                error("made_on", str(exc))
            try:
                case_hash = case_reference_hash(cells["case_reference"])
            except ValueError:
                error("case_reference", INVALID_REFERENCE_MESSAGE)
            try:
                route = match_choice(cells["route"], ROUTES)
            except ValueError as exc:
                error("route", str(exc))
            try:
                concerns = _parse_concerns(cells["concerns"])
            except ValueError as exc:
                error("concerns", str(exc))
            try:
                outcome = match_choice(cells["outcome"], OUTCOMES)
            except ValueError as exc:
                error("outcome", str(exc))
            if cells.get("outcome_on"):
                try:
                    outcome_on = parse_date(cells["outcome_on"])
                    if made_on and outcome_on < made_on:
                        error(
                            "outcome_on",
                            "The outcome date must be on or after the date the referral was made.",
                        )
                except ValueError as exc:
                    error("outcome_on", str(exc))
            try:
                flag = parse_bool(cells.get("exploitation_flag", ""), default=False)
            except ValueError as exc:
                error("exploitation_flag", str(exc))
            label = cells.get("local_label", "")
            if len(label) > 60:
                error("local_label", "Use 60 characters or fewer.")
            if len(result.errors) > errors_before:
                continue
            to_create.append(
                Referral(
                    staff_id=staff_id,
                    made_on=made_on,
                    route=route,
                    concerns=concerns,
                    exploitation_flag=flag or bool(EXPLOITATION_CONCERNS & set(concerns)),
                    outcome=outcome,
                    outcome_on=outcome_on,
                    case_hash=case_hash,
                    local_label=label,
                    created_by=by,
                )
            )
        if not result.errors:
            referral_rereferrals_refresh(case_hashes=(), unsaved=to_create)
            Referral.objects.bulk_create(to_create, batch_size=BATCH)
            result.created = len(to_create)
        return result

    return _run(read_rows(data, required=REFERRAL_COLUMNS, optional=REFERRAL_OPTIONAL_COLUMNS), build)


def audit_import(*, data: bytes | str, by: User) -> ImportResult:
    """Add past, submitted audits graded on the current default rubric: one column per criterion
    code with a grade from 1 (Inadequate) to 4 (Outstanding). The referral is named either by
    ``referral_id`` or by ``work_email``, ``made_on`` and ``case_reference`` together.

    Optional ``evidence_<criterion code>`` columns hold the evidence comment for that criterion,
    as the audit page's evidence box does: free text of up to ``EVIDENCE_MAX_LENGTH`` characters,
    which the import page warns must not name the child or family members."""
    if refused := _refused(by):
        return refused
    version = rubric_current()
    items = list(version.items.order_by("position"))
    codes = [item.code for item in items]
    evidence_columns = [(code, f"{EVIDENCE_PREFIX}{code}") for code in codes]

    def build(rows) -> ImportResult:
        result = ImportResult()
        # Every row has the header's columns: look only at the evidence columns the file has.
        evidence_in_file = [(code, column) for code, column in evidence_columns if column in rows[0][1]]
        # One query for every referral the importer may see; both ways of naming one are indexed.
        by_id, by_key = {}, defaultdict(list)
        for pk, email, made_on, case_hash in Referral.objects.for_user(by).values_list(
            "pk", "staff__work_email", "made_on", "case_hash"
        ):
            by_id[str(pk)] = pk
            by_key[(email.lower(), made_on, case_hash)].append(pk)
        usernames = {cells["auditor"] for _, cells in rows}
        auditors = dict(
            User.objects.filter(username__in=usernames, role=Role.MANAGER).values_list("username", "pk")
        )
        existing = {
            (referral_id, is_second): auditor_id
            for referral_id, is_second, auditor_id in Audit.objects.values_list(
                "referral_id", "is_second", "auditor_id"
            )
        }
        planned: dict[tuple[int, bool], tuple[int, int]] = {}  # (referral, second) -> (row, auditor)
        parsed = []
        for row, cells in rows:
            errors_before = len(result.errors)

            def error(column: str, message: str, row=row) -> None:
                result.errors.append(RowError(row, column, message))

            referral_id = None
            if cells.get("referral_id"):
                referral_id = by_id.get(cells["referral_id"])
                if referral_id is None:
                    error("referral_id", "No referral with this number that you can see.")
            elif all(cells.get(c) for c in ("work_email", "made_on", "case_reference")):
                try:
                    key = (
                        cells["work_email"].lower(),
                        parse_date(cells["made_on"]),
                        case_reference_hash(cells["case_reference"]),
                    )
                except ValueError:
                    error("case_reference", "Check the date made and the case reference: they are not valid.")
                else:
                    matches = by_key.get(key, [])
                    if len(matches) != 1:
                        error(
                            "case_reference",
                            "No referral by this person on this date for this child."
                            if not matches
                            else "Several referrals match: use referral_id instead.",
                        )
                    else:
                        referral_id = matches[0]
            else:
                error("referral_id", "Give referral_id, or work_email, made_on and case_reference together.")
            auditor_id = auditors.get(cells["auditor"])
            if auditor_id is None:
                error("auditor", "No manager with this username.")
            try:
                audit_date = parse_date(cells["audit_date"])
            except ValueError as exc:
                error("audit_date", str(exc))
            try:
                second = parse_bool(cells.get("second", ""), default=False)
            except ValueError as exc:
                error("second", str(exc))
            grades = {}
            for code in codes:
                value = cells.get(code, "")
                if value not in ("1", "2", "3", "4"):
                    error(code, "Enter a grade from 1 (Inadequate) to 4 (Outstanding).")
                grades[code] = value
            evidence = {}
            for code, column in evidence_in_file:
                text = cells[column]
                if len(text) > EVIDENCE_MAX_LENGTH:
                    error(
                        column, f"Use {EVIDENCE_MAX_LENGTH:,} characters or fewer (this has {len(text):,})."
                    )
                elif text:
                    evidence[code] = text
            if len(result.errors) > errors_before:
                continue
            if (referral_id, second) in existing:
                error(
                    "referral_id",
                    "This referral already has this audit."
                    if not second
                    else "This referral already has a second audit.",
                )
                continue
            if (referral_id, second) in planned:
                error("referral_id", f"This audit is also on row {planned[(referral_id, second)][0]}.")
                continue
            planned[(referral_id, second)] = (row, auditor_id)
            parsed.append((row, referral_id, auditor_id, audit_date, second, grades, evidence))
        for row, referral_id, auditor_id, _, second, _, _ in parsed:
            if not second:
                continue
            first_auditor = existing.get(
                (referral_id, False), planned.get((referral_id, False), (0, None))[1]
            )
            if first_auditor is None:
                result.errors.append(
                    RowError(row, "second", "A second audit needs a first audit of the referral.")
                )
            elif first_auditor == auditor_id:
                result.errors.append(
                    RowError(row, "auditor", "The second auditor must not be the first auditor.")
                )
        if not result.errors:
            result.created = _write_audits(version=version, items=items, parsed=parsed)
        return result

    return _run(
        read_rows(
            data,
            required=AUDIT_COLUMNS + tuple(codes),
            optional=AUDIT_KEY_COLUMNS + tuple(column for _, column in evidence_columns),
        ),
        build,
    )


def _write_audits(*, version, items, parsed) -> int:
    """Responses, answers (with any evidence comments as the answers' text), scale scores and
    audits in bulk, scored with the engine's own rules."""
    scale = version.scales.get(code=QUALITY_SCALE_CODE)
    criteria = rubric_items(version)
    rules = [ItemRule(i.pk, i.scale_id, i.kind, i.reverse_coded, i.correct_answer) for i in items]
    min_share = {scale.pk: float(scale.min_answered_share)}
    noon = dt.time(12, 0)
    version_freeze(version=version)
    total = 0
    for start in range(0, len(parsed), BATCH):
        chunk = parsed[start : start + BATCH]
        stamps = [
            timezone.make_aware(dt.datetime.combine(audit_date, noon))
            for _, _, _, audit_date, _, _, _ in chunk
        ]
        responses = Response.objects.bulk_create(Response(version=version, submitted_at=at) for at in stamps)
        answers, scores, audits = [], [], []
        for response, at, (_, referral_id, auditor_id, _, second, grades, evidence) in zip(
            responses, stamps, chunk, strict=True
        ):
            values = {item.pk: grades[item.code] for item in items}
            answers += [
                (response.pk, item.pk, grades[item.code], evidence.get(item.code, "")) for item in items
            ]
            [scored] = [r for r in score_scales(rules, min_share, values) if r.scale_id == scale.pk]
            scores.append(
                ScaleScore(
                    response=response,
                    scale=scale,
                    score=scored.score,
                    n_answered=scored.n_answered,
                    n_items=scored.n_items,
                )
            )
            audits.append(
                Audit(
                    referral_id=referral_id,
                    auditor_id=auditor_id,
                    version=version,
                    response=response,
                    is_second=second,
                    status=AuditStatus.SUBMITTED,
                    submitted_at=at,
                    overall_grade=grade_from_mean(scored.score),
                    score_0_100=score_from_mean(scored.score),
                    criterion_grades=criterion_grades_string(criteria, grades),
                )
            )
        insert_rows(Answer, ["response", "item", "value", "text"], answers)
        ScaleScore.objects.bulk_create(scores)
        Audit.objects.bulk_create(audits)
        for second in (False, True):
            ids = [a.referral_id for a in audits if a.is_second == second]
            reasons = (
                AuditAssignment.objects.filter(reason=AuditReason.SECOND)
                if second
                else AuditAssignment.objects.exclude(reason=AuditReason.SECOND)
            )
            for part in range(0, len(ids), 500):
                reasons.filter(referral_id__in=ids[part : part + 500]).update(status=AssignmentStatus.DONE)
        total += len(audits)
    return total
