"""Data frames for the impact report, built from the database at the edge of the analysis package.

Each frame is one aggregated or ``values_list`` query, whatever the size of the selection, so the
number of queries is constant. Questionnaire scale scores are read as stored at submission; nothing
is re-scored except a bounded sample of item answers used for Cronbach's alpha.

Scope: every frame is restricted to staff the user may see (``StaffMember.objects.for_user``) and,
for trainers, to courses they own, are assigned to or deliver. Individual ids leave this module only
inside frames that the report aggregates; no section lists people.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from analysis.impact import ImpactFrames
from practice.models import Audit, AuditStatus, Outcome, Referral
from surveys.models import Answer, Construct, Invitation, Item, ItemKind, ScaleScore
from surveys.scoring import ItemRule, item_score
from training.models import (
    Attendance,
    Course,
    Organisation,
    Partnership,
    Profession,
    Role,
    StaffMember,
    Team,
    TrainingSession,
    User,
)

LEARNING = (
    Construct.REACTION,
    Construct.INTENTION,
    Construct.ATTITUDES,
    Construct.KNOWLEDGE,
    Construct.CONFIDENCE,
)
OUTCOME_GROUPS = {
    Outcome.ACCEPTED: "accepted",
    Outcome.STRATEGY: "accepted",
    Outcome.NFA: "nfa",
    Outcome.PENDING: "pending",
}
# Cronbach's alpha needs item-level answers; a recent sample of this many responses per report is
# plenty for a stable estimate and keeps national-scale reports fast.
ALPHA_SAMPLE_RESPONSES = 2000


@dataclass(frozen=True)
class Selection:
    """What a report covers. Empty fields mean "everything in the user's scope"."""

    course: Course | None = None
    session: TrainingSession | None = None
    organisation: Organisation | None = None
    partnership: Partnership | None = None
    team: Team | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    professions: tuple[str, ...] = ()
    agency_kinds: tuple[str, ...] = ()
    labels: tuple[str, ...] = field(default=(), compare=False)

    def describe(self) -> str:
        return "; ".join(self.labels) if self.labels else "Everything you can see"

    def cache_key(self) -> str:
        return "|".join(
            str(x)
            for x in (
                getattr(self.course, "pk", ""),
                getattr(self.session, "pk", ""),
                getattr(self.organisation, "pk", ""),
                getattr(self.partnership, "pk", ""),
                getattr(self.team, "pk", ""),
                self.date_from or "",
                self.date_to or "",
                ",".join(sorted(self.professions)),
                ",".join(sorted(self.agency_kinds)),
            )
        )


def _parse_date(value: str, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError({name: f"Enter the date as YYYY-MM-DD, not {value!r}."}) from None


def selection_from_params(*, user: User, params) -> Selection:
    """Read a selection from query parameters (or command options), checking it against the user's
    scope. Anything named that the user cannot see is refused exactly like something that does
    not exist, so a report cannot be used to discover other teams' records."""
    errors: dict[str, str] = {}
    labels: list[str] = []

    def pick(name: str, queryset: QuerySet, lookup: str, label):
        value = (params.get(name) or "").strip()
        if not value:
            return None
        found = queryset.filter(**{lookup: value}).first()
        if found is None:
            errors[name] = f"No {name.replace('_', ' ')} called {value!r} that you can see."
            return None
        labels.append(label(found))
        return found

    course = pick("course", Course.objects.for_user(user), "slug", lambda c: f"Course: {c.title}")
    session_id = (params.get("session") or "").strip()
    session = None
    if session_id:
        if not session_id.isdigit():
            errors["session"] = "The session must be a number."
        else:
            session = pick("session", TrainingSession.objects.for_user(user), "pk", lambda s: f"Session: {s}")
    organisation = pick(
        "organisation", Organisation.objects.for_user(user), "slug", lambda o: f"Organisation: {o.name}"
    )
    partnership = pick(
        "partnership",
        Partnership.objects.filter(organisations__in=Organisation.objects.for_user(user)).distinct(),
        "slug",
        lambda p: f"Partnership: {p.name}",
    )
    team = pick("team", Team.objects.for_user(user), "slug", lambda t: f"Team: {t.name}")
    date_from = date_to = None
    try:
        date_from = _parse_date((params.get("from") or params.get("date_from") or "").strip(), "from")
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        date_to = _parse_date((params.get("to") or params.get("date_to") or "").strip(), "to")
    except ValidationError as error:
        errors.update(error.message_dict)
    if date_from and date_to and date_to < date_from:
        errors["to"] = "The end date must be on or after the start date."
    if date_from or date_to:
        labels.append(f"Period: {date_from or 'the start'} to {date_to or 'today'}")
    getlist = params.getlist if hasattr(params, "getlist") else lambda k: params.get(k) or []
    professions = tuple(p for p in getlist("profession") if p)
    unknown = set(professions) - set(Profession.values)
    if unknown:
        errors["profession"] = f"Unknown profession: {', '.join(sorted(unknown))}."
    elif professions:
        labels.append("Professions: " + ", ".join(Profession(p).label for p in professions))
    agency_kinds = tuple(k for k in getlist("agency") if k)
    unknown = set(agency_kinds) - set(Organisation.Kind.values)
    if unknown:
        errors["agency"] = f"Unknown kind of agency: {', '.join(sorted(unknown))}."
    elif agency_kinds:
        labels.append("Agencies: " + ", ".join(Organisation.Kind(k).label for k in agency_kinds))
    if errors:
        raise ValidationError(errors)
    return Selection(
        course=course,
        session=session,
        organisation=organisation,
        partnership=partnership,
        team=team,
        date_from=date_from,
        date_to=date_to,
        professions=professions,
        agency_kinds=agency_kinds,
        labels=tuple(labels),
    )


