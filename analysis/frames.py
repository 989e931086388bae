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
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from analysis.impact import ImpactFrames
from analysis.rows import frame_from_rows, read_frame, worth_streaming
from practice.grading import RUBRIC_ORDER, UNGRADED
from practice.models import Audit, AuditStatus, Outcome, Referral
from surveys.models import (
    Administration,
    Answer,
    Construct,
    Invitation,
    Item,
    ItemKind,
    Phase,
    Response,
    Scale,
    ScaleScore,
)
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

# Asked just after training (level 1): how relevant the training was, and whether they will use it.
AFTER_TRAINING = (Construct.REACTION, Construct.INTENTION)
# What training is meant to change (level 2), measured before training, just after and at follow-up.
LEARNT = (Construct.ATTITUDES, Construct.KNOWLEDGE, Construct.CONFIDENCE)
LEARNING = (*AFTER_TRAINING, *LEARNT)
OUTCOME_GROUPS = {
    Outcome.ACCEPTED: "accepted",
    Outcome.STRATEGY: "accepted",
    Outcome.NFA: "nfa",
    Outcome.PENDING: "pending",
}
# Cronbach's alpha needs item-level answers; the responses behind the most recent this-many scale
# scores before training (one score per scale, so about 400 responses of five scales) are plenty
# for a stable estimate and keep national-scale reports fast.
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
    """The sessions whose questionnaires the report reads: every session of the selected courses,
    or the one selected. A period does not narrow them: it applies to when answers were given
    (and referrals made), not to when people were trained."""
    sessions = TrainingSession.objects.filter(course__in=courses_in_selection(user=user, selection=selection))
    if selection.session:
        sessions = sessions.filter(pk=selection.session.pk)
    return sessions


def _in_period(selection: Selection, field: str) -> Q:
    """Rows whose ``field`` (a date, or a datetime's local date with ``__date``) is in the period."""
    condition = Q()
    if selection.date_from:
        condition &= Q(**{f"{field}__gte": selection.date_from})
    if selection.date_to:
        condition &= Q(**{f"{field}__lte": selection.date_to})
    return condition


def data_stamp() -> str:
    """Changes whenever anything a report reads changes, so cached reports are never stale.

    Aggregates of each table, whatever the size of the data, read in one statement (nine queries
    took a quarter longer, mostly in round trips and building them), each aggregate a subquery of
    its own so that a latest id or ``updated_at`` is read from the end of its index rather than by
    scanning the table alongside the count (a third of the stamp's time at local-authority
    scale). Counts catch inserts and deletes; the latest id catches a delete followed by an insert
    (ids are never reused); the latest ``updated_at`` catches edits (an audit regraded, a
    referral's outcome recorded). An answered invitation is counted as its response (one each),
    without joining the two. Links that decide whose records a user sees (who manages a team,
    which team a person is in, which organisation a team belongs to and which partnership an
    organisation is in) have no ``updated_at``, so they are summed as id x link: moving anyone
    changes the sum.
    """
    q = connection.ops.quote_name
    # Each table's aggregates, with its fields' names standing for their quoted columns.
    aggregates = [
        (ScaleScore, ("COUNT(*)", "MAX({id})")),
        (Audit, ("COUNT(*)", "MAX({updated_at})")),
        (Referral, ("COUNT(*)", "MAX({id})", "MAX({updated_at})")),
        (Attendance, ("COUNT(*)", "MAX({updated_at})")),
        (Invitation, ("COUNT(*)",)),
        (Response, ("COUNT({invitation})",)),
        (Team.managers.through, ("COUNT(*)", "MAX({id})")),
        (StaffMember, ("COUNT(*), MAX({id}), SUM({id} * {team})",)),
        (Team, ("COUNT(*), SUM({id} * {organisation})",)),
        (Organisation, ("COUNT(*), SUM({id} * COALESCE({partnership}, 0))",)),
    ]
    # Only the models' own table and column names go into the SQL: there are no values to pass.
    # (A small table's aggregates share one scan.)
    parts = []
    for k, (model, expressions) in enumerate(aggregates):
        columns = {f.name: q(f.column) for f in model._meta.concrete_fields}
        table = q(model._meta.db_table)
        for j, expression in enumerate(expressions):
            parts.append(f"(SELECT {expression.format(**columns)} FROM {table}) AS part{k}_{j}")  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {' CROSS JOIN '.join(parts)}")  # noqa: S608  # nosec B608
        return "|".join(str(value) for value in cursor.fetchone())


