"""Reads of training records, always through the user's scope."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.utils import timezone

from training.models import (
    TRAINED_STATUSES,
    Attendance,
    Course,
    Organisation,
    Partnership,
    Role,
    StaffMember,
    Team,
    TrainingSession,
    User,
)


def course_list(*, user: User, search: str = "") -> QuerySet[Course]:
    courses = Course.objects.for_user(user).select_related("owner", "organisation")
    if search:
        courses = courses.filter(Q(title__icontains=search) | Q(slug__icontains=search))
    return courses.annotate(session_count=Count("sessions", distinct=True)).order_by("title")


def course_detail(*, user: User, slug: str) -> Course:
    return Course.objects.for_user(user).select_related("owner", "organisation").get(slug=slug)


def course_sessions(*, user: User, course: Course) -> QuerySet[TrainingSession]:
    return (
        TrainingSession.objects.for_user(user)
        .filter(course=course)
        .select_related("trainer")
        .annotate(
            booked=Count("attendances"),
            trained=Count("attendances", filter=Q(attendances__status__in=TRAINED_STATUSES)),
        )
        .order_by("-start")
    )


def session_detail(*, user: User, pk: int) -> TrainingSession:
    return TrainingSession.objects.for_user(user).select_related("course", "trainer").get(pk=pk)


def session_register(*, user: User, session: TrainingSession) -> QuerySet[Attendance]:
    return (
        Attendance.objects.for_user(user)
        .filter(session=session)
        .select_related("staff__team__organisation")
        .order_by("staff__name")
    )


def upcoming_sessions(*, user: User, limit: int = 10) -> QuerySet[TrainingSession]:
    return (
        TrainingSession.objects.for_user(user)
        .filter(start__gte=timezone.now())
        .select_related("course")
        .order_by("start")[:limit]
    )


def staff_list(*, user: User, search: str = "", team: str = "") -> QuerySet[StaffMember]:
    staff = StaffMember.objects.for_user(user).select_related("team__organisation")
    if search:
        staff = staff.filter(Q(name__icontains=search) | Q(work_email__icontains=search))
    if team:
        staff = staff.filter(team__slug=team)
    return staff.annotate(
        sessions_trained=Count("attendances", filter=Q(attendances__status__in=TRAINED_STATUSES)),
        last_trained=Max("attendances__session__start", filter=Q(attendances__status__in=TRAINED_STATUSES)),
    ).order_by("name")


def staff_detail(*, user: User, pk: int) -> StaffMember:
    attendance = Attendance.objects.select_related("session__course").order_by("-session__start")
    return (
        StaffMember.objects.for_user(user)
        .select_related("team__organisation")
        .prefetch_related(Prefetch("attendances", queryset=attendance))
        .get(pk=pk)
    )


def _staff_and_trained_counts(staff: str) -> dict[str, Count]:
    """Annotations counting the active staff reached through ``staff`` (a lookup path) and how
    many of them attended training in the last 12 months."""
    since = timezone.now() - dt.timedelta(days=365)
    active = Q(**{f"{staff}__active": True})
    trained = active & Q(
        **{
            f"{staff}__attendances__status__in": TRAINED_STATUSES,
            f"{staff}__attendances__session__start__gte": since,
        }
    )
    return {
        "staff_count": Count(staff, filter=active, distinct=True),
        "trained_last_year": Count(staff, filter=trained, distinct=True),
    }


def teams_for(*, user: User) -> QuerySet[Team]:
    return (
        Team.objects.for_user(user)
        .select_related("organisation")
        .annotate(**_staff_and_trained_counts("staff"))
    )


def partnership_seen_by(*, user: User) -> Partnership | None:
    """The partnership a workforce lead sees beyond their own organisation, if they see one
    (the same rule as ``organisation_ids_for_lead``)."""
    if user.role != Role.WORKFORCE_LEAD or not user.sees_partnership or user.organisation_id is None:
        return None
    return user.organisation.partnership


def organisations_for(*, user: User) -> QuerySet[Organisation]:
    """The organisations in the user's scope, with their active staff and how many of them were
    trained in the last 12 months: a workforce lead's view of their organisation or partnership."""
    return (
        Organisation.objects.for_user(user)
        .annotate(**_staff_and_trained_counts("teams__staff"))
        .order_by("name")
    )


def dashboard_counts(*, user: User) -> dict[str, int]:
    since = timezone.now() - dt.timedelta(days=365)
    return {
        "courses": Course.objects.for_user(user).count(),
        "sessions_last_year": TrainingSession.objects.for_user(user).filter(start__gte=since).count(),
        "staff": StaffMember.objects.for_user(user).filter(active=True).count(),
        "trained_last_year": StaffMember.objects.for_user(user)
        .filter(active=True, attendances__status__in=TRAINED_STATUSES, attendances__session__start__gte=since)
        .distinct()
        .count(),
    }