def staff_in_selection(*, user: User, selection: Selection) -> QuerySet[StaffMember]:
    staff = StaffMember.objects.for_user(user)
    if selection.team:
        staff = staff.filter(team=selection.team)
    if selection.organisation:
        staff = staff.filter(team__organisation=selection.organisation)
    if selection.partnership:
        staff = staff.filter(team__organisation__partnership=selection.partnership)
    if selection.professions:
        staff = staff.filter(profession__in=selection.professions)
    if selection.agency_kinds:
        staff = staff.filter(team__organisation__kind__in=selection.agency_kinds)
    return staff


def courses_in_selection(*, user: User, selection: Selection) -> QuerySet[Course]:
    courses = Course.objects.for_user(user)
    if selection.course:
        courses = courses.filter(pk=selection.course.pk)
    if selection.session:
        courses = courses.filter(pk=selection.session.course_id)
    return courses


def sessions_in_selection(*, user: User, selection: Selection) -> QuerySet[TrainingSession]:
    sessions = TrainingSession.objects.filter(course__in=courses_in_selection(user=user, selection=selection))
    if selection.session:
        sessions = sessions.filter(pk=selection.session.pk)
    if selection.date_from:
        sessions = sessions.filter(start__date__gte=selection.date_from)
    if selection.date_to:
        sessions = sessions.filter(start__date__lte=selection.date_to)
    return sessions


def data_stamp() -> str:
    """Changes whenever anything a report reads changes, so cached reports are never stale."""
    parts = [
        ScaleScore.objects.aggregate(n=Count("id"), last=Max("id")),
        Audit.objects.aggregate(n=Count("id"), last=Max("updated_at")),
        Referral.objects.aggregate(n=Count("id"), last=Max("id")),
        Attendance.objects.aggregate(n=Count("id"), last=Max("updated_at")),
        Invitation.objects.aggregate(n=Count("id"), answered=Count("response")),
    ]
    return "|".join(f"{p}" for p in parts)


def _frame(rows, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=columns)


