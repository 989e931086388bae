"""Reads of referrals, audits, the schedule and coverage, always through the user's scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncQuarter

from practice.models import (
    GRADE_LABELS,
    AssignmentStatus,
    Audit,
    AuditAssignment,
    AuditStatus,
    Referral,
)
from surveys.models import Answer, Item
from training.models import Role, Team, User


def managed_team_ids(*, user: User) -> set[int]:
    """Teams whose local labels this user may see (see ``services.label_visible``)."""
    if user.role != Role.MANAGER:
        return set()
    return set(user.managed_teams.values_list("pk", flat=True))


def referral_list(
    *, user: User, team: str = "", outcome: str = "", search_id: str = ""
) -> QuerySet[Referral]:
    first_submitted = Audit.objects.filter(
        referral=OuterRef("pk"), is_second=False, status=AuditStatus.SUBMITTED
    )
    referrals = (
        Referral.objects.for_user(user)
        .select_related("staff__team")
        .annotate(audited=Exists(first_submitted))
    )
    if team:
        referrals = referrals.filter(staff__team__slug=team)
    if outcome:
        referrals = referrals.filter(outcome=outcome)
    if search_id.isdigit():
        referrals = referrals.filter(pk=int(search_id))
    return referrals.order_by("-made_on", "-id")


def referral_detail(*, user: User, pk: int) -> Referral:
    return Referral.objects.for_user(user).select_related("staff__team__organisation").get(pk=pk)


def referral_audits(*, user: User, referral: Referral) -> QuerySet[Audit]:
    """The referral's audits this user may see (a blind pair's other half is hidden)."""
    return (
        Audit.objects.for_user(user).filter(referral=referral).select_related("auditor").order_by("is_second")
    )


def audit_detail(*, user: User, pk: int) -> Audit:
    return (
        Audit.objects.for_user(user)
        .select_related("referral__staff__team__organisation", "auditor", "version__instrument", "response")
        .get(pk=pk)
    )


@dataclass(frozen=True)
class CriterionRow:
    item: Item
    grade: str
    evidence: str

    @property
    def grade_label(self) -> str:
        return GRADE_LABELS.get(int(self.grade), "") if self.grade else ""


def audit_criteria(*, audit: Audit) -> list[CriterionRow]:
    """Every criterion of the audit's rubric version with the grade and evidence given so far."""
    answers = {a.item_id: a for a in Answer.objects.filter(response_id=audit.response_id)}
    return [
        CriterionRow(
            item,
            answers[item.pk].value if item.pk in answers else "",
            answers[item.pk].text if item.pk in answers else "",
        )
        for item in audit.version.items.order_by("position")
    ]


def audits_due(*, user: User) -> QuerySet[AuditAssignment]:
    """Proposals waiting for this user: assigned to them, or unassigned in their teams."""
    due = AuditAssignment.objects.for_user(user).filter(status=AssignmentStatus.DUE)
    if not user.is_administrator:
        managed = User.managed_teams.through.objects.filter(
            team_id=OuterRef("referral__staff__team_id"), user_id=user.pk
        )
        due = due.filter(Q(assigned_manager=user) | (Q(assigned_manager__isnull=True) & Q(Exists(managed))))
    return due.select_related("referral__staff__team", "assigned_manager").order_by("due_on", "id")


def audit_history(*, user: User, team: str = "") -> QuerySet[Audit]:
    audits = Audit.objects.for_user(user).filter(status=AuditStatus.SUBMITTED)
    if team:
        audits = audits.filter(referral__staff__team__slug=team)
    return audits.select_related("referral__staff__team", "auditor").order_by("-submitted_at", "-id")


def _overall(is_second: bool) -> Subquery:
    return Subquery(
        Audit.objects.filter(
            referral=OuterRef("pk"), is_second=is_second, status=AuditStatus.SUBMITTED
        ).values("overall_grade")[:1]
    )


def moderation_queue(*, user: User) -> QuerySet[Referral]:
    """Double-audited referrals in scope whose two submitted audits differ and that nobody has
    moderated yet. Criteria are compared in the database so the list costs one query."""
    same_in_first = Answer.objects.filter(
        response__audit__referral_id=OuterRef("response__audit__referral_id"),
        response__audit__is_second=False,
        item_id=OuterRef("item_id"),
        value=OuterRef("value"),
    )
    differing = Answer.objects.filter(
        response__audit__referral_id=OuterRef("pk"), response__audit__is_second=True
    ).exclude(Exists(same_in_first))
    return (
        Referral.objects.for_user(user)
        .filter(moderation__isnull=True)
        .annotate(first_overall=_overall(False), second_overall=_overall(True))
        .filter(first_overall__isnull=False, second_overall__isnull=False)
        .filter(~Q(first_overall=F("second_overall")) | Exists(differing))
        .select_related("staff__team")
        .order_by("made_on", "id")
    )


@dataclass(frozen=True)
class CoverageRow:
    team: Team
    quarter: dt.date
    referrals: int
    audited: int
    second_audited: int

    @property
    def audited_share(self) -> float:
        return self.audited / self.referrals if self.referrals else 0.0


def coverage(*, user: User, since: dt.date | None = None) -> list[CoverageRow]:
    """Audit coverage by team and calendar quarter: how many referrals were made and what share
    has a submitted audit (and a second audit). Counts only, never grades or evidence."""
    teams = {t.pk: t for t in Team.objects.for_user(user).select_related("organisation")}
    submitted = Audit.objects.filter(referral=OuterRef("pk"), status=AuditStatus.SUBMITTED)
    referrals = Referral.objects.filter(staff__team_id__in=list(teams))
    if since:
        referrals = referrals.filter(made_on__gte=since)
    rows = (
        referrals.annotate(
            audited=Exists(submitted.filter(is_second=False)), second=Exists(submitted.filter(is_second=True))
        )
        .annotate(quarter=TruncQuarter("made_on"))
        .values("staff__team_id", "quarter")
        .annotate(
            n=Count("id"),
            n_audited=Count("id", filter=Q(audited=True)),
            n_second=Count("id", filter=Q(second=True)),
        )
        .order_by("staff__team_id", "quarter")
    )
    return sorted(
        (
            CoverageRow(teams[r["staff__team_id"]], r["quarter"], r["n"], r["n_audited"], r["n_second"])
            for r in rows
        ),
        key=lambda row: (str(row.team), row.quarter),
    )


@dataclass(frozen=True)
class RereferralRate:
    referrals: int
    rereferrals: int

    @property
    def rate(self) -> float | None:
        return self.rereferrals / self.referrals if self.referrals else None


def rereferral_rate(*, user: User, start: dt.date, end: dt.date, team: Team | None = None) -> RereferralRate:
    """Share of referrals made in [start, end] that were re-referrals within 12 months (the
    national children-in-need measure, counted here over the referrals this user can see)."""
    referrals = Referral.objects.for_user(user).filter(made_on__gte=start, made_on__lte=end)
    if team is not None:
        referrals = referrals.filter(staff__team=team)
    counts = referrals.aggregate(n=Count("id"), re=Count("id", filter=Q(is_rereferral=True)))
    return RereferralRate(counts["n"], counts["re"])
