"""One staff member's data, on request: export everything held about them, or erase it.

Erasure pseudonymises rather than deletes: the person's name, email and account link go, and the
rows that count in aggregate results (attendance, and later questionnaire scores and audits) stay,
no longer pointing at anyone identifiable.

Other apps contribute their rows from ``AppConfig.ready()``::

    from training.staff_data import register_staff_data
    register_staff_data("questionnaire responses", export=export_responses, erase=erase_responses)

Either may be None. ``export(person)`` returns JSON-serialisable data; ``erase(person)`` removes
or pseudonymises what identifies the person in that app and returns how many records it changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest

from training.access_log import access_log_record
from training.models import AccessAction, AccessLog, StaffMember, User

ERASED_EMAIL_DOMAIN = "erased.invalid"


@dataclass(frozen=True)
class StaffDataSource:
    export: Callable[[StaffMember], object] | None
    erase: Callable[[StaffMember], int] | None


_SOURCES: dict[str, StaffDataSource] = {}


def register_staff_data(
    label: str,
    *,
    export: Callable[[StaffMember], object] | None,
    erase: Callable[[StaffMember], int] | None,
) -> None:
    _SOURCES[label] = StaffDataSource(export=export, erase=erase)


def staff_pseudonymise(person: StaffMember) -> None:
    """Replaces what identifies a person and unlinks their account."""
    person.name = f"Erased person {person.pk}"
    person.work_email = f"erased-{person.pk}@{ERASED_EMAIL_DOMAIN}"
    person.user = None
    person.active = False
    person.save(update_fields=["name", "work_email", "user", "active"])


def _export_record(person: StaffMember) -> dict:
    return {
        "id": person.pk,
        "name": person.name,
        "work_email": person.work_email,
        "profession": person.profession,
        "organisation": person.team.organisation.name,
        "team": person.team.name,
        "start_date_in_role": person.start_date_in_role.isoformat() if person.start_date_in_role else None,
        "active": person.active,
        "user_account": person.user.get_username() if person.user else None,
    }


def _export_attendance(person: StaffMember) -> list[dict]:
    return [
        {
            "course": attendance.session.course.title,
            "session_start": attendance.session.start.isoformat(),
            "status": attendance.status,
        }
        for attendance in person.attendances.select_related("session__course").order_by("session__start")
    ]


def _export_access(person: StaffMember) -> list[dict]:
    """Who looked at this person's record: data subjects may ask who processed their data."""
    entries = AccessLog.objects.filter(object_type="training.staffmember", object_id=str(person.pk))
    return [
        {
            "at": entry.at.isoformat(),
            "action": entry.action,
            "by_role": entry.actor.role if entry.actor else "",
        }
        for entry in entries.select_related("actor")
    ]


def _erase_account(person: StaffMember) -> int:
    """The person's sign-in, if they have one, is closed and stripped of their name and email.
    It is kept, not deleted, because the access log refers to it."""
    user: User | None = person.user
    if user is None:
        return 0
    user.username = f"erased-{user.pk}"
    user.first_name = user.last_name = user.email = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    return 1


register_staff_data("staff record (training)", export=_export_record, erase=None)
register_staff_data("attendance (training)", export=_export_attendance, erase=None)
register_staff_data("access to this record (training)", export=_export_access, erase=None)
register_staff_data("sign-in account (training)", export=None, erase=_erase_account)


def staff_data_export(*, person: StaffMember, by: User | None, request: HttpRequest | None = None) -> dict:
    data = {label: source.export(person) for label, source in _SOURCES.items() if source.export}
    access_log_record(
        user=by, action=AccessAction.EXPORT, obj=person, summary="subject access export", request=request
    )
    return data


@transaction.atomic
def staff_data_erase(*, person: StaffMember, by: User | None, request: HttpRequest | None = None) -> dict:
    """Runs every app's eraser, then pseudonymises the staff record itself. Returns the count
    changed per source."""
    changed = {label: source.erase(person) for label, source in _SOURCES.items() if source.erase}
    staff_pseudonymise(person)
    access_log_record(
        user=by, action=AccessAction.DELETE, obj=person, summary="erased on request", request=request
    )
    return changed
