"""Writes to training records. Views and API views call these; they never save models directly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from training.models import (
    Attendance,
    AttendanceStatus,
    Course,
    Organisation,
    Profession,
    Role,
    StaffMember,
    TrainingSession,
    User,
)


def _unique_course_slug(title: str) -> str:
    base = slugify(title)[:70] or "course"
    slug, n = base, 2
    while Course.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _check_professions(codes: list[str]) -> None:
    unknown = sorted(set(codes) - set(Profession.values))
    if unknown:
        raise ValidationError({"target_professions": f"Unknown profession: {', '.join(unknown)}."})


@transaction.atomic
def course_create(
    *,
    owner: User,
    title: str,
    topic: str,
    delivery_mode: str,
    duration_hours: Decimal,
    organisation: Organisation | None = None,
    learning_outcomes: str = "",
    target_professions: list[str] | None = None,
    slug: str = "",
) -> Course:
    if not owner.has_role(Role.TRAINER):
        raise PermissionDenied("Only trainers and administrators create courses.")
    organisation = organisation or owner.organisation
    if organisation is None:
        raise ValidationError({"organisation": "Choose the organisation that provides the course."})
    professions = list(target_professions or [])
    _check_professions(professions)
    course = Course(
        owner=owner,
        title=title.strip(),
        slug=slug or _unique_course_slug(title),
        topic=topic,
        delivery_mode=delivery_mode,
        duration_hours=duration_hours,
        organisation=organisation,
        learning_outcomes=learning_outcomes.strip(),
        target_professions=professions,
    )
    course.full_clean()
    course.save()
    return course


COURSE_EDITABLE_FIELDS = (
    "title",
    "topic",
    "delivery_mode",
    "duration_hours",
    "learning_outcomes",
    "target_professions",
)


@transaction.atomic
def course_update(*, course: Course, by: User, **changes) -> Course:
    if not Course.objects.managed_by(by).filter(pk=course.pk).exists():
        raise PermissionDenied("You can only change courses you own or are assigned to.")
    unexpected = set(changes) - set(COURSE_EDITABLE_FIELDS)
    if unexpected:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unexpected))}.")
    if "target_professions" in changes:
        _check_professions(list(changes["target_professions"]))
    for field, value in changes.items():
        setattr(course, field, value)
    course.full_clean()
    course.save()
    return course


def _check_session_times(start: dt.datetime, end: dt.datetime) -> None:
    if end <= start:
        raise ValidationError({"end": "The session must end after it starts."})


@transaction.atomic
def session_create(
    *,
    course: Course,
    by: User,
    start: dt.datetime,
    end: dt.datetime,
    trainer: User | None = None,
    venue: str = "",
    online_link: str = "",
    capacity: int = 20,
) -> TrainingSession:
    if not Course.objects.managed_by(by).filter(pk=course.pk).exists():
        raise PermissionDenied("You can only add sessions to courses you own or are assigned to.")
    _check_session_times(start, end)
    session = TrainingSession(
        course=course,
        start=start,
        end=end,
        trainer=trainer or (by if by.role == Role.TRAINER else None),
        venue=venue,
        online_link=online_link,
        capacity=capacity,
    )
    session.full_clean()
    session.save()
    return session


SESSION_EDITABLE_FIELDS = ("start", "end", "trainer", "venue", "online_link", "capacity")


@transaction.atomic
def session_update(*, session: TrainingSession, by: User, **changes) -> TrainingSession:
    if not TrainingSession.objects.managed_by(by).filter(pk=session.pk).exists():
        raise PermissionDenied("You can only change sessions of courses you own, are assigned to or deliver.")
    unexpected = set(changes) - set(SESSION_EDITABLE_FIELDS)
    if unexpected:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unexpected))}.")
    for field, value in changes.items():
        setattr(session, field, value)
    _check_session_times(session.start, session.end)
    session.full_clean()
    session.save()
    return session


@transaction.atomic
def attendance_mark(*, session: TrainingSession, by: User, statuses: Mapping[int, str]) -> list[Attendance]:
    """Record attendance for several people at once (the trainer's register).

    ``statuses`` maps staff member id to a status. People already on the register are
    updated; new people are added. Runs in one transaction: a bad status saves nothing.
    """
    if not TrainingSession.objects.managed_by(by).filter(pk=session.pk).exists():
        raise PermissionDenied("You can only mark attendance for sessions you manage or deliver.")
    bad = {staff_id: status for staff_id, status in statuses.items() if status not in AttendanceStatus.values}
    if bad:
        raise ValidationError(f"Unknown attendance status for {len(bad)} people.")
    visible_staff = set(
        StaffMember.objects.for_user(by).filter(id__in=list(statuses)).values_list("id", flat=True)
    )
    missing = set(statuses) - visible_staff
    if missing:
        raise ValidationError("Some of these people are not in the staff directory you can book from.")

    existing = {
        a.staff_id: a for a in Attendance.objects.filter(session=session, staff_id__in=list(statuses))
    }
    to_update, to_create = [], []
    for staff_id, status in statuses.items():
        if staff_id in existing:
            if existing[staff_id].status != status:
                existing[staff_id].status = status
                to_update.append(existing[staff_id])
        else:
            to_create.append(Attendance(session=session, staff_id=staff_id, status=status))
    # bulk_update bypasses auto_now, so stamp the change time ourselves.
    now = timezone.now()
    for attendance in to_update:
        attendance.updated_at = now
    Attendance.objects.bulk_update(to_update, ["status", "updated_at"])
    created = Attendance.objects.bulk_create(to_create)
    return [*to_update, *created]
