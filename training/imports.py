"""CSV imports of the staff directory and of attendance registers: all rows or none."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from training.csv_import import (
    ImportRejected,
    ImportResult,
    RowError,
    match_choice,
    parse_bool,
    parse_date,
    read_rows,
)
from training.models import (
    Attendance,
    AttendanceStatus,
    Profession,
    Role,
    StaffMember,
    Team,
    TrainingSession,
    User,
)

STAFF_COLUMNS = ("name", "work_email", "profession", "organisation", "team")
NAME_MAX_LENGTH = StaffMember._meta.get_field("name").max_length
STAFF_OPTIONAL_COLUMNS = ("start_date_in_role", "active")
ATTENDANCE_COLUMNS = ("session_id", "work_email", "status")


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


def staff_import(*, data: bytes | str, by: User) -> ImportResult:
    """Add or update staff by work email. Only administrators and workforce leads may import,
    and only into teams they can see."""
    if not by.has_role(Role.WORKFORCE_LEAD):
        return ImportResult(
            errors=[RowError(1, "(file)", "Only workforce leads and administrators import staff.")]
        )

    def build(rows) -> ImportResult:
        result = ImportResult()
        teams = {}
        for team in Team.objects.for_user(by).select_related("organisation"):
            # People write either the organisation's short name (slug) or its full name.
            teams[(team.organisation.slug.lower(), team.name.lower())] = team
            teams[(team.organisation.name.lower(), team.name.lower())] = team
        emails = [cells["work_email"].lower() for _, cells in rows]
        existing = {s.work_email.lower(): s for s in StaffMember.objects.filter(work_email__in=emails)}
        in_scope = set(
            StaffMember.objects.for_user(by).filter(work_email__in=emails).values_list("id", flat=True)
        )
        seen: dict[str, int] = {}
        to_create, to_update = [], []
        for row, cells in rows:
            errors_before = len(result.errors)

            def error(column: str, message: str, row=row) -> None:
                result.errors.append(RowError(row, column, message))

            name = cells["name"]
            if not name:
                error("name", "Enter the person's name.")
            elif len(name) > NAME_MAX_LENGTH:
                error("name", f"Keep the name to {NAME_MAX_LENGTH} characters or fewer.")
            email = cells["work_email"].lower()
            try:
                validate_email(email)
            except ValidationError:
                error("work_email", "Enter a work email address like name@example.gov.uk.")
            if email in seen:
                error("work_email", f"This email is also on row {seen[email]}.")
            seen.setdefault(email, row)
            try:
                profession = match_choice(cells["profession"], Profession.choices)
            except ValueError as exc:
                error("profession", str(exc))
            team = teams.get((cells["organisation"].lower(), cells["team"].lower()))
            if team is None:
                error(
                    "team", f"No team called {cells['team']!r} in {cells['organisation']!r} that you manage."
                )
            start = None
            if cells.get("start_date_in_role"):
                try:
                    start = parse_date(cells["start_date_in_role"])
                except ValueError as exc:
                    error("start_date_in_role", str(exc))
            try:
                active = parse_bool(cells.get("active", ""), default=True)
            except ValueError as exc:
                error("active", str(exc))
            current = existing.get(email)
            if current is not None and current.id not in in_scope:
                error("work_email", "This person belongs to an organisation you cannot update.")
            if len(result.errors) > errors_before:
                continue
            if current is None:
                to_create.append(
                    StaffMember(
                        name=name,
                        work_email=email,
                        profession=profession,
                        team=team,
                        start_date_in_role=start,
                        active=active,
                    )
                )
            else:
                current.name, current.profession, current.team = name, profession, team
                current.start_date_in_role, current.active = start, active
                to_update.append(current)
        if not result.errors:
            StaffMember.objects.bulk_create(to_create)
            StaffMember.objects.bulk_update(
                to_update, ["name", "profession", "team", "start_date_in_role", "active"]
            )
            result.created, result.updated = len(to_create), len(to_update)
        return result

    return _run(read_rows(data, required=STAFF_COLUMNS, optional=STAFF_OPTIONAL_COLUMNS), build)


def attendance_import(*, data: bytes | str, by: User) -> ImportResult:
    """Record attendance from a register: one row per person per session."""

    def build(rows) -> ImportResult:
        result = ImportResult()
        session_ids = {cells["session_id"] for _, cells in rows if cells["session_id"].isdigit()}
        sessions = {
            str(s.pk): s for s in TrainingSession.objects.managed_by(by).filter(pk__in=list(session_ids))
        }
        emails = {cells["work_email"].lower() for _, cells in rows}
        staff = {
            s.work_email.lower(): s for s in StaffMember.objects.for_user(by).filter(work_email__in=emails)
        }
        existing = {
            (a.session_id, a.staff_id): a
            for a in Attendance.objects.filter(
                session__in=list(sessions.values()), staff__in=list(staff.values())
            )
        }
        seen: dict[tuple[str, str], int] = {}
        to_create, to_update = [], []
        for row, cells in rows:
            errors_before = len(result.errors)

            def error(column: str, message: str, row=row) -> None:
                result.errors.append(RowError(row, column, message))

            session = sessions.get(cells["session_id"])
            if session is None:
                error("session_id", "No session with this number that you manage.")
            person = staff.get(cells["work_email"].lower())
            if person is None:
                error("work_email", "No one with this email in the staff directory you can book from.")
            try:
                status = match_choice(cells["status"], AttendanceStatus.choices)
            except ValueError as exc:
                error("status", str(exc))
            key = (cells["session_id"], cells["work_email"].lower())
            if key in seen:
                error("work_email", f"This person is already listed for this session on row {seen[key]}.")
            seen.setdefault(key, row)
            if len(result.errors) > errors_before:
                continue
            current = existing.get((session.pk, person.pk))
            if current is None:
                to_create.append(Attendance(session=session, staff=person, status=status))
            elif current.status != status:
                current.status = status
                to_update.append(current)
        if not result.errors:
            Attendance.objects.bulk_create(to_create)
            Attendance.objects.bulk_update(to_update, ["status"])
            result.created, result.updated = len(to_create), len(to_update)
        return result

    return _run(read_rows(data, required=ATTENDANCE_COLUMNS), build)
