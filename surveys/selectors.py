"""Reads for questionnaire pages, the API and exports, always through the user's scope.

Nothing here returns who answered what for an anonymous administration: summaries are aggregate
(cells under SURVEY_MIN_CELL people are suppressed) and exports carry pseudonymous person keys only.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from surveys.conf import survey_setting
from surveys.models import (
    Administration,
    Answer,
    Instrument,
    InstrumentKind,
    InstrumentVersion,
    Invitation,
    InvitationToken,
    Item,
    ItemKind,
    Phase,
    Scale,
    ScaleScore,
)
from surveys.services import instruments_available, person_key, token_digest
from training.models import Role, StaffMember, TrainingSession, User

SUPPRESSED = "c"


def instrument_list(*, user: User) -> QuerySet[Instrument]:
    """Questionnaires a user can read: what they may attach, plus every one for workforce leads."""
    if user.role == Role.WORKFORCE_LEAD:
        instruments = Instrument.objects.filter(kind=InstrumentKind.QUESTIONNAIRE)
    else:
        instruments = instruments_available(user=user)
    return (
        instruments.select_related("owner", "copied_from")
        .annotate(version_count=Count("versions"))
        .order_by("-is_default", "name")
    )


def instrument_detail(*, user: User, slug: str) -> Instrument:
    return instrument_list(user=user).get(slug=slug)


def version_with_contents(*, instrument: Instrument, number: int | None = None) -> InstrumentVersion:
    versions = instrument.versions.prefetch_related(
        Prefetch("items", queryset=Item.objects.select_related("scale").order_by("position")), "scales"
    )
    return versions.get(number=number) if number else versions.order_by("-number").first()


def invitation_for_token(*, token: str) -> Invitation:
    """The invitation a link belongs to. Raises Invitation.DoesNotExist for any unknown token."""
    found = (
        InvitationToken.objects.select_related(
            "invitation__administration__version__instrument",
            "invitation__administration__session__course",
            # Whether it has been answered, without another query.
            "invitation__response",
        )
        .filter(digest=token_digest(token))
        .first()
    )
    if found is None:
        raise Invitation.DoesNotExist
    return found.invitation


def session_for_results(*, user: User, pk: int) -> TrainingSession:
    return TrainingSession.objects.for_user(user).select_related("course", "trainer").get(pk=pk)


def session_administrations(*, session: TrainingSession) -> QuerySet[Administration]:
    return (
        Administration.objects.filter(session=session)
        .select_related("version__instrument")
        .annotate(
            invited=Count("invitations"),
            sent=Count("invitations", filter=Q(invitations__sent_at__isnull=False)),
            answered=Count("invitations", filter=Q(invitations__response__isnull=False)),
        )
        .order_by("opens_at")
    )


def administrations_for_user(*, user: User) -> QuerySet[Administration]:
    return (
        Administration.objects.filter(session__in=TrainingSession.objects.for_user(user))
        .select_related("version__instrument")
        .annotate(
            invited=Count("invitations"),
            answered=Count("invitations", filter=Q(invitations__response__isnull=False)),
        )
        .order_by("-opens_at", "id")
    )


def response_rate(*, invited: int, answered: int) -> float | None:
    return round(100 * answered / invited, 1) if invited else None


def not_yet_answered(*, administration: Administration) -> QuerySet[StaffMember]:
    """People still to answer, for chasing. Empty for anonymous administrations: knowing who has not
    answered tells you who has."""
    if administration.anonymous:
        return StaffMember.objects.none()
    return StaffMember.objects.filter(
        questionnaire_invitations__administration=administration,
        questionnaire_invitations__response__isnull=True,
    ).order_by("name")


# --- Per-scale summaries -------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    n: int
    value: float | None

    @property
    def shown(self) -> str:
        if self.n < survey_setting("SURVEY_MIN_CELL"):
            return SUPPRESSED
        return "" if self.value is None else f"{self.value:.1f}"


@dataclass(frozen=True)
class Change:
    label: str
    n: int
    before: float | None
    after: float | None

    @property
    def suppressed(self) -> bool:
        return self.n < survey_setting("SURVEY_MIN_CELL")

    @property
    def mean_change(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before


@dataclass(frozen=True)
class ScaleSummary:
    code: str
    name: str
    means: list[Cell]  # one per administration column
    changes: list[Change]  # pre to post, pre to each follow-up, for the same people


def _scores_by_column(administrations: list[Administration]) -> dict[str, dict[str, dict[int, float]]]:
    """{scale code: {column: {staff id: score}}} for submitted responses with a score."""
    columns = {a.pk: a.column for a in administrations}
    rows = ScaleScore.objects.filter(
        response__invitation__administration__in=columns, score__isnull=False
    ).values_list(
        "scale__code", "response__invitation__administration_id", "response__invitation__staff_id", "score"
    )
    scores: dict[str, dict[str, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    for code, administration_id, staff_id, score in rows:
        scores[code][columns[administration_id]][staff_id] = score
    return scores


def scale_summary(*, administrations: list[Administration]) -> list[ScaleSummary]:
    """Mean score per scale and phase, and the mean change for people matched across phases.

    People are matched through their invitations, so matching works in anonymous mode too; only
    the aggregates leave this function."""
    if not administrations:
        return []
    scores = _scores_by_column(administrations)
    scales = Scale.objects.filter(version__in={a.version_id for a in administrations}).order_by("id")
    names: dict[str, str] = {}
    for scale in scales:
        names.setdefault(scale.code, scale.name)
    pre = next((a.column for a in administrations if a.phase == Phase.PRE), None)
    later = [a for a in administrations if a.phase != Phase.PRE]
    summaries = []
    for code, name in names.items():
        by_column = scores.get(code, {})
        means = []
        for administration in administrations:
            values = list(by_column.get(administration.column, {}).values())
            means.append(Cell(len(values), statistics.fmean(values) if values else None))
        changes = []
        # Reaction and intention are asked only after the training: there is no "before" to compare.
        for administration in later if by_column.get(pre) else []:
            before, after = by_column.get(pre, {}), by_column.get(administration.column, {})
            matched = sorted(before.keys() & after.keys())
            changes.append(
                Change(
                    label=f"Before to {administration.label.lower()}",
                    n=len(matched),
                    before=statistics.fmean(before[s] for s in matched) if matched else None,
                    after=statistics.fmean(after[s] for s in matched) if matched else None,
                )
            )
        if any(cell.n for cell in means):
            summaries.append(ScaleSummary(code, name, means, changes))
    return summaries


# --- Exports (person keys only, never names or emails) -------------------------------------------

LONG_HEADER = ["person_key", "session", "course", "phase", "instrument", "version", "item", "answer"]


class ExportRefused(Exception):
    """An anonymous session's answers cannot be exported yet: too few people to hide among."""