# How many database connections read a report's frames at once (PostgreSQL, outside a transaction).
FRAME_READERS = 2
# PostgreSQL's parallel workers per query while the frames are read. The frames are already read on
# FRAME_READERS connections at once, and on two cores a query that started two workers more ran in
# three processes that each built the same hash tables (the reaction counts' join, three times),
# taking the cores from the other connection's queries: a local authority's frames took 220 ms
# without them against 240-255 ms with the server's default of two.
READ_PARALLEL_WORKERS = 0


@contextmanager
def _parallel_workers(count: int):
    """This thread's connection starts at most ``count`` parallel workers per query until the block
    ends, when its setting is put back (PostgreSQL; elsewhere nothing changes)."""
    if connection.vendor != "postgresql":
        yield
        return
    setting = "max_parallel_workers_per_gather"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting(%s), set_config(%s, %s, false)", [setting, setting, str(count)]
        )
        [before, _] = cursor.fetchone()
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, false)", [setting, before])


def _read_all(readers: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run each reader (one query and its conversion to a frame) and return the results by name.

    On PostgreSQL, outside a transaction, a second thread with its own connection takes readers
    from the same queue, so the database works on one query while Python turns the rows of
    another into a frame: on two cores that took about a third off the time to read a
    local-authority report's frames. Inside a transaction (a test's, or a caller's atomic block)
    another connection could not see uncommitted rows, so everything runs here, in order. Readers
    are listed slowest first so the two threads finish at about the same time.
    """
    results: dict[str, Any] = {}
    queue = list(readers.items())
    use_threads = FRAME_READERS > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block
    if not use_threads:
        with _parallel_workers(READ_PARALLEL_WORKERS):
            return {name: reader() for name, reader in queue}
    lock = threading.Lock()
    failures: list[BaseException] = []

    def work() -> None:
        while True:
            with lock:
                if not queue or failures:
                    return
                name, reader = queue.pop(0)
            try:
                results[name] = reader()
            except BaseException as error:  # re-raised in the caller's thread below
                failures.append(error)
                return

    def helper() -> None:
        try:
            with _parallel_workers(READ_PARALLEL_WORKERS):
                work()
        except BaseException as error:  # setting the connection up failed
            failures.append(error)
        finally:
            connections.close_all()  # this thread's own connections; the caller's stay open

    threads = [threading.Thread(target=helper, name=f"report-frames-{k}") for k in range(FRAME_READERS - 1)]
    for thread in threads:
        thread.start()
    with _parallel_workers(READ_PARALLEL_WORKERS):
        work()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return results


def build_frames(*, user: User, selection: Selection) -> ImpactFrames:
    staff = staff_in_selection(user=user, selection=selection).values("id")
    sessions = sessions_in_selection(user=user, selection=selection)
    courses = courses_in_selection(user=user, selection=selection)

    # A period selects the answers given in it, as it selects the referrals made in it.
    answered = ScaleScore.objects.filter(
        _in_period(selection, "response__submitted_at__date"),
        response__submitted_at__isnull=False,
        response__invitation__staff__in=staff,
        response__invitation__administration__session__in=sessions,
        scale__construct__in=LEARNING,
    )
    referrals_qs = Referral.objects.filter(_in_period(selection, "made_on"), staff__in=staff)
    # Filtered through the referral join itself: a subquery on the referrals scanned them twice.
    submitted = Audit.objects.filter(
        _in_period(selection, "referral__made_on"), status=AuditStatus.SUBMITTED, referral__staff__in=staff
    )

    def read_scores() -> pd.DataFrame:
        # A row per scale score (several per response): the query returns ids and the score only.
        # Each administration's session, course, phase and mode, and each scale's construct and
        # code, are read separately (a few rows each) and mapped below; joined in SQL they were
        # sent again on every row, and turning them into Python strings was most of the time.
        # At national scale this is ten million rows, so they are streamed in chunks; at a local
        # authority's (about 150,000) one string of them is quicker.
        # Reaction and intention are reported only as answered just after training: their scores
        # from before training and at follow-up (over a quarter of all scores) are not read. As two
        # queries in one (UNION ALL), each filtered as it is read: with OR between the two, the
        # planner joined every score before filtering, and the query took longer than reading them all.
        columns = (
            "response__invitation__staff_id",
            "response__invitation__administration_id",
            "scale_id",
            "score",
        )
        learning = answered.filter(scale__construct__in=LEARNT).values_list(*columns)
        reaction = answered.filter(
            scale__construct__in=AFTER_TRAINING, response__invitation__administration__phase=Phase.POST
        )
        scores = read_frame(
            learning.union(reaction.values_list(*columns), all=True),
            ["person", "administration", "scale_id", "score"],
            streamed=worth_streaming(ScaleScore),
        )
        administrations = frame_from_rows(
            Administration.objects.filter(session__in=sessions).values_list(
                "id", "session_id", "session__course_id", "phase", "offset_days", "anonymous"
            ),
            ["administration", "session", "course", "phase", "offset_days", "anonymous"],
        )
        scales = frame_from_rows(
            Scale.objects.filter(construct__in=LEARNING).values_list("id", "construct", "code"),
            ["scale_id", "construct", "scale"],
        )
        return _scores_frame(scores, administrations, scales)

    def read_audits() -> tuple[pd.DataFrame, pd.DataFrame]:
        # Each audit's criterion grades come with it, stored as one short string (see _criteria):
        # read from the answers they were a row per criterion, ten times as many rows as audits.
        # (No ordering here or for the referrals: their default one made the database sort them.)
        audits = read_frame(
            submitted.order_by().values_list(
                "id",
                "referral_id",
                "referral__staff_id",
                "referral__staff__team_id",
                "auditor_id",
                "referral__made_on",
                "score_0_100",
                "is_second",
                "version_id",
                "criterion_grades",
            ),
            [
                "audit",
                "referral",
                "staff",
                "team",
                "auditor",
                "made_on",
                "score",
                "is_second",
                "version",
                "criterion_grades",
            ],
            text=["criterion_grades"],
            booleans=["is_second"],
            dates=["made_on"],
        ).astype({"is_second": bool, "score": float})
        # Every version's criteria in rubric order: the order of the digits of its audits' strings.
        rubric = frame_from_rows(
            Item.objects.filter(kind=ItemKind.RUBRIC_4)
            .order_by(*RUBRIC_ORDER)
            .values_list("version_id", "id", "code", "text"),
            ["version", "item", "criterion", "label"],
        )
        return audits.drop(columns=["version", "criterion_grades"]), _criteria(audits, rubric)

    def read_referrals() -> pd.DataFrame:
        referrals = read_frame(
            referrals_qs.order_by().values_list("id", "staff_id", "made_on", "outcome", "is_rereferral"),
            ["referral", "staff", "made_on", "outcome_group", "is_rereferral"],
            text=["outcome_group"],
            booleans=["is_rereferral"],
            dates=["made_on"],
        )
        referrals["outcome_group"] = referrals["outcome_group"].map(OUTCOME_GROUPS).fillna("other")
        # An empty selection gives object columns; a boolean mask or a mean on them would then fail.
        return referrals.astype({"is_rereferral": bool})

    def read_reaction_items() -> pd.DataFrame:
        # Reaction and intention, question by question, after training: answers counted by value
        # in the database (a handful of rows per question), then scored here with the
        # questionnaire's own rules. The questions are read first (a few rows) so that the count
        # can name them by id: PostgreSQL then reads just their answers through the item index
        # (a tenth of all answers), and groups by id and value rather than by the questions'
        # wording; joined to the items and filtered by construct, it read every answer.
        questions = {
            item_id: rest
            for item_id, *rest in Item.objects.filter(scale__construct__in=AFTER_TRAINING).values_list(
                "id", "scale__construct", "code", "text", "position", "kind", "reverse_coded"
            )
        }
        after_training_responses = Response.objects.filter(
            _in_period(selection, "submitted_at__date"),
            submitted_at__isnull=False,
            invitation__staff__in=staff,
            invitation__administration__session__in=sessions,
            invitation__administration__phase=Phase.POST,
        ).values("id")
        counts = (
            Answer.objects.filter(response__in=after_training_responses, item_id__in=list(questions))
            .exclude(value="")
            .values_list("item_id", "value")
            .annotate(n=Count("id"))
            .order_by()
        )
        return _reaction_items((*questions[item_id], value, n) for item_id, value, n in counts)

    def read_item_scores() -> pd.DataFrame:
        # Cronbach's alpha needs item-level answers: a recent sample of responses before training.
        sample_responses = (
            answered.filter(response__invitation__administration__phase="pre")
            .order_by("-response_id")
            .values("response_id")[:ALPHA_SAMPLE_RESPONSES]
        )
        # Each question's rules are read once (a few rows) and each distinct answer to it scored
        # once: the answers themselves come back as a frame, not a Python loop over each of them.
        rules = {
            item_id: (construct, ItemRule(item_id, scale_id, kind, reverse, correct))
            for item_id, construct, scale_id, kind, reverse, correct in Item.objects.filter(
                scale__construct__in=LEARNT
            )
            .exclude(kind=ItemKind.FREE_TEXT)
            .values_list("id", "scale__construct", "scale_id", "kind", "reverse_coded", "correct_answer")
        }
        answers = read_frame(
            Answer.objects.filter(response_id__in=sample_responses, item_id__in=list(rules))
            .exclude(value="")
            .values_list("response_id", "item_id", "value"),
            ["response", "item", "answer"],
            text=["answer"],
        )
        scored = answers[["item", "answer"]].drop_duplicates()
        scored["value"] = [
            _scored_or_none(rules[item][1], answer) for item, answer in scored.itertuples(index=False)
        ]
        scored["construct"] = [rules[item][0] for item in scored["item"]]
        frame = answers.merge(scored.dropna(subset=["value"]), on=["item", "answer"])
        return frame.assign(phase="pre")[["response", "construct", "item", "value", "phase"]]

    def read_invitations() -> pd.DataFrame:
        return frame_from_rows(
            Invitation.objects.filter(
                _in_period(selection, "administration__opens_at__date"),
                staff__in=staff,
                administration__session__in=sessions,
                administration__opens_at__lte=timezone.now(),
            )
            .values_list("administration__phase", "administration__offset_days")
            .annotate(invited=Count("id"), answered=Count("response"))
            .order_by("administration__phase", "administration__offset_days"),
            ["phase", "offset_days", "invited", "answered"],
        )

    def read_training() -> pd.DataFrame:
        # When each person was first trained on each selected course, from every session of it: the
        # period does not apply, or staff trained before it would count as not yet trained. A
        # session selection picks whose training is counted (that session's attendees), not which
        # of their sessions dates it.
        trained = Attendance.objects.trained().filter(staff__in=staff, session__course__in=courses)
        if selection.session:
            trained = trained.filter(
                staff__in=Attendance.objects.trained().filter(session=selection.session).values("staff_id")
            )
        # The local date of the first session, computed in the database (in the current time
        # zone, as timezone.localtime would) rather than converting every timestamp in Python.
        return read_frame(
            trained.values_list("staff_id", "session__course_id")
            .annotate(first=Min(TruncDate("session__start")))
            .values_list("staff_id", "session__course_id", "first"),
            ["staff", "course", "first_trained"],
            dates=["first_trained"],
        )

    def read_courses() -> pd.DataFrame:
        # Every course the user can see, marking those that have questionnaires answered with
        # names: the chain corrects for the number of them (a reader can look at each one's report).
        named_answers = Administration.objects.filter(
            session__course=OuterRef("pk"), anonymous=False, invitations__response__isnull=False
        )
        return frame_from_rows(
            Course.objects.for_user(user)
            .annotate(named=Exists(named_answers))
            .values_list("id", "title", "delivery_mode", "named"),
            ["course", "title", "delivery_mode", "named"],
        )

    def read_referrals_since() -> dt.date | None:
        # Where re-referrals' 12-month look-back begins: the first referral recorded by anyone,
        # since the flag is worked out over every referral for the child.
        return Referral.objects.aggregate(first=Min("made_on"))["first"]

    # Each reader finishes its own frames (the scores' labels, the audits' criteria), so that this
    # work is done while the other connection's query is in the database, not after every read.
    read = _read_all(
        {
            "scores": read_scores,
            "reaction_items": read_reaction_items,
            "audits": read_audits,
            "referrals": read_referrals,
            "invitations": read_invitations,
            "training": read_training,
            "item_scores": read_item_scores,
            "courses": read_courses,
            "referrals_since": read_referrals_since,
        }
    )

    audits, criteria = read["audits"]
    visible = read["courses"]
    course_frame = visible
    if selection.course:
        course_frame = course_frame[course_frame["course"] == selection.course.pk]
    if selection.session:
        course_frame = course_frame[course_frame["course"] == selection.session.course_id]
    return ImpactFrames(
        scores=read["scores"],
        item_scores=read["item_scores"],
        invitations=read["invitations"],
        audits=audits,
        criteria=criteria,
        training=read["training"],
        referrals=read["referrals"],
        courses=course_frame[["course", "title", "delivery_mode"]].reset_index(drop=True),
        reaction_items=read["reaction_items"],
        referrals_since=read["referrals_since"],
        questionnaire_courses=int(visible["named"].astype(bool).sum()),
    )


def _scores_frame(scores: pd.DataFrame, administrations: pd.DataFrame, scales: pd.DataFrame) -> pd.DataFrame:
    """The scores with each administration's session, course, phase, offset and mode and each
    scale's construct and code, from ``scores`` (person, administration, scale_id, score)."""
    # Mapped by position rather than merged: a merge copies every column of ten million rows again.
    # Phase, construct and scale are categories of their few values: the sections pick rows by
    # them over and over, and comparing every row's string took about 6 ms a time at la scale.
    administrations = administrations.set_index("administration")
    scales = scales.set_index("scale_id")
    at = administrations.index.get_indexer(scores["administration"])
    of = scales.index.get_indexer(scores["scale_id"])
    keep = (at >= 0) & (of >= 0)  # every score has both; the inner join's rule, as before
    at, of = at[keep], of[keep]
    return pd.DataFrame(
        {
            "person": scores["person"].to_numpy()[keep],
            **{name: administrations[name].to_numpy()[at] for name in ("session", "course")},
            "phase": _categories_taken(administrations["phase"], at, sort=True),
            "offset_days": administrations["offset_days"].to_numpy()[at],
            "construct": _categories_taken(scales["construct"], of, sort=True),
            "scale": _categories_taken(scales["scale"], of, sort=True),
            "score": pd.to_numeric(scores["score"]).to_numpy(dtype=float)[keep],
            "anonymous": administrations["anonymous"].astype(bool).to_numpy()[at],
        }
    )


def _criteria(audits: pd.DataFrame, rubric: pd.DataFrame) -> pd.DataFrame:
    """A row per graded criterion of each audit (audit, criterion, label, grade), from the audits'
    ``criterion_grades`` strings and ``rubric``, every version's criteria in rubric order.

    Rows are criterion by criterion in rubric order, as the report lists criteria in the order
    auditors see them, and by audit within a criterion. The strings of one version all have one
    digit per criterion, so they are decoded at once as a matrix of bytes rather than audit by
    audit: a Python loop over the digits would cost what reading them as rows did. Ungraded
    criteria (0) have no row, and neither do audits whose string is empty (no stored answers).
    """
    rubric_rows = rubric.groupby("version", sort=False).indices  # version -> its rows, in order
    audit_parts: list[np.ndarray] = [np.empty(0, np.int64)]
    row_parts: list[np.ndarray] = [np.empty(0, np.intp)]  # rows of ``rubric``
    grade_parts: list[np.ndarray] = [np.empty(0, np.uint8)]
    stored = audits[audits["criterion_grades"] != ""]
    for version, graded in stored.groupby("version", sort=False):
        criteria = rubric_rows.get(version, np.empty(0, np.intp))
        ids = graded["audit"].to_numpy(np.int64)
        by_id = np.argsort(ids, kind="stable")
        # As plain Python strings: a pandas string column's own methods make a Python call per value.
        strings = graded["criterion_grades"].to_numpy(dtype=object)[by_id]
        if (np.fromiter(map(len, strings), np.int64, len(strings)) != len(criteria)).any():
            raise ValueError(
                f"Audits of rubric version {version} store grades for other than its "
                f"{len(criteria)} criteria: they no longer match the rubric."
            )
        digits = np.frombuffer("".join(strings).encode("ascii"), dtype=np.uint8) - ord(UNGRADED)
        digits = digits.reshape(len(graded), len(criteria))
        # Criterion by criterion, and by audit within one (the audits were put in order above).
        criterion_at, audit_at = np.nonzero(digits.T)
        audit_parts.append(ids[by_id][audit_at])
        row_parts.append(criteria[criterion_at])
        grade_parts.append(digits[audit_at, criterion_at])
    audit_ids, rows = np.concatenate(audit_parts), np.concatenate(row_parts)
    # By rubric row (the order over every version), keeping each version's order by audit within a
    # row: one version's grades are already in that order, so the sort has little to do.
    order = np.argsort(rows, kind="stable")
    # Criterion and wording as categories of the rubric's few values: the report groups a
    # quarter of a million grades by them, and grouping strings meant hashing every one.
    frame = pd.DataFrame(
        {name: _categories_taken(rubric[name], rows[order]) for name in ("criterion", "label")}
    )
    # The audits' own type (object when there are none), so that merging the two still works.
    frame.insert(0, "audit", audit_ids[order].astype(audits["audit"].dtype))
    frame["grade"] = np.concatenate(grade_parts)[order].astype(np.int64)
    return frame


def _categories_taken(values: pd.Series, at: np.ndarray, *, sort: bool = False) -> pd.Categorical:
    """``values.take(at)`` as a categorical, its categories in order of first appearance or, with
    ``sort``, in sorted order (so that sorting by it sorts as its strings would)."""
    codes, categories = pd.factorize(values, sort=sort)
    # The codes are factorize's own, so there is nothing to check (checking took 1-2 ms a column).
    return pd.Categorical.from_codes(codes[at], categories=categories, validate=False)


def _scored_or_none(rule: ItemRule, value: str) -> float | None:
    """An answer's score, or None for an answer outside its scale (never stored by the form, so
    not scored rather than failing the report)."""
    try:
        return item_score(rule, value)
    except ValueError:
        return None


def _reaction_items(rows) -> pd.DataFrame:
    """Mean, SD and count of each reaction and intention question from (value, count) rows."""
    counts: dict[tuple, list[tuple[float, int]]] = {}
    for construct, code, text, position, kind, reverse, value, n in rows:
        score = _scored_or_none(ItemRule(0, None, kind, reverse, ""), value)
        if score is not None:
            # Copies of a questionnaire repeat a question under a new version: one row per wording.
            counts.setdefault((construct, code, text), []).append((score, n, position))
    items = []
    for (construct, code, text), scored in counts.items():
        n = sum(c for _, c, _ in scored)
        mean = sum(v * c for v, c, _ in scored) / n
        variance = sum(c * (v - mean) ** 2 for v, c, _ in scored) / (n - 1) if n > 1 else float("nan")
        items.append((construct, code, text, min(p for _, _, p in scored), n, mean, variance**0.5))
    return frame_from_rows(items, ["construct", "item", "label", "position", "n", "mean", "sd"])


def report_roles() -> tuple[str, ...]:
    return (Role.TRAINER, Role.MANAGER, Role.WORKFORCE_LEAD)