def build_frames(*, user: User, selection: Selection) -> ImpactFrames:
    staff = staff_in_selection(user=user, selection=selection).values("id")
    sessions = sessions_in_selection(user=user, selection=selection)
    courses = courses_in_selection(user=user, selection=selection)

    answered = ScaleScore.objects.filter(
        response__submitted_at__isnull=False,
        response__invitation__staff__in=staff,
        response__invitation__administration__session__in=sessions,
        scale__construct__in=LEARNING,
    )
    scores = _frame(
        answered.values_list(
            "response__invitation__staff_id",
            "response__invitation__administration__session_id",
            "response__invitation__administration__session__course_id",
            "response__invitation__administration__phase",
            "response__invitation__administration__offset_days",
            "scale__construct",
            "scale__code",
            "score",
        ),
        ["person", "session", "course", "phase", "offset_days", "construct", "scale", "score"],
    )

    sample_responses = (
        answered.filter(response__invitation__administration__phase="pre")
        .order_by("-response_id")
        .values("response_id")[:ALPHA_SAMPLE_RESPONSES]
    )
    item_rows = Answer.objects.filter(
        response_id__in=sample_responses,
        item__scale__construct__in=(Construct.ATTITUDES, Construct.KNOWLEDGE, Construct.CONFIDENCE),
    ).exclude(item__kind=ItemKind.FREE_TEXT)
    items = []
    for response_id, construct, item_id, kind, reverse, correct, scale_id, value in item_rows.values_list(
        "response_id",
        "item__scale__construct",
        "item_id",
        "item__kind",
        "item__reverse_coded",
        "item__correct_answer",
        "item__scale_id",
        "value",
    ):
        score = item_score(ItemRule(item_id, scale_id, kind, reverse, correct), value)
        if score is not None:
            items.append((response_id, construct, item_id, score, "pre"))
    item_scores = _frame(items, ["response", "construct", "item", "value", "phase"])

    invitations = _frame(
        Invitation.objects.filter(
            staff__in=staff,
            administration__session__in=sessions,
            administration__opens_at__lte=timezone.now(),
        )
        .values_list("administration__phase", "administration__offset_days")
        .annotate(invited=Count("id"), answered=Count("response"))
        .order_by("administration__phase", "administration__offset_days"),
        ["phase", "offset_days", "invited", "answered"],
    )

    referral_filter = Q(staff__in=staff)
    if selection.date_from:
        referral_filter &= Q(made_on__gte=selection.date_from)
    if selection.date_to:
        referral_filter &= Q(made_on__lte=selection.date_to)
    referrals_qs = Referral.objects.filter(referral_filter)
    referrals = _frame(
        referrals_qs.values_list("id", "staff_id", "made_on", "outcome", "is_rereferral"),
        ["referral", "staff", "made_on", "outcome_group", "is_rereferral"],
    )
    referrals["outcome_group"] = referrals["outcome_group"].map(OUTCOME_GROUPS).fillna("other")

    submitted = Audit.objects.filter(status=AuditStatus.SUBMITTED, referral__in=referrals_qs)
    audits = _frame(
        submitted.values_list(
            "id",
            "referral_id",
            "referral__staff_id",
            "referral__staff__team_id",
            "auditor_id",
            "referral__made_on",
            "score_0_100",
            "is_second",
            "response_id",
        ),
        ["audit", "referral", "staff", "team", "auditor", "made_on", "score", "is_second", "response"],
    )
    # Criterion grades are the largest frame (one row per criterion of every audit, about ten times
    # the audits). Joining the criterion's code and full wording onto every row, and sorting them,
    # made this the slowest query of the report, so the query returns only ids and the grade, and
    # the few rubric items are read once and mapped here.
    rubric = _frame(
        Item.objects.filter(kind=ItemKind.RUBRIC_4)
        .order_by("position", "id")
        .values_list("id", "code", "text"),
        ["item", "criterion", "label"],
    )
    grades = _frame(
        Answer.objects.filter(response_id__in=submitted.values("response_id"), item__kind=ItemKind.RUBRIC_4)
        .exclude(value="")
        .values_list("response_id", "item_id", "value"),
        ["response", "item", "grade"],
    )
    grades["grade"] = grades["grade"].astype(int)
    # Rows in the rubric's order, as the report lists criteria in the order auditors see them.
    grades["order"] = grades["item"].map(pd.Series(range(len(rubric)), index=rubric["item"]))
    criteria = (
        grades.sort_values("order", kind="stable")
        .merge(audits[["audit", "response"]], on="response")
        .merge(rubric, on="item")[["audit", "criterion", "label", "grade"]]
    )
    audits = audits.drop(columns="response")
    # An empty selection gives object columns; a boolean mask or a mean on them would then fail.
    audits = audits.astype({"is_second": bool, "score": float})
    referrals = referrals.astype({"is_rereferral": bool})

    trained = Attendance.objects.trained().filter(staff__in=staff, session__in=sessions)
    # The local date of the first session, computed in the database (in the current time zone, as
    # timezone.localtime would) rather than converting every timestamp in Python.
    training = _frame(
        trained.values_list("staff_id", "session__course_id")
        .annotate(first=Min(TruncDate("session__start")))
        .values_list("staff_id", "session__course_id", "first"),
        ["staff", "course", "first_trained"],
    )
    course_frame = _frame(
        courses.values_list("id", "title", "delivery_mode"), ["course", "title", "delivery_mode"]
    )
    return ImpactFrames(
        scores=scores,
        item_scores=item_scores,
        invitations=invitations,
        audits=audits,
        criteria=criteria,
        training=training,
        referrals=referrals,
        courses=course_frame,
    )


def report_roles() -> tuple[str, ...]:
    return (Role.TRAINER, Role.MANAGER, Role.WORKFORCE_LEAD)