def _export_key(staff_id: int, session_id: int, anonymous: bool) -> str:
    return person_key(staff_id, anonymous_session=session_id if anonymous else None)


def export_administrations(*, administrations: list[Administration]) -> list[Administration]:
    """The administrations an export may include: every named one, and an anonymous one only once
    at least SURVEY_MIN_CELL people answered it, the figure under which the session's page shows
    "c". One person's row of answers is what the page's suppression hides, so an export of a
    smaller group would undo it. Raises ExportRefused when that leaves nothing: every questionnaire
    is anonymous and none has been answered by enough people."""
    minimum = survey_setting("SURVEY_MIN_CELL")
    anonymous = [a for a in administrations if a.anonymous]
    answered = (
        dict(
            Invitation.objects.filter(administration__in=anonymous, response__submitted_at__isnull=False)
            .values_list("administration_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        if anonymous
        else {}
    )
    kept = [a for a in administrations if not a.anonymous or answered.get(a.pk, 0) >= minimum]
    if anonymous and not kept:
        raise ExportRefused(
            f"These questionnaires are anonymous and fewer than {minimum} people have answered any of "
            "them, so their answers cannot be exported yet: with so few, someone could tell who gave "
            f"which answers. The export opens once at least {minimum} people have answered."
        )
    return kept


def export_long(*, administrations: list[Administration]) -> Iterator[list]:
    """One row per answer. Rows are ordered by person key, which reveals nothing about who is who.

    Anonymous questionnaires leave out free text, where people may write what identifies them;
    pass the administrations through ``export_administrations`` first."""
    yield LONG_HEADER
    rows = (
        Answer.objects.filter(
            Q(response__invitation__administration__anonymous=False) | ~Q(item__kind=ItemKind.FREE_TEXT),
            response__invitation__administration__in=administrations,
            response__submitted_at__isnull=False,
        )
        .values_list(
            "response__invitation__staff_id",
            "response__invitation__administration__session_id",
            "response__invitation__administration__anonymous",
            "response__invitation__administration__session__course__slug",
            "response__invitation__administration__phase",
            "response__invitation__administration__offset_days",
            "response__version__instrument__slug",
            "response__version__number",
            "item__code",
            "item__position",
            "value",
            "text",
        )
        .iterator(chunk_size=2000)
    )
    keyed = []
    for (
        staff_id,
        session_id,
        anonymous,
        course,
        phase,
        offset,
        instrument,
        version,
        item,
        position,
        value,
        text,
    ) in rows:
        column = f"follow_up_{offset}" if phase == Phase.FOLLOW_UP else phase
        key = _export_key(staff_id, session_id, anonymous)
        # An anonymous answer is its chosen value only, never a comment typed beside it.
        answer = value if anonymous else value or text
        keyed.append(
            ((key, offset, position), [key, session_id, course, column, instrument, version, item, answer])
        )
    for _, row in sorted(keyed, key=lambda pair: pair[0]):
        yield row


def export_wide(*, administrations: list[Administration]) -> Iterator[list]:
    """One row per person key: a column per scale and phase (e.g. knowledge_pre, knowledge_post).
    A person's named and anonymous answers have different keys, so they are never in one row."""
    by_id = {a.pk: a for a in administrations}
    rows = ScaleScore.objects.filter(
        response__invitation__administration__in=by_id, score__isnull=False
    ).values_list(
        "scale__code", "response__invitation__administration_id", "response__invitation__staff_id", "score"
    )
    scores: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for code, administration_id, staff_id, score in rows:
        administration = by_id[administration_id]
        key = _export_key(staff_id, administration.session_id, administration.anonymous)
        scores[code][administration.column][key] = score
    columns = [a.column for a in administrations]
    scale_codes = list(scores)
    yield ["person_key"] + [f"{code}_{column}" for code in scale_codes for column in columns]
    people = sorted({key for code in scores.values() for by_key in code.values() for key in by_key})
    for key in people:
        row: list = [key]
        for code in scale_codes:
            for column in columns:
                score = scores[code].get(column, {}).get(key)
                row.append("" if score is None else round(score, 4))
        yield row
