"""The impact report, assembled from data frames: one section per evaluation level.

Pure pandas and statistics, no Django: ``analysis/frames.py`` builds the frames from the database,
this module turns them into sections (a verdict, charts, tables, notes) and
``analysis/rendering.py`` turns sections into HTML, PDF, CSV, XLSX and JSON.

Every table that describes people passes through small-number suppression before it leaves this
module: a figure about fewer than five people is "c". No section ever lists individuals.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from analysis.charts import (
    Chart,
    before_after_chart,
    binned_chart,
    event_study_chart,
    interval_chart,
    item_means_chart,
    phase_chart,
)
from analysis.stats.agreement import cohen_kappa, krippendorff_alpha
from analysis.stats.did import staggered_did, staggered_did_each
from analysis.stats.errors import AnalysisInputError
from analysis.stats.mixed import mixed_model_check
from analysis.stats.multiplicity import holm
from analysis.stats.paired import paired_change
from analysis.stats.power import further_observations_for_se, two_group_mde
from analysis.stats.reliability import alpha_coefficient
from analysis.stats.verdicts import format_number, verdict
from analysis.suppression import MIN_CELL, SUPPRESSED, small_count, suppress
from analysis.tidy import tidy_numbers

# Audits are irregular, and the staggered DiD compares each person with themselves in the period
# before training, so audits are binned to quarters: fine enough to show build-up and fade,
# coarse enough that most people have an audit in most periods.
PERIOD_MONTHS = 3
# A change in referral quality smaller than this many points on the 0-100 audit score is not
# worth acting on; used for "how many more audits would detect it".
REFERRAL_QUALITY_CHANGE_OF_INTEREST = 5.0
# The mixed model is a sensitivity check, not the headline, so it must not make the report slow:
# above this many audits (or without convergence in these iterations) it falls back to a
# cluster-robust regression and says so.
MIXED_MODEL_MAX_AUDITS = 1500
MIXED_MODEL_MAX_ITERATIONS = 40
# (construct, name, outcome wording, unit, maximum score for Hake's gain, smallest change worth
# acting on). The last is used to say how many more people would be needed to detect a change.
LEARNING_CONSTRUCTS = (
    ("knowledge", "Knowledge", "knowledge scores", "percentage points", 100.0, 5.0),
    ("confidence", "Confidence", "self-rated confidence (0 to 10)", "points", None, 0.5),
    ("attitudes", "Attitudes", "attitude scores (1 to 5)", "points", None, 0.25),
)
# The staggered DiD compares trained staff with colleagues not yet trained, so it needs both:
# at least this many audited staff before anything is estimated.
PRACTICE_MIN_STAFF = MIN_CELL * 2
# The chain correlates two noisy changes per person; below this many people a correlation is
# not worth showing at all.
CHAIN_MIN_PEOPLE = 10
# ... and below this many it is shown but never called a link: with fewer people only a very
# strong correlation (r of about 0.5) could be told from none with 80% power, and a single chance
# correlation among a few courses is easily that large.
CHAIN_MIN_PEOPLE_FOR_CLAIM = 30
# The chain's chart groups people by learning gain; each group's mean, never a person, is drawn.
CHAIN_MAX_GROUPS = 5
# Re-referral within 12 months needs a full 12-month look-back: a referral made in the first year
# of the records cannot be a re-referral of one made before the records began.
REREFERRAL_LOOKBACK = pd.DateOffset(years=1)


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    frame: pd.DataFrame
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "frame", tidy_numbers(self.frame))


@dataclass(frozen=True)
class Section:
    key: str
    level: str
    title: str
    verdict: str
    direction: str = ""
    charts: tuple[Chart, ...] = ()
    tables: tuple[Table, ...] = ()
    notes: tuple[str, ...] = ()
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImpactFrames:
    """What the report reads. Ids are integers; dates may be given as ``datetime.date`` and are held
    as ``datetime64`` (see ``__post_init__``).

    - scores: person, session, course, phase (pre/post/follow_up), offset_days, construct, scale, score,
      and optionally anonymous (the questionnaire was run in anonymous mode; missing means not);
      reaction and intention are read only just after training (post), where the report uses them
    - item_scores: response, construct, item, value (item score after reverse coding), phase
    - invitations: phase, offset_days, invited, answered
    - audits: audit, referral, staff, team, auditor, made_on, score, is_second
    - criteria: audit, criterion, label, grade
    - training: staff, course, first_trained (first attended session of that course)
    - referrals: referral, staff, made_on, outcome_group (accepted, nfa, other, pending), is_rereferral
    - courses: course, title, delivery_mode
    - reaction_items (optional): construct, item, label, position, n, mean, sd -- each reaction and
      intention question's answers after training, aggregated in the database
    - referrals_since (optional): the date of the first referral recorded anywhere, where the
      12-month look-back of re-referrals begins (default: the first referral in ``referrals``)
    - questionnaire_courses (optional): how many courses the reader can see that have questionnaires
      answered with names (not anonymously); the chain corrects for testing each of them
    """

    scores: pd.DataFrame
    item_scores: pd.DataFrame
    invitations: pd.DataFrame
    audits: pd.DataFrame
    criteria: pd.DataFrame
    training: pd.DataFrame
    referrals: pd.DataFrame
    courses: pd.DataFrame
    reaction_items: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["construct", "item", "label", "position", "n", "mean", "sd"]
        )
    )
    referrals_since: dt.date | None = None
    questionnaire_courses: int = 0

    @cached_property
    def first_audits(self) -> pd.DataFrame:
        """The audits the practice measures read: each referral's first audit, with a score (a blind
        second audit is there to compare auditors). Worked out once, as four sections read it."""
        return self.audits[~self.audits["is_second"]].dropna(subset=["score"])

    @cached_property
    def first_training(self) -> pd.Series:
        """When each trained person was first trained on any selected course (staff -> date)."""
        return _first_training(self.training)

    @cached_property
    def audit_panel(self) -> pd.DataFrame:
        """`first_audits` as a difference-in-differences panel (see `_did_panel`), row for row, its
        quarters counted from the first audit or training. Built once, as the practice and course
        sections both estimate on it (the course section on a course's rows of it)."""
        audits = self.first_audits
        origin = audits["made_on"].min()
        if not self.training.empty:
            origin = min(origin, self.training["first_trained"].min())
        return _did_panel(audits, self.first_training, origin)

    def __post_init__(self) -> None:
        # Dates arrive from the database as Python objects. Held like that, every comparison,
        # minimum and period calculation on them falls back to a Python call per value (a
        # per-person minimum took about a second at local-authority scale), so they are converted
        # once, here, into copies: the caller's frames are left as they were.
        for name, column in (("audits", "made_on"), ("referrals", "made_on"), ("training", "first_trained")):
            frame = getattr(self, name)
            if column in frame.columns and not pd.api.types.is_datetime64_any_dtype(frame[column]):
                object.__setattr__(self, name, frame.assign(**{column: pd.to_datetime(frame[column])}))


@dataclass(frozen=True)
class ImpactReport:
    title: str
    scope: str
    generated_at: dt.datetime
    sections: tuple[Section, ...]

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def charts(self) -> list[Chart]:
        return [chart for section in self.sections for chart in section.charts]

    def draw_charts(self) -> bool:
        """Draw every chart not drawn yet (see ``Chart``); True if any was."""
        undrawn = [chart for chart in self.charts() if not chart.is_drawn]
        for chart in undrawn:
            chart.svg  # noqa: B018  # reading it draws it
        return bool(undrawn)

    def tables(self) -> dict[str, Table]:
        """Every table, including the data behind each chart, by key (for CSV and XLSX export)."""
        found: dict[str, Table] = {}
        for section in self.sections:
            for table in section.tables:
                found[table.key] = table
            for chart in section.charts:
                found.setdefault(chart.key, Table(chart.key, chart.title, chart.table))
        return found


# --- helpers -----------------------------------------------------------------------------------


def _finite(x: Any) -> float | None:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _mean_ci(values: pd.Series) -> tuple[float, float, float]:
    values = values.dropna().astype(float)
    n = len(values)
    mean = float(values.mean()) if n else math.nan
    if n < 2:
        return mean, math.nan, math.nan
    half = special.stdtrit(n - 1, 0.975) * values.std(ddof=1) / math.sqrt(n)  # stats.t.ppf's own function
    return mean, mean - half, mean + half


def _phase_label(phase: str, offset_days: int) -> str:
    if phase == "pre":
        return "Before"
    if phase == "post":
        return "Just after"
    if offset_days % 7 == 0 and offset_days < 70:
        return f"{offset_days // 7} weeks on"
    return f"{round(offset_days / 30.4)} months on"


def _phase_order(pairs: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """The distinct (phase, offset_days) pairs in the order they happen."""
    rank = {"pre": 0, "post": 1, "follow_up": 2}
    distinct = {(p, int(o)) for p, o in pairs}
    return sorted(distinct, key=lambda po: (rank.get(po[0], 3), po[1]))


def _too_few(title: str, key: str, level: str, what: str, n: int, needed: int = MIN_CELL) -> Section:
    """A section that reports nothing yet. ``needed`` is the real threshold of that section (the
    level 3 comparison needs 10 audited staff, not 5); the count so far is "c" when under 5."""
    shown = SUPPRESSED if 0 < n < MIN_CELL else str(n)
    return Section(
        key=key,
        level=level,
        title=title,
        verdict=f"Not enough {what} yet to report ({shown} so far; at least {needed} are needed).",
        direction="not_enough_data",
    )


def _round(value: Any, decimals: int) -> float:
    """Rounded for a table, never -0.0 (which would print as "-0.0")."""
    number = _finite(value)
    return math.nan if number is None else round(number, decimals) + 0.0


def _quarter_index(dates: pd.Series | np.ndarray, origin: dt.date) -> np.ndarray:
    """Period number of each date, counting quarters from ``origin`` (the first period is 1), as
    floats: NaN where the date is missing. Months are counted on the dates' numpy values, not
    through pandas' per-field accessors (a third of the time of building a DiD panel)."""
    months = np.asarray(pd.to_datetime(dates), dtype="datetime64[M]")
    missing = np.isnat(months)
    since = months.astype(np.int64) - ((origin.year - 1970) * 12 + origin.month - 1)
    return np.where(missing, np.nan, since // PERIOD_MONTHS + 1)


# --- level 1 ------------------------------------------------------------------------------------


def _mean_table(
    frame: pd.DataFrame,
    index: list[str],
    columns: list[str],
    value: str,
    where: np.ndarray | None = None,
) -> pd.DataFrame:
    """The mean of ``value`` for each combination of the ``index`` columns (a row) and of the
    ``columns`` columns (a column) present in ``frame``, both in sorted order: what
    ``frame.groupby(index + columns)[value].mean().unstack(columns)`` gives, in about half its time
    (grouping a local authority's scores by five keys, then pivoting, took about 20 ms). Rows with
    a missing key are left out, as grouping leaves them out; a combination whose values are all
    missing has a missing mean. ``where`` (a boolean per row) takes only those rows, as
    ``frame[where]`` would, without copying the frame."""
    row_of, rows = _combinations(frame, index, where)
    column_of, cols = _combinations(frame, columns, where)
    values = frame[value].to_numpy(dtype=float)
    counted = (row_of >= 0) & (column_of >= 0) & ~np.isnan(values)
    cell = row_of[counted] * len(cols) + column_of[counted]
    size = len(rows) * len(cols)
    sums = np.bincount(cell, weights=values[counted], minlength=size)
    counts = np.bincount(cell, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (sums / counts).reshape(len(rows), len(cols))
    return pd.DataFrame(means, index=rows, columns=cols)


def _combinations(
    frame: pd.DataFrame, names: list[str], where: np.ndarray | None = None
) -> tuple[np.ndarray, pd.Index]:
    """For each row of ``frame``, the position of its combination of the columns ``names`` among
    the combinations present (sorted), or -1 when one of them is missing or the row is not
    ``where`` (when given); and those combinations, as a MultiIndex (an Index for one name)."""
    codes, levels = zip(*(pd.factorize(frame[name], sort=True) for name in names), strict=True)
    complete = np.logical_and.reduce([c >= 0 for c in codes]) if len(frame) else np.zeros(0, bool)
    if where is not None:
        complete &= where
    combined = np.zeros(int(complete.sum()), np.int64)
    for code, level in zip(codes, levels, strict=True):
        combined = combined * len(level) + code[complete]
    # np.unique(combined, return_inverse=True), with a hash rather than sorting every row: only the
    # few combinations present are sorted (a third of the time for a local authority's scores).
    position, present = pd.factorize(combined)
    order = np.argsort(present)
    rank = np.empty(len(present), np.int64)
    rank[order] = np.arange(len(present))
    present, position = present[order], rank[position]
    positions = np.full(len(frame), -1, np.int64)
    positions[complete] = position
    shape = [max(len(level), 1) for level in levels]
    parts = np.unravel_index(present, shape) if len(present) else [np.zeros(0, np.int64)] * len(names)
    if len(names) == 1:
        return positions, pd.Index(levels[0]).take(parts[0]).rename(names[0])
    # From the factorized levels and codes as they are: from_arrays would factorize them again.
    combinations = pd.MultiIndex(levels=levels, codes=parts, names=names, verify_integrity=False)
    # A value seen only beside a missing key is in no combination, and so in no level, as before.
    return positions, combinations if complete.all() else combinations.remove_unused_levels()


def _intention_text(intention: pd.Series) -> tuple[str, dict[str, Any]]:
    """What the verdict says about intention to apply, and the figures behind it.

    "Scrap learning" is the share who do not intend to use what they learnt (a mean below the
    scale's midpoint). When fewer than 5 people are on either side of that line, the share would
    tell a reader about those few people, so neither the share nor its complement is given.
    """
    n = len(intention)
    scrap = int((intention < 3).sum())
    keep = n - scrap
    if 0 < scrap < MIN_CELL:
        return "all but a few intend to apply it (fewer than 5 people do not)", {
            "n": n,
            "n_scrap": SUPPRESSED,
            "scrap_learning_percent": SUPPRESSED,
        }
    if 0 < keep < MIN_CELL:
        return "fewer than 5 people intend to apply it", {
            "n": n,
            "n_scrap": SUPPRESSED,
            "scrap_learning_percent": SUPPRESSED,
        }
    share = scrap / n * 100
    text = (
        "all of them intend to apply it (no scrap learning)"
        if scrap == 0
        else f"{100 - share:.0f}% intend to apply it ({share:.0f}% scrap learning)"
    )
    return text, {"n": n, "n_scrap": scrap, "scrap_learning_percent": share}


def _reaction_item_rows(frames: ImpactFrames) -> pd.DataFrame:
    items = frames.reaction_items
    if items.empty:
        return pd.DataFrame(columns=["measure", "question", "n", "mean", "ci_low", "ci_high"])
    order = items["construct"].map({"reaction": 0, "intention": 1})
    items = items.assign(order=order).sort_values(["order", "position"])
    rows = []
    for item in items.itertuples(index=False):
        n = int(item.n)
        half = special.stdtrit(n - 1, 0.975) * item.sd / math.sqrt(n) if n > 1 else math.nan
        rows.append(
            {
                "measure": "Relevance and quality" if item.construct == "reaction" else "Intention to apply",
                "question": item.label,
                "n": n,
                "mean": _round(item.mean, 2),
                "ci_low": _round(item.mean - half, 2),
                "ci_high": _round(item.mean + half, 2),
            }
        )
    return suppress(pd.DataFrame(rows), columns=["mean", "ci_low", "ci_high"])


def reaction_section(frames: ImpactFrames) -> Section:
    title = "Level 1: reaction and intention to apply"
    post = frames.scores[
        (frames.scores["phase"] == "post") & frames.scores["construct"].isin(["reaction", "intention"])
    ]
    people = post[["person", "session"]].drop_duplicates()
    if len(people) < MIN_CELL:
        return _too_few(title, "reaction", "1", "answers after training", len(people))
    rows = []
    figures: dict[str, Any] = {}
    for construct, label in (("reaction", "Relevance and quality"), ("intention", "Intention to apply")):
        values = post.loc[post["construct"] == construct, "score"].dropna()
        mean, low, high = _mean_ci(values)
        rows.append(
            {
                "measure": label,
                "n": len(values),
                "mean": _round(mean, 2),
                "ci_low": _round(low, 2),
                "ci_high": _round(high, 2),
            }
        )
        figures[construct] = {
            "n": len(values),
            "mean": _finite(mean),
            "ci_low": _finite(low),
            "ci_high": _finite(high),
        }
    table = suppress(pd.DataFrame(rows))
    intention = post.loc[post["construct"] == "intention", "score"].dropna()
    rated = figures["reaction"]["mean"] if figures["reaction"]["n"] >= MIN_CELL else None
    answered = f"{len(people)} people answered"
    if len(intention) >= MIN_CELL:
        intends, figures["scrap_learning"] = _intention_text(intention)
        if rated is not None:
            text = (
                f"Staff rated the training {rated:.1f} out of 5 for relevance and quality, and "
                f"{intends}; {answered}."
            )
        else:
            text = (
                f"Of the staff who answered after training, {intends} ({answered}; too few rated "
                "its relevance and quality to show)."
            )
    elif rated is not None:
        text = (
            f"Staff rated the training {rated:.1f} out of 5 for relevance and quality ({answered}); "
            "too few answered the questions on applying it to say how many intend to."
        )
    else:
        text = (
            f"Too few people answered either part of the reaction questions to report them ({answered}, "
            f"but fewer than {MIN_CELL} answered each part)."
        )
    item_rows = _reaction_item_rows(frames)
    if not item_rows.empty:
        drawn = item_rows.rename(columns={"question": "label"})
        chart = item_means_chart(
            drawn,
            measure="mean answer (1 = strongly disagree, 5 = strongly agree)",
            title="Answers to each question after training",
            key="reaction_chart",
            table=item_rows,
        )
    else:
        chart = item_means_chart(
            table.rename(columns={"measure": "label"}),
            measure="mean score (1 = strongly disagree, 5 = strongly agree)",
            title="Reaction and intention after training",
            key="reaction_chart",
            table=table,
        )
    return Section(
        "reaction",
        "1",
        title,
        text,
        "descriptive",
        charts=(chart,),
        tables=(Table("reaction", "Reaction and intention (scores 1 to 5)", table),),
        notes=(
            "Scores are means of 5-point items just after training; higher is better. Scrap learning "
            "is the share whose intention score is below the midpoint (3), that is, who do not "
            "intend to use what they learnt.",
        ),
        figures=figures,
    )


# --- level 2 ------------------------------------------------------------------------------------


def _scale_alphas(item_scores: pd.DataFrame) -> dict[str, float | None]:
    """Each construct's Cronbach's alpha before training, from complete sets of answers (None with
    fewer than 10 of them or fewer than 2 items). Grouped once for every construct."""
    before = (item_scores["phase"] == "pre").to_numpy()
    if not before.any():
        return {}
    # A response answers each question once, so the "mean" of its answer is the answer itself.
    answers = _mean_table(item_scores, ["construct", "response"], ["item"], "value", where=before)
    alphas = {}
    for construct, wide in _blocks(answers):
        # Its own items (the other constructs' columns are empty here), then complete answers.
        wide = wide[:, ~np.isnan(wide).all(axis=0)]
        wide = wide[~np.isnan(wide).any(axis=1)]
        enough = len(wide) >= MIN_CELL * 2 and wide.shape[1] >= 2
        alphas[construct] = _finite(alpha_coefficient(wide)) if enough else None
    return alphas


def _blocks(table: pd.DataFrame) -> Iterator[tuple[Any, np.ndarray]]:
    """Each value of the first level of ``table``'s rows (a `_mean_table`'s, sorted by it) with
    its rows, as a block of the table's numbers: ``table.xs(value).to_numpy()``, without building
    a frame and an index for each (a third of the learning section's time went on them)."""
    numbers = table.to_numpy(dtype=float)
    codes = np.asarray(table.index.codes[0])
    bounds = np.searchsorted(codes, np.arange(len(table.index.levels[0]) + 1))
    for k, value in enumerate(table.index.levels[0]):
        if bounds[k] < bounds[k + 1]:
            yield value, numbers[bounds[k] : bounds[k + 1]]


def learning_section(frames: ImpactFrames) -> Section:
    title = "Levels 2a and 2b: attitudes, knowledge and confidence"
    learning = frames.scores["construct"].isin([c[0] for c in LEARNING_CONSTRUCTS]).to_numpy()
    if not learning.any():
        return _too_few(title, "learning", "2", "questionnaire answers", 0)
    # A column per phase, a row per scale, person and session, worked out once for every scale. A
    # scale's own rows then have a column for a phase only some other scale was asked at, with
    # nobody in it: `answered` tells the two apart.
    wide_all = _mean_table(
        frames.scores, ["construct", "person", "session"], ["phase", "offset_days"], "score", where=learning
    )
    phases = _phase_order(wide_all.columns)  # every phase and offset answered, as columns
    column_of = {(phase, int(offset)): j for j, (phase, offset) in enumerate(wide_all.columns)}
    labels = {p: _phase_label(*p) for p in phases}
    follow_ups = [p for p in phases if p[0] == "follow_up"]
    means_rows, change_rows, size_rows, verdicts, figures = [], [], [], [], {}
    alphas = _scale_alphas(frames.item_scores)
    blocks = dict(_blocks(wide_all))
    for construct, name, outcome, unit, max_score, change_of_interest in LEARNING_CONSTRUCTS:
        if construct not in blocks:
            continue
        wide = blocks[construct]
        wide = wide[~np.isnan(wide).all(axis=1)]  # rows of people who answered this scale
        answered = set()
        for p in phases:
            given = wide[:, column_of[p]]
            given = given[~np.isnan(given)]
            if len(given):
                answered.add(p)
            means_rows.append(
                {
                    "scale": name,
                    "phase": labels[p],
                    "n": len(given),
                    "mean": _round(given.mean(), 2) if len(given) else math.nan,
                }
            )
        if ("pre", 0) not in answered or ("post", 0) not in answered:
            continue
        before, after = wide[:, column_of[("pre", 0)]], wide[:, column_of[("post", 0)]]
        both = ~(np.isnan(before) | np.isnan(after))
        pair = pd.DataFrame({"before": before[both], "after": after[both]})
        if len(pair) < MIN_CELL:
            change_rows.append({"scale": name, "n": len(pair)})
            size_rows.append({"scale": name, "n": len(pair)})
            continue
        alpha = alphas.get(construct)
        # A negative alpha (items that do not hang together in a small sample) gives no usable
        # reliable change index; the change itself is still reported.
        usable = alpha if alpha is not None and 0 <= alpha < 1 else None
        result = paired_change(pair, "before", "after", max_score=max_score, reliability=usable)
        more = (
            further_observations_for_se(result.se_diff, result.n, change_of_interest)
            if math.isfinite(result.se_diff) and result.se_diff > 0
            else None
        )
        said = verdict(
            result.mean_diff,
            result.ci_low,
            result.ci_high,
            outcome=outcome,
            unit=unit,
            comparison="from before to just after training",
            more_needed=more,
            detectable_change=change_of_interest,
            noun="people answering both before and after",
        )
        retention = {}
        for fu in follow_ups:
            if fu not in answered:
                continue
            later = wide[:, column_of[fu]]
            all_three = ~(np.isnan(before) | np.isnan(after) | np.isnan(later))
            n_three = int(all_three.sum())
            if n_three < MIN_CELL:
                continue
            gain = after[all_three].mean() - before[all_three].mean()
            if abs(gain) > 1e-9:
                # Retention: the share of the pre-to-post gain still there at follow-up.
                retention[labels[fu]] = (
                    n_three,
                    float((later[all_three].mean() - before[all_three].mean()) / gain * 100),
                )
        rc = result.reliable_change
        change_rows.append(
            {
                "scale": name,
                "n": result.n,
                "before": _round(result.mean_before, 2),
                "after": _round(result.mean_after, 2),
                "change": _round(result.mean_diff, 2),
                "ci_low": _round(result.ci_low, 2),
                "ci_high": _round(result.ci_high, 2),
                **{f"retained_{k}": _round(v[1], 0) for k, v in retention.items()},
            }
        )
        # Effect sizes and reliable change are a table of their own: in one table with the change
        # they made 17 columns, too many to read on a page or print without breaking numbers.
        size_rows.append(
            {
                "scale": name,
                "n": result.n,
                "d_z": _round(result.d_z, 2),
                "d_z_ci_low": _round(result.d_z_ci_low, 2),
                "d_z_ci_high": _round(result.d_z_ci_high, 2),
                "g_av": _round(result.g_av, 2),
                "hake_gain": _round(result.hake_gain, 2) if _finite(result.hake_gain) is not None else None,
                "alpha": _round(alpha, 2) if alpha is not None else None,
                # Counts of people: 1 to 4 reliably worse is itself a figure about a few people.
                "reliably_improved": small_count(rc.n_improved) if rc else None,
                "reliably_worse": small_count(rc.n_worse) if rc else None,
            }
        )
        sentence = said.text
        if retention and said.direction in ("rise", "fall"):
            first_label, (n_fu, share) = next(iter(retention.items()))
            later = first_label.replace(" on", " later")
            sentence += f" {share:.0f}% of that change was still there {later} (n = {n_fu})."
        verdicts.append(sentence)
        figures[construct] = {
            "n": result.n,
            "mean_diff": _finite(result.mean_diff),
            "ci_low": _finite(result.ci_low),
            "ci_high": _finite(result.ci_high),
            "d_z": _finite(result.d_z),
            "direction": said.direction,
            "retention_percent": {k: v[1] for k, v in retention.items()},
            "alpha": alpha,
        }
    if not verdicts:
        n = max((r.get("n", 0) for r in change_rows), default=0)
        return _too_few(title, "learning", "2", "people who answered both before and after", n)
    means = suppress(pd.DataFrame(means_rows))
    changes, sizes = (
        suppress(frame, columns=[c for c in frame.columns if c != "scale"])
        for frame in (pd.DataFrame(change_rows), pd.DataFrame(size_rows))
    )
    chart_means = means[["scale", "phase", "n", "mean"]]
    charts = []
    for construct, name, *_ in LEARNING_CONSTRUCTS:
        subset = chart_means[chart_means["scale"] == name]
        if not subset.empty:
            measure = {"knowledge": "% correct", "confidence": "score (0 to 10)"}.get(
                construct, "score (1 to 5)"
            )
            charts.append(
                phase_chart(subset, measure=measure, title=f"{name} by stage", key=f"learning_{construct}")
            )
    return Section(
        "learning",
        "2",
        title,
        " ".join(verdicts),
        "mixed",
        charts=tuple(charts),
        tables=(
            Table(
                "learning_change",
                "Change from before to just after training (people who answered both)",
                changes,
            ),
            Table(
                "learning_effect_sizes",
                "Effect sizes, reliability and reliable change (people who answered both)",
                sizes,
            ),
            Table("learning_means", "Mean scores at each stage (everyone who answered)", means),
        ),
        notes=(
            "Change is paired: the same people before and just after. d_z is the change in standard "
            "deviations of the change, with an exact interval; g_av is the bias-corrected change in "
            "standard deviations of the scores. Reliable change uses the scale's Cronbach's alpha "
            "before training.",
            "Knowledge is % correct; confidence is 0-10; attitudes are 1-5 with victim-blaming "
            "items reverse-coded.",
        ),
        figures=figures,
    )


# --- level 3 ------------------------------------------------------------------------------------


def _did_panel(
    audits: pd.DataFrame, first_trained: pd.Series, origin: dt.date, outcome: str = "score"
) -> pd.DataFrame:
    staff, made_on = audits["staff"].to_numpy(), audits["made_on"].to_numpy()
    treated = first_trained.reindex(staff).to_numpy()
    # Built at once from arrays: a copy, three column assignments and a rename cost twice as much.
    return pd.DataFrame(
        {
            "staff": staff,
            "made_on": made_on,
            "outcome": audits[outcome].to_numpy(),
            "period": _quarter_index(made_on, origin).astype(int),
            # Never trained (no first training): cohort 0.
            "first_treated": np.nan_to_num(_quarter_index(treated, origin), nan=0).astype(int),
        },
        index=audits.index,
    )


# Trained staff are compared with colleagues not yet trained; a cohort with no such colleagues
# after its training (the last trained) is left out with a note rather than stopping the report.
DID_OPTIONS = {"control": "not-yet-treated", "drop_uncomparable_cohorts": True}


def _run_did(panel: pd.DataFrame):
    return staggered_did(panel, "staff", "period", "outcome", "first_treated", **DID_OPTIONS)


def _simple_did(panel: pd.DataFrame):
    """`_run_did` with the simple aggregation alone (see ``staggered_did_each``'s ``only_simple``),
    for a table with one estimate per course."""
    result = staggered_did_each(
        panel, "staff", "period", ["outcome"], "first_treated", only_simple=True, **DID_OPTIONS
    )["outcome"]
    if isinstance(result, AnalysisInputError):
        raise result
    return result


def _fields_frame(results: Sequence[Any], names: tuple[str, ...]) -> pd.DataFrame:
    """A frame with a row per result and a column per named field."""
    return pd.DataFrame({name: [getattr(result, name) for result in results] for name in names})


def _two_sided_p(att: float, se: float) -> float:
    if not (math.isfinite(att) and math.isfinite(se)) or se <= 0:
        return math.nan
    return float(2 * special.ndtr(-abs(att / se)))  # stats.norm.sf's own function, without its checks


def _first_training(training: pd.DataFrame) -> pd.Series:
    if training.empty:
        return pd.Series(dtype="datetime64[ns]")
    return training.groupby("staff")["first_trained"].min()


def practice_section(frames: ImpactFrames) -> Section:
    title = "Level 3: quality of the referrals staff make"
    audits = frames.first_audits
    staff_audited = audits["staff"].nunique()
    if staff_audited < PRACTICE_MIN_STAFF:
        return _too_few(title, "practice", "3", "audited staff", staff_audited, needed=PRACTICE_MIN_STAFF)
    panel = frames.audit_panel
    try:
        result = _run_did(panel)
    except AnalysisInputError as error:
        return Section(
            "practice",
            "3",
            title,
            f"The change in referral quality cannot be estimated yet: {error}.",
            "cannot_estimate",
        )
    if result.n_treated_units < MIN_CELL:
        # The estimate would describe fewer than 5 trained people: their tables would be all "c",
        # and a verdict with a number would tell the reader what the suppressed cells hide.
        return _too_few(
            title,
            "practice",
            "3",
            "trained staff with audits before and after training",
            result.n_treated_units,
        )
    simple = result.aggregations["simple"]
    n_periods = len(result.periods)
    more = (
        further_observations_for_se(simple.se, len(audits), REFERRAL_QUALITY_CHANGE_OF_INTEREST)
        if math.isfinite(simple.se) and simple.se > 0
        else None
    )
    said = verdict(
        simple.att,
        simple.ci_low,
        simple.ci_high,
        outcome="referral quality",
        unit="points",
        comparison="compared with colleagues not yet trained",
        more_needed=more,
        detectable_change=REFERRAL_QUALITY_CHANGE_OF_INTEREST,
        noun="audits",
        smallest_change_of_interest=REFERRAL_QUALITY_CHANGE_OF_INTEREST,
    )
    said_text = said.text

    # The fields the tables and the chart show, read off the results as they are (their to_dict
    # makes each JSON-safe, which a frame does not need).
    study = _fields_frame(result.event_study, ("event_time", "att", "ci_low", "ci_high", "n_groups"))
    cells = _fields_frame(
        result.att_gt, ("group", "time", "event_time", "att", "se", "n_treated", "n_comparison")
    )
    charts, tables = [], []
    if not study.empty:
        study = study[study["n_groups"] > 0]
        # Trained people behind each point: the cohorts in its cells are disjoint, so their treated
        # counts add up.
        people = cells.groupby("event_time")["n_treated"].sum()
        shown = pd.DataFrame(
            {
                "months_since_training": study["event_time"].to_numpy() * PERIOD_MONTHS,
                "n": study["event_time"].map(people).fillna(0).astype(int).to_numpy(),
                "att": study["att"].map(lambda v: _round(v, 2)).to_numpy(),
                "ci_low": study["ci_low"].map(lambda v: _round(v, 2)).to_numpy(),
                "ci_high": study["ci_high"].map(lambda v: _round(v, 2)).to_numpy(),
            }
        )
        published = suppress(shown, columns=["att", "ci_low", "ci_high"])
        drawn = shown[shown["n"] >= MIN_CELL]
        if not drawn.empty:
            charts.append(
                event_study_chart(
                    drawn.drop(columns="n"),
                    outcome="referral quality (points)",
                    key="practice_event_study",
                    time_column="months_since_training",
                    table=published,
                )
            )
    headline = pd.DataFrame(
        [
            {
                "estimate": "Simple average effect (all trained staff, all periods after training)",
                "att": _round(simple.att, 2),
                "se": _round(simple.se, 2),
                "ci_low": _round(simple.ci_low, 2),
                "ci_high": _round(simple.ci_high, 2),
                "n": result.n_treated_units,
            },
            *(
                {
                    "estimate": f"{name.capitalize()} aggregation",
                    "att": _round(agg.att, 2),
                    "se": _round(agg.se, 2),
                    "ci_low": _round(agg.ci_low, 2),
                    "ci_high": _round(agg.ci_high, 2),
                    "n": result.n_treated_units,
                }
                for name, agg in result.aggregations.items()
                if name != "simple"
            ),
        ]
    )
    tables.append(
        Table(
            "practice_did",
            "Difference-in-differences estimates (audit score, 0 to 100)",
            suppress(headline, columns=["att", "se", "ci_low", "ci_high"]),
        )
    )
    if not cells.empty:
        cell_table = cells.round(2)
        cell_table[["att", "se"]] += 0.0  # no -0.0
        # A cell about fewer than 5 trained people is hidden; so is every cell of a cohort of fewer
        # than 5, since none of its cells can have more.
        cell_table = suppress(cell_table.rename(columns={"n_treated": "n"}), columns=["att", "se", "n"])
        tables.append(Table("practice_cells", "Effect by training cohort and quarter (ATT(g,t))", cell_table))

    criteria_section = _criteria_effects(frames, audits, panel)
    if criteria_section is not None:
        tables.append(criteria_section[0])
        charts.append(criteria_section[1])
    agreement_table, agreement_text = _auditor_agreement(frames)
    if agreement_table is not None:
        tables.append(agreement_table)

    notes = [
        "Staggered difference-in-differences (Callaway and Sant'Anna 2021): each training cohort's change in "
        "audit score from the quarter before training, minus the change over the same quarters among "
        "colleagues not yet trained. Audits are grouped into quarters; a two-way fixed-effects regression, "
        "which is biased when people are trained at different times, is not used.",
        "Estimates before training (left of the dashed line) check that trained and comparison staff "
        "were on similar paths beforehand; they should be close to zero.",
    ]
    if len(frames.courses) > 1:
        notes.append(
            f"'Trained' here means attended any of the {len(frames.courses)} courses in this report, so a "
            "course that works is diluted by courses that do not; choose a course to see its own effect, "
            "or see the course comparison below."
        )
    if agreement_text:
        notes.append(agreement_text)
    sensitivity = _mixed_sensitivity(audits, panel)
    if sensitivity:
        notes.append(sensitivity)
    notes.extend(result.notes)
    figures = {
        "att": _finite(simple.att),
        "se": _finite(simple.se),
        "ci_low": _finite(simple.ci_low),
        "ci_high": _finite(simple.ci_high),
        "direction": said.direction,
        "n_units": result.n_units,
        "n_treated_units": result.n_treated_units,
        "n_audits": len(audits),
        "periods": n_periods,
    }
    return Section(
        "practice", "3", title, said_text, said.direction, tuple(charts), tuple(tables), tuple(notes), figures
    )


def _criteria_effects(frames: ImpactFrames, audits: pd.DataFrame, panel: pd.DataFrame):
    """The change in each criterion's grade: the practice panel's difference-in-differences with
    each criterion's grade as the outcome. ``panel`` is ``_did_panel(audits, ...)``, row for row."""
    criteria = frames.criteria
    # Each grade takes its audit's row of the panel (person, quarter, cohort), so periods and cohorts
    # are worked out once per audit rather than once per grade (ten times as many).
    row_of_audit = pd.Index(audits["audit"]).get_indexer(criteria["audit"])
    graded = row_of_audit >= 0
    if not graded.any():
        return None
    rows = row_of_audit[graded]
    grade_values = criteria["grade"].to_numpy()[graded]
    # Criteria in the order they first appear (the rubric's, as the frames list them); a wording
    # changed between rubric versions is a criterion of its own, as it is for a reader.
    code_of, codes = _value_codes(criteria["criterion"])
    label_of, labels = _value_codes(criteria["label"])
    pair_of, pairs = pd.factorize(code_of[graded] * len(labels) + label_of[graded])
    # One column of grades per criterion, missing where an audit has no grade for it, so that the
    # criteria are estimated together on the panel's cells and weights.
    grade_of = np.full((len(panel), len(pairs)), np.nan)
    grade_of[rows, pair_of] = grade_values
    outcomes = [f"criterion_{k}" for k in range(len(pairs))]
    wide = pd.DataFrame(
        {
            **{name: panel[name].to_numpy() for name in ("staff", "period", "first_treated")},
            **dict(zip(outcomes, grade_of.T, strict=True)),
        }
    )
    estimated = staggered_did_each(
        wide, "staff", "period", outcomes, "first_treated", only_simple=True, **DID_OPTIONS
    )
    results = []
    for pair, result in zip(pairs, estimated.values(), strict=True):
        if isinstance(result, AnalysisInputError):
            continue
        code, label = codes[pair // len(labels)], labels[pair % len(labels)]
        simple = result.aggregations["simple"]
        results.append(
            {
                "criterion": label,
                "code": code,
                "n": result.n_treated_units,
                "estimate": simple.att,
                "ci_low": simple.ci_low,
                "ci_high": simple.ci_high,
                "p": _two_sided_p(simple.att, simple.se),
            }
        )
    if not results:
        return None
    table = pd.DataFrame(results)
    finite = table["p"].notna()
    table["p_holm"] = np.nan
    if finite.any():
        table.loc[finite, "p_holm"] = holm(table.loc[finite, "p"].to_numpy()).p_adjusted
    table["clear_after_correction"] = table["p_holm"] < 0.05
    shown = table.round({"estimate": 2, "ci_low": 2, "ci_high": 2, "p": 4, "p_holm": 4})
    shown = suppress(
        shown, columns=["estimate", "ci_low", "ci_high", "p", "p_holm", "clear_after_correction"]
    )
    drawn = table[table["n"] >= MIN_CELL]
    if drawn.empty:
        return None
    chart = interval_chart(
        drawn[["criterion", "n", "estimate", "ci_low", "ci_high"]].round(
            {"estimate": 2, "ci_low": 2, "ci_high": 2}
        ),
        label="criterion",
        measure="Change in grade (1 to 4 scale)",
        title="Change in each criterion",
        key="practice_criteria",
    )
    return Table(
        "practice_criteria_table",
        "Change in each audit criterion, with Holm-corrected p-values",
        shown,
        "p-values are corrected for testing every criterion (Holm); only criteria marked clear would "
        "survive that correction.",
    ), chart


def _value_codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(column, use_na_sentinel=False)``, except that a categorical column without
    missing values gives its own codes and categories as they are (the frames hold criteria as
    categories; factorizing a quarter of a million of them again took a few milliseconds each
    time): the values are then in the categories' order, not that of first appearance, and may
    include some that do not appear."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        if not (codes < 0).any():
            return codes.astype(np.int64), column.cat.categories
    codes, values = pd.factorize(column, use_na_sentinel=False)
    return codes, pd.Index(values)


def _auditor_agreement(frames: ImpactFrames) -> tuple[Table | None, str]:
    score = frames.audits["score"].to_numpy(float)
    scored = np.flatnonzero(~np.isnan(score))
    # Referrals with both a first and a blind second audit, and the first listed audit of each
    # kind, by position in numpy: grouping by referral and indexing by it took three times as long.
    referral, referrals = pd.factorize(frames.audits["referral"].to_numpy()[scored])
    is_second = frames.audits["is_second"].to_numpy(bool)[scored]
    first_of = _first_listed(referral, ~is_second, len(referrals))
    second_of = _first_listed(referral, is_second, len(referrals))
    both = (first_of >= 0) & (second_of >= 0)
    n_referrals = int(both.sum())
    if n_referrals < MIN_CELL:
        return None, ""
    # One row per referral (unit), one column per auditor: first and second.
    ratings = np.column_stack([score[scored[first_of[both]]], score[scored[second_of[both]]]])
    doubled = frames.audits.iloc[scored[both[referral]]]
    alpha_interval = krippendorff_alpha(ratings, "interval")
    a, b = _paired_grades(frames.criteria, doubled)
    kappa = math.nan
    exact = math.nan
    if len(a) >= MIN_CELL:
        kappa = cohen_kappa(a, b, weights="quadratic")
        exact = float((a == b).mean() * 100)
    table = pd.DataFrame(
        [
            {"measure": "Referrals audited twice (blind)", "value": n_referrals},
            {"measure": "Krippendorff's alpha, audit score (interval)", "value": round(alpha_interval, 2)},
            {
                "measure": "Weighted kappa, criterion grades (quadratic)",
                "value": round(kappa, 2) if math.isfinite(kappa) else None,
            },
            {
                "measure": "Criterion grades in exact agreement (%)",
                "value": round(exact, 1) if math.isfinite(exact) else None,
            },
        ],
        # One column holds a count and statistics: as objects the count stays a whole number.
        dtype=object,
    )
    strength = "good" if alpha_interval >= 0.8 else "moderate" if alpha_interval >= 0.667 else "weak"
    text = (
        f"Agreement between auditors on the audit score is {strength} (Krippendorff's alpha "
        f"{alpha_interval:.2f} over "
        f"{n_referrals} referrals audited twice); alpha below 0.67 means differences between auditors blur "
        "the estimates above."
    )
    return Table("practice_agreement", "How far auditors agree", table), text


def _first_listed(group: np.ndarray, mask: np.ndarray, n_groups: int) -> np.ndarray:
    """For each of ``n_groups`` groups, the position of its first row (in ``group``, group codes)
    where ``mask`` holds, or -1 if it has none."""
    positions = np.flatnonzero(mask)
    present, first = np.unique(group[positions], return_index=True)
    out = np.full(n_groups, -1, np.int64)
    out[present] = positions[first]
    return out


def _paired_grades(criteria: pd.DataFrame, doubled: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The grades the first and the second audit of a referral gave each criterion both graded,
    as two aligned arrays (the first audit's, the second's), from ``doubled``'s audits. Where a
    referral has two audits of a kind, the first listed counts. Keys and positions in numpy: the
    same pairing as a pivot table, in a tenth of its time."""
    row = pd.Index(doubled["audit"]).get_indexer(criteria["audit"])
    graded = row >= 0
    if not graded.any():
        return np.empty(0), np.empty(0)
    row = row[graded]
    referral = pd.factorize(doubled["referral"])[0][row].astype(np.int64)
    criterion, codes = _value_codes(criteria["criterion"])
    key = referral * len(codes) + criterion[graded]
    is_second = doubled["is_second"].to_numpy(bool)[row]
    grade = criteria["grade"].to_numpy(float)[graded]
    first_keys, first_at = np.unique(key[~is_second], return_index=True)
    second_keys, second_at = np.unique(key[is_second], return_index=True)
    _, in_first, in_second = np.intersect1d(first_keys, second_keys, assume_unique=True, return_indices=True)
    return grade[~is_second][first_at[in_first]], grade[is_second][second_at[in_second]]


def _mixed_sensitivity(audits: pd.DataFrame, panel: pd.DataFrame) -> str:
    """``panel`` is ``_did_panel(audits, ...)``, row for row."""
    try:
        result = mixed_model_check(
            panel.assign(team=audits["team"].to_numpy()),
            outcome="outcome",
            staff="staff",
            team="team",
            time="period",
            first_treated="first_treated",
            max_observations=MIXED_MODEL_MAX_AUDITS,
            maxiter=MIXED_MODEL_MAX_ITERATIONS,
        )
    except (AnalysisInputError, ValueError, ZeroDivisionError, np.linalg.LinAlgError):
        # A sensitivity check that cannot be fitted (one team, a singular design) is left out; it
        # must never stop the report.
        return ""
    method = "mixed model" if result.method == "mixedlm" else "cluster-robust regression"
    text = (
        f"Sensitivity check ({method}): trained staff's audits scored {result.effect:.1f} points "
        f"(95% CI {result.ci_low:.1f} to {result.ci_high:.1f}) higher after training."
    )
    return f"{text} {result.note}".strip() if result.note else text


# --- level 4a -----------------------------------------------------------------------------------


def _share_difference(before: np.ndarray, after: np.ndarray) -> tuple[float, float, float]:
    p1, p2 = before.mean(), after.mean()
    se = math.sqrt(p1 * (1 - p1) / len(before) + p2 * (1 - p2) / len(after))
    diff = (p2 - p1) * 100
    return diff, diff - 196 * se, diff + 196 * se


OUTCOME_MEASURES = (
    # (key, row label, what the verdict calls it)
    (
        "accepted",
        "Accepted for assessment or strategy discussion",
        "the share accepted for assessment or strategy discussion",
    ),
    ("nfa", "No further action", "the share with no further action"),
    ("rereferral", "Re-referred within 12 months", "the share re-referred within 12 months"),
)


def outcomes_section(frames: ImpactFrames) -> Section:
    title = "Level 4a: what happened to the referrals"
    # Trained staff's referrals as arrays: the measures below pick rows of them again and again,
    # which through pandas' filters and string comparisons took most of this section's time.
    trained_on = frames.first_training.reindex(frames.referrals["staff"].to_numpy()).to_numpy()
    by_trained = ~np.isnat(trained_on)
    if not by_trained.any():
        return _too_few(title, "outcomes", "4a", "referrals by trained staff", 0)
    staff = frames.referrals["staff"].to_numpy()[by_trained]
    made_on = frames.referrals["made_on"].to_numpy()[by_trained]
    after = made_on >= trained_on[by_trained]
    group = frames.referrals["outcome_group"].to_numpy()[by_trained]
    decided = group != "pending"

    def people(rows: np.ndarray) -> int:
        return len(pd.unique(staff[rows]))

    staff_before, staff_after = people(decided & ~after), people(decided & after)
    if min(staff_before, staff_after) < MIN_CELL:
        return _too_few(
            title,
            "outcomes",
            "4a",
            "trained staff with referrals both before and after training",
            min(staff_before, staff_after),
        )
    # A referral in the first 12 months of the records has a shorter look-back than a later one, so
    # it is less often flagged as a re-referral; counting those before training (when records are
    # young) and not after would make re-referrals "rise" with no change at all. Only referrals
    # with a full 12-month look-back are compared.
    since = frames.referrals_since or frames.referrals["made_on"].min()
    lookback_from = pd.Timestamp(since) + REREFERRAL_LOOKBACK
    subsets = {  # the referrals each measure is a share of, and those it counts
        "accepted": (decided, group == "accepted"),
        "nfa": (decided, group == "nfa"),
        "rereferral": (
            made_on >= lookback_from.to_datetime64(),
            frames.referrals["is_rereferral"].to_numpy(bool)[by_trained],
        ),
    }
    rows, sentences, figures = [], [], {}
    for key, label, outcome in OUTCOME_MEASURES:
        subset, flag = subsets[key]
        b, a = flag[subset & ~after].astype(float), flag[subset & after].astype(float)
        staff_before, staff_after = people(subset & ~after), people(subset & after)
        row = {"measure": label, "n": people(subset), "n_before": len(b), "n_after": len(a)}
        if min(staff_before, staff_after) < MIN_CELL:
            rows.append({**row, "n": min(staff_before, staff_after)})
            figures[key] = {"n": min(staff_before, staff_after)}
            if key == "rereferral":
                sentences.append(
                    "Too few trained staff have referrals with a full 12-month look-back (made from "
                    f"{lookback_from:%d %B %Y}) both before and after training to compare re-referrals yet."
                )
            else:
                sentences.append(f"Too few trained staff have decided referrals to compare {outcome} yet.")
            continue
        diff, low, high = _share_difference(b, a)
        rows.append(
            {
                **row,
                "before": _round(b.mean() * 100, 1),
                "after": _round(a.mean() * 100, 1),
                "change": _round(diff, 1),
                "ci_low": _round(low, 1),
                "ci_high": _round(high, 1),
            }
        )
        said = verdict(
            diff, low, high, outcome=outcome, unit="percentage points", comparison="after training"
        )
        sentences.append(said.text)
        figures[key] = {
            "n": row["n"],
            "change": _finite(diff),
            "ci_low": _finite(low),
            "ci_high": _finite(high),
            "direction": said.direction,
        }
    figures["rereferral_lookback_from"] = lookback_from.date()
    table = suppress(
        pd.DataFrame(rows).reindex(
            columns=["measure", "n", "n_before", "before", "n_after", "after", "change", "ci_low", "ci_high"]
        ),
        columns=["n_before", "before", "n_after", "after", "change", "ci_low", "ci_high"],
    )
    chart = before_after_chart(
        table[["measure", "n", "before", "after"]],
        title="Referral outcomes before and after training",
        key="outcomes_chart",
    )
    return Section(
        "outcomes",
        "4a",
        title,
        " ".join(sentences),
        "descriptive",
        (chart,),
        (
            Table(
                "outcomes",
                "Outcomes of referrals by trained staff, before and after their training",
                table,
                "Re-referrals count only referrals made from "
                f"{lookback_from:%d %B %Y}, 12 months after the first referral recorded, so that every "
                "one has a full 12-month look-back.",
            ),
        ),
        (
            "Before-and-after comparison among trained staff only: outcomes also depend on the "
            "children referred and on thresholds at the front door, so read this beside the level 3 "
            "estimate, not as proof on its own. Pending referrals are left out of the shares accepted "
            "and with no further action.",
            "A referral is a re-referral when another referral for the same child was made in the 12 "
            "months before it. In the first 12 months of the records that look-back is cut short, which "
            "would make re-referrals look rarer early on (before most staff were trained), so those "
            "referrals are left out of the re-referral comparison.",
        ),
        figures,
    )


# --- the chain, course comparison, data quality ------------------------------------------------


def _correlation(both: pd.DataFrame) -> dict[str, float]:
    n = len(both)
    r, p = stats.pearsonr(both["gain"], both["change"])
    z, se = math.atanh(max(min(r, 0.999999), -0.999999)), 1 / math.sqrt(n - 3)
    return {
        "n": n,
        "r": float(r),
        "ci_low": math.tanh(z - 1.96 * se),
        "ci_high": math.tanh(z + 1.96 * se),
        "p": float(p),
    }


def _chain_pairs(frames: ImpactFrames, knowledge: pd.DataFrame) -> pd.DataFrame:
    """One row per person and course: their knowledge gain on that course (just after minus before)
    and the change in their audit scores from before that course's training to after it."""
    empty = pd.DataFrame(columns=["person", "course", "gain", "change"])
    gains = _mean_table(knowledge, ["person", "course"], ["phase"], "score")
    if not {"pre", "post"} <= set(gains.columns):
        return empty
    gain = (gains["post"] - gains["pre"]).dropna()
    trained = frames.training.set_index(["staff", "course"])["first_trained"]
    first_trained = trained.reindex(gain.index).to_numpy()
    gain = gain[~np.isnat(first_trained)]
    first_trained = first_trained[~np.isnat(first_trained)]
    person = gain.index.get_level_values("person").to_numpy(np.int64)
    # Each person's audits before and after that course's training, from running totals of their
    # audits in order of person and day: a search per pair rather than joining each pair to every
    # audit of the person (a merge of tens of thousands of rows, then a mean table of it).
    audits = frames.first_audits
    day = audits["made_on"].to_numpy().astype("datetime64[D]").astype(np.int64)
    trained_day = first_trained.astype("datetime64[D]").astype(np.int64)
    origin = min(day.min(initial=0), trained_day.min(initial=0))
    span = int(max(day.max(initial=0), trained_day.max(initial=0)) - origin) + 1
    key = audits["staff"].to_numpy(np.int64) * span + (day - origin)
    order = np.argsort(key, kind="stable")
    key = key[order]
    totals = np.concatenate([[0.0], np.cumsum(audits["score"].to_numpy(float)[order])])
    start = np.searchsorted(key, person * span, side="left")
    split = np.searchsorted(key, person * span + (trained_day - origin), side="left")
    end = np.searchsorted(key, (person + 1) * span, side="left")
    n_before, n_after = split - start, end - split
    both = (n_before > 0) & (n_after > 0)
    if not both.any():
        return empty
    before = (totals[split] - totals[start])[both] / n_before[both]
    after = (totals[end] - totals[split])[both] / n_after[both]
    return pd.DataFrame(
        {
            "person": person[both],
            "course": gain.index.get_level_values("course").to_numpy()[both],
            "gain": gain.to_numpy()[both],
            "change": after - before,
        }
    )


def _chain_groups(both: pd.DataFrame) -> pd.DataFrame:
    """People in equal groups by learning gain, each group's mean gain and mean practice change.

    Groups, not people, are shown: a scatter of people would put each person's learning and
    practice on the page. Every group has at least ``CHAIN_MIN_PEOPLE / 2`` people (5)."""
    k = max(2, min(CHAIN_MAX_GROUPS, len(both) // CHAIN_MIN_PEOPLE))
    ordered = both.assign(group=pd.qcut(both["gain"].rank(method="first"), k, labels=False))
    rows = []
    for group, rows_for in ordered.groupby("group"):
        i = int(group)
        kind = "Smallest" if i == 0 else "Largest" if i == k - 1 else "Middle"
        mean, low, high = _mean_ci(rows_for["change"])
        rows.append(
            {
                "learning_group": f"{kind} gains ({i + 1} of {k})",
                "n": len(rows_for),
                "mean_gain": _round(rows_for["gain"].mean(), 1),
                "mean_change": _round(mean, 1),
                "ci_low": _round(low, 1),
                "ci_high": _round(high, 1),
            }
        )
    return suppress(pd.DataFrame(rows), columns=["mean_gain", "mean_change", "ci_low", "ci_high"])


def chain_section(frames: ImpactFrames) -> Section:
    title = "The chain: does learning gain predict practice change?"
    knowledge = frames.scores[frames.scores["construct"] == "knowledge"]
    anonymous = (
        knowledge["anonymous"].fillna(False).astype(bool)
        if "anonymous" in knowledge.columns
        else pd.Series(False, index=knowledge.index)
    )
    notes = [
        "A correlation across people, not a causal estimate: people who learn more may differ in other ways.",
    ]
    if anonymous.any():
        # Anonymous answers are never broken down to individuals, and linking a person's answers to
        # the referrals they make would do exactly that.
        if anonymous.all():
            return Section(
                "chain",
                "2-3",
                title,
                "Not reported for this selection: its questionnaires were answered anonymously, and "
                "anonymous answers are never linked to the referrals a person makes.",
                "not_available",
            )
        notes.append(
            "Answers to questionnaires run anonymously are left out: they are never linked to the "
            "referrals a person makes."
        )
        knowledge = knowledge[~anonymous]
    pairs = _chain_pairs(frames, knowledge)
    n = len(pairs)
    if n < CHAIN_MIN_PEOPLE:
        return _too_few(
            title,
            "chain",
            "2-3",
            "people with both a learning gain and audits before and after",
            n,
            needed=CHAIN_MIN_PEOPLE,
        )
    pooled = _correlation(pairs)
    titles = dict(zip(frames.courses["course"], frames.courses["title"], strict=False))
    rows = [
        {
            "measure": "All courses in this report"
            if pairs["course"].nunique() > 1
            else titles.get(pairs["course"].iloc[0], "This course"),
            **pooled,
        }
    ]
    if pairs["course"].nunique() > 1:
        for course, rows_for in pairs.groupby("course"):
            if len(rows_for) >= CHAIN_MIN_PEOPLE:
                rows.append({"measure": titles.get(course, str(course)), **_correlation(rows_for)})
    # Correlations are tested only where there are enough people to claim anything; the family is
    # every such test here, and at least every course the reader can see with named questionnaires,
    # since a reader can look at each course's report and find one by chance.
    tested = [i for i, row in enumerate(rows) if row["n"] >= CHAIN_MIN_PEOPLE_FOR_CLAIM]
    family = max(len(tested), frames.questionnaire_courses, 1)
    p_holm = [math.nan] * len(rows)
    if tested:
        padded = [rows[i]["p"] for i in tested] + [1.0] * (family - len(tested))
        adjusted = holm(padded).p_adjusted
        for i, value in zip(tested, adjusted, strict=False):
            p_holm[i] = value
    for row, value in zip(rows, p_holm, strict=True):
        row["p_holm"] = value
    r, low, high, p_adj = pooled["r"], pooled["ci_low"], pooled["ci_high"], p_holm[0]
    numbers = (
        f"r = {format_number(r, 2)}, 95% CI {format_number(low, 2)} to {format_number(high, 2)}, n = {n}"
    )
    tests = "1 test" if family == 1 else f"{family} tests"
    if n < CHAIN_MIN_PEOPLE_FOR_CLAIM:
        direction = "not_enough_data"
        text = (
            "Too few people yet to tell whether learning gain predicts practice change: "
            f"{n} people have both a knowledge gain and audits before and after training, and at least "
            f"{CHAIN_MIN_PEOPLE_FOR_CLAIM} are needed before a link could be claimed. The correlation so far "
            "is in the table below."
        )
    elif p_adj < 0.05 and (low > 0 or high < 0):
        direction = "positive_link" if low > 0 else "negative_link"
        pattern = (
            "People who learnt more also tended to improve their referrals more"
            if low > 0
            else "People who learnt more tended to improve their referrals less"
        )
        text = (
            f"{pattern} ({numbers}; clear after allowing for {tests}). This is an association across "
            "people, not proof that the learning caused the change."
        )
    elif (low > 0 or high < 0) and family > 1:
        direction = "not_enough_evidence"
        text = (
            f"Not enough evidence that learning gain predicts practice change: the correlation ({numbers}) "
            f"would look clear on its own, but not after allowing for the {tests} made "
            f"(Holm-corrected p = {p_adj:.2f})."
        )
    else:
        direction = "not_enough_evidence"
        text = f"Not enough evidence that learning gain predicts practice change ({numbers})."
    table = pd.DataFrame(rows)
    for column, places in (("r", 2), ("ci_low", 2), ("ci_high", 2), ("p", 4), ("p_holm", 4)):
        table[column] = table[column].map(lambda v, d=places: _round(v, d))
    table = suppress(table, columns=["r", "ci_low", "ci_high", "p", "p_holm"])
    groups = _chain_groups(pairs)
    chart = binned_chart(
        groups.rename(columns={"learning_group": "label", "mean_gain": "x_mean", "mean_change": "estimate"}),
        x_measure="knowledge gain (percentage points)",
        y_measure="change in audit score (points)",
        title="Change in referral quality by size of knowledge gain",
        key="chain_chart",
        table=groups,
    )
    notes.append(
        f"Correlations are tested only with at least {CHAIN_MIN_PEOPLE_FOR_CLAIM} people, and a link is "
        f"claimed only if it stays clear after Holm's correction for {tests} (every course you can see "
        "with named questionnaires, and every correlation in this section). The chart groups people by "
        "the size of their knowledge gain and shows each group's mean change, never a person."
    )
    return Section(
        "chain",
        "2-3",
        title,
        text,
        direction,
        (chart,),
        (Table("chain", "Correlation of knowledge gain with change in audit score", table),),
        tuple(notes),
        {
            "n": n,
            "r": _finite(r),
            "ci_low": _finite(low),
            "ci_high": _finite(high),
            "p": _finite(pooled["p"]),
            "p_holm": _finite(p_adj),
            "tests": family,
            "direction": direction,
        },
    )


def course_comparison_section(frames: ImpactFrames) -> Section:
    title = "Which courses change practice"
    audits = frames.first_audits
    if audits.empty or frames.training.empty:
        return _too_few(title, "courses", "3", "audits of trained staff", 0)
    rows = []
    # Each course's trainees are compared with colleagues not yet trained on ANY course: comparing
    # with "not yet trained on this course" would count people lifted by another course as the
    # comparison and bias the estimate. Staff whose first course was a different one are left out.
    first_any = frames.training.sort_values("first_trained").drop_duplicates("staff").set_index("staff")
    # Each audit's person's first course (NaN: never trained), so that each course's panel is
    # rows of the practice panel: a course's own trainees' first training on it is their first of
    # all, which is the cohort that panel gives them.
    staff = audits["staff"].to_numpy()
    first_course = first_any["course"].reindex(staff).to_numpy(dtype=float)
    panel = frames.audit_panel
    courses = frames.courses
    titles = zip(courses["title"], courses["delivery_mode"], strict=True)
    about = dict(zip(courses["course"], titles, strict=True))
    for course_id in np.unique(frames.training["course"].to_numpy()):
        title_text, mode = about.get(course_id, (str(course_id), ""))
        started_here = first_course == course_id
        n_trained = len(np.unique(staff[started_here]))
        row = {
            "label": title_text,
            "delivery_mode": mode,
            "n": n_trained,
            "estimate": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
        }
        if n_trained >= MIN_CELL:
            try:
                result = _simple_did(panel[started_here | np.isnan(first_course)])
            except AnalysisInputError:
                pass
            else:
                simple = result.aggregations["simple"]
                # The people the estimate is about: trained staff audited before training too.
                row.update(
                    n=result.n_treated_units,
                    estimate=simple.att,
                    ci_low=simple.ci_low,
                    ci_high=simple.ci_high,
                )
        rows.append(row)
    table = (
        pd.DataFrame(rows).sort_values("estimate", ascending=False, na_position="last").reset_index(drop=True)
    )
    chart_rows = (
        table[table["n"] >= MIN_CELL]
        .dropna(subset=["estimate"])
        .round({"estimate": 2, "ci_low": 2, "ci_high": 2})
    )
    charts = ()
    if not chart_rows.empty:
        charts = (
            interval_chart(
                chart_rows,
                measure="Change in referral quality (points)",
                title="Effect of each course",
                key="courses_chart",
            ),
        )
    clear = chart_rows[chart_rows["ci_low"] > 0]["label"].tolist()
    if clear:
        text = f"Referral quality rose clearly after: {', '.join(clear)}."
    elif not chart_rows.empty:
        text = "No course yet shows a clear change in referral quality; see the intervals below."
    else:
        text = (
            f"Not enough audited staff per course yet (at least {MIN_CELL} trained and audited "
            "staff per course are needed)."
        )
    shown = suppress(
        table.round({"estimate": 2, "ci_low": 2, "ci_high": 2}),
        columns=["n", "estimate", "ci_low", "ci_high"],
    )
    return Section(
        "courses",
        "3",
        title,
        text,
        "descriptive",
        charts,
        (Table("courses", "Effect of each course on referral quality (staggered DiD)", shown),),
        (
            "Each course's trainees are compared with colleagues not yet trained on any course; staff "
            "whose first course was another one are left out of that course's estimate.",
            "Each interval is a 95% interval for that course on its own, not corrected for comparing "
            "several courses: read a course whose interval only just clears zero with care.",
        ),
        {"clear": clear},
    )


def data_quality_section(frames: ImpactFrames) -> Section:
    title = "Data quality"
    # "base" is what each figure is out of: people invited, referrals or audits (not always people,
    # so the table names it on every row). A base under 5 hides its figure as "c".
    rows = []
    inv = frames.invitations
    rates = []
    for phase, offset in _phase_order(zip(inv["phase"], inv["offset_days"], strict=True)):
        g = inv[(inv["phase"] == phase) & (inv["offset_days"] == offset)]
        invited, answered = int(g["invited"].sum()), int(g["answered"].sum())
        stage = _phase_label(phase, int(offset)).lower()
        rate = answered / invited * 100 if invited else math.nan
        rows.append(
            {
                "measure": f"Questionnaire response rate: {stage}",
                "base": invited,
                "counting": "people invited",
                "value": f"{rate:.0f}% ({answered} of {invited})",
            }
        )
        if invited >= MIN_CELL:
            rates.append(f"{rate:.0f}% {stage}")
    refs = frames.referrals
    audits = frames.audits
    audited_refs = audits["referral"].nunique()
    doubled = audits[audits["is_second"]]["referral"].nunique()
    coverage = audited_refs / len(refs) * 100 if len(refs) else math.nan
    rows.append(
        {
            "measure": "Referrals audited",
            "base": len(refs),
            "counting": "referrals",
            "value": f"{coverage:.0f}% ({audited_refs} of {len(refs)})" if len(refs) else "none",
        }
    )
    rows.append(
        {
            "measure": "Audited referrals audited twice",
            "base": audited_refs,
            "counting": "audited referrals",
            "value": f"{doubled / audited_refs * 100:.0f}% ({doubled})" if audited_refs else "none",
        }
    )
    first_audits = frames.first_audits
    mde_text = ""
    if len(first_audits) >= MIN_CELL * 2:
        sd = float(first_audits["score"].std(ddof=1))
        per_staff = first_audits.groupby("staff").size().mean()
        icc = _icc(first_audits)
        n_trained = first_audits["staff"].isin(frames.first_training.index).sum()
        n_other = len(first_audits) - n_trained
        if n_trained >= MIN_CELL and n_other >= MIN_CELL and math.isfinite(sd) and sd > 0:
            mde = two_group_mde(n_trained, n_other, icc=icc, cluster_size=per_staff) * sd
            rows.append(
                {
                    "measure": "Smallest change in audit score these audits can detect (80% power)",
                    "base": len(first_audits),
                    "counting": "first audits",
                    "value": f"{mde:.1f} points",
                }
            )
            mde_text = (
                f" With these audits a change of about {mde:.1f} points in referral quality "
                "could be detected."
            )
    table = suppress(pd.DataFrame(rows), count_column="base", columns=["value"])
    # The verdict repeats only figures the table shows: with fewer than 5 referrals (or audited
    # referrals) the coverage and the number audited twice are "c" there, so they are not given here.
    if not len(refs):
        text = "No referrals recorded yet."
    elif len(refs) < MIN_CELL:
        text = "Fewer than 5 referrals recorded yet, too few to show how many were audited."
    elif audited_refs < MIN_CELL:
        text = (
            f"{coverage:.0f}% of referrals were audited; too few to show how many were audited twice."
            if audited_refs
            else "None of the referrals has been audited yet."
        )
    else:
        text = f"{coverage:.0f}% of referrals were audited and {doubled} were audited twice."
    if rates:
        text = f"Questionnaire response rates: {', '.join(rates)}. {text}"
    return Section(
        "data_quality",
        "all",
        title,
        text + mde_text,
        "descriptive",
        (),
        (Table("data_quality", title, table),),
        (
            "Each figure is out of the base shown: people invited, referrals, audited referrals or "
            "first audits. Figures out of fewer than 5 are shown as c.",
        ),
        {
            "coverage_percent": _finite(coverage)
            if len(refs) >= MIN_CELL
            else SUPPRESSED
            if len(refs)
            else None,
            "double_audited": doubled if audited_refs >= MIN_CELL else SUPPRESSED if audited_refs else 0,
        },
    )


def _icc(audits: pd.DataFrame) -> float:
    """One-way ANOVA intraclass correlation of audit scores within staff (clusters)."""
    groups = audits.groupby("staff")["score"]
    k = groups.size()
    if len(k) < 2:
        return 0.0
    grand = audits["score"].mean()
    ms_between = (k * (groups.mean() - grand) ** 2).sum() / (len(k) - 1)
    ms_within = ((audits["score"] - groups.transform("mean")) ** 2).sum() / max(len(audits) - len(k), 1)
    k0 = (len(audits) - (k**2).sum() / len(audits)) / (len(k) - 1)
    icc = (ms_between - ms_within) / (ms_between + (k0 - 1) * ms_within) if k0 > 0 else 0.0
    return float(min(max(icc, 0.0), 1.0))


SECTION_BUILDERS: tuple[Callable[[ImpactFrames], Section], ...] = (
    reaction_section,
    learning_section,
    practice_section,
    outcomes_section,
    chain_section,
    course_comparison_section,
    data_quality_section,
)


def build_report(frames: ImpactFrames, *, title: str, scope: str, generated_at: dt.datetime) -> ImpactReport:
    return ImpactReport(title, scope, generated_at, tuple(builder(frames) for builder in SECTION_BUILDERS))
