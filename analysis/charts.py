"""Report charts: matplotlib drawn server-side as inline SVG, one consistent style.

Every chart comes back with a text alternative and the table of numbers it was drawn from, so a
screen-reader user, a printed report and a spreadsheet export all get the same facts. The drawing
itself waits until the SVG is first read (see ``Chart``); it uses the Agg backend and a new figure
each time, and figures are always closed.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.transforms import Bbox

from analysis.tidy import tidy_numbers

BLUE = "#1d70b8"
DARK_BLUE = "#003078"
GREY = "#505a5f"
LIGHT_GREY = "#b1b4b6"
ORANGE = "#d4351c"
SERIES = (BLUE, "#f47738", "#00703c", "#4c2c92", GREY)

STYLE = {
    "font.family": "sans-serif",
    "font.size": 10,
    "axes.edgecolor": GREY,
    "axes.labelcolor": "#0b0c0c",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e6e7",
    "grid.linewidth": 0.8,
    "xtick.color": "#0b0c0c",
    "ytick.color": "#0b0c0c",
    "legend.frameon": False,
    # Text stays text in the SVG (selectable, smaller) and ids are stable between runs.
    "svg.fonttype": "none",
    "svg.hashsalt": "closing-the-loop",
}

FIGSIZE = (7.0, 3.4)
# Matplotlib always writes SVG at 72 dots per inch (one dot per point).
SVG_DPI = 72


@dataclass(frozen=True, eq=False)
class Chart:
    """A chart: a text alternative, the data behind it, and its SVG markup, drawn when first read.

    Drawing is most of a report's statistics time, and the JSON, CSV and spreadsheet versions of
    a report never show a drawing, so ``draw`` (a module-level function with its data bound, so a
    cached report can be pickled) runs only when ``svg`` is first read; ``impact_report_get`` reads
    it before caching a report for a page or a PDF.
    """

    key: str
    title: str
    draw: Callable[[], str]
    alt_text: str
    table: pd.DataFrame

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", tidy_numbers(self.table))

    @property
    def svg(self) -> str:
        drawn = self.__dict__.get("_svg")
        if drawn is None:
            drawn = _scope_ids(self.draw(), self.key)
            object.__setattr__(self, "_svg", drawn)
        return drawn

    @property
    def is_drawn(self) -> bool:
        return "_svg" in self.__dict__


def _scope_ids(svg: str, prefix: str) -> str:
    """Make the SVG's element ids unique on a page that shows several charts: matplotlib numbers
    them from 1 in every figure, and duplicate ids break references and accessibility checks."""
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if not ids:
        return svg

    def rename(match: re.Match) -> str:
        name = match.group(2)
        return f"{match.group(1)}{prefix}-{name}{match.group(3)}" if name in ids else match.group(0)

    return re.sub(r'(\bid="|url\(#|href="#)([^")]+)([")])', rename, svg)


def _style_to_attributes(svg: str) -> str:
    """Turn matplotlib's inline ``style="fill: …"`` into SVG presentation attributes.

    The service's content security policy has no 'unsafe-inline' for styles, so browsers ignore
    style attributes and draw every shape black; presentation attributes are not styles and are
    always honoured. The one ``<style>`` element (default line joins) is dropped for the same reason.
    """

    def convert(match: re.Match) -> str:
        attributes = []
        for declaration in match.group(1).split(";"):
            name, _, value = declaration.partition(":")
            name, value = name.strip(), value.strip().replace('"', "'")
            if name and value:
                attributes.append(f'{name}="{value}"')
        return " ".join(attributes)

    svg = re.sub(r"<style[^>]*>.*?</style>", "", svg, flags=re.S)
    return re.sub(r'style="([^"]*)"', convert, svg)


def _tight_box(fig) -> Bbox:
    """The figure's tight bounding box (in inches, padded as savefig pads it), measured with an SVG
    renderer at the SVG's 72 dpi, so text is measured exactly as it will be drawn.

    ``savefig(bbox_inches="tight")`` finds the same box by drawing the whole figure once before
    drawing it for real; the box depends only on the extents of text, ticks and axes, which can be
    measured without drawing, and the dry run was about a third of the charts' time.
    """
    fig.set_dpi(SVG_DPI)
    width, height = fig.get_size_inches() * SVG_DPI
    renderer = RendererSVG(width, height, io.StringIO())
    pad = plt.rcParams["savefig.pad_inches"]
    return fig.get_tightbbox(renderer).padded(pad)


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches=_tight_box(fig), metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    start = text.find("<svg")
    # Inline SVG needs no XML prolog or DOCTYPE; role and aria-hidden are set by the template.
    return _style_to_attributes(text[start:] if start >= 0 else text)


def _floats(values) -> np.ndarray:
    """A column as floats; suppressed cells ("c") and other non-numbers become NaN (not drawn)."""
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def _wrap(label, width: int) -> str:
    return textwrap.fill(str(label), width=width, break_long_words=False)


def _fmt(value, decimals: int = 1) -> str:
    number = pd.to_numeric(value, errors="coerce")  # suppressed cells ("c") read as missing
    return "no estimate" if pd.isna(number) else f"{number:.{decimals}f}"


def _draw_event_study(data: pd.DataFrame, outcome: str, unit: str, title: str) -> str:
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=FIGSIZE)
        x = data["event_time"].to_numpy(dtype=float)
        y = data["att"].to_numpy(dtype=float)
        low, high = data["ci_low"].to_numpy(dtype=float), data["ci_high"].to_numpy(dtype=float)
        pre = x < 0
        ax.axhline(0, color=GREY, linewidth=1)
        ax.axvline(-0.5, color=GREY, linewidth=1, linestyle="--")
        ax.fill_between(x, low, high, color=BLUE, alpha=0.15, linewidth=0, label="95% confidence interval")
        ax.plot(x[pre], y[pre], marker="o", color=GREY, linewidth=1.5, label="Before training (checks)")
        ax.plot(x[~pre], y[~pre], marker="o", color=BLUE, linewidth=2, label="After training")
        ax.set_xlabel(f"{unit.capitalize()} since training")
        ax.set_ylabel(f"Change in {outcome}")
        ax.legend(loc="upper left", fontsize=9)
        if title:
            ax.set_title(title, loc="left", fontsize=11)
        return _svg(fig)


def event_study_chart(
    effects: pd.DataFrame,
    *,
    outcome: str,
    unit: str = "months",
    title: str = "",
    key: str = "event_study",
    time_column: str = "event_time",
    table: pd.DataFrame | None = None,
) -> Chart:
    """Effect by time since training, with 95% intervals; a dashed line marks training.

    ``effects`` has columns ``event_time`` (or ``time_column``), ``att``, ``ci_low``, ``ci_high``.
    ``table`` is the table published with the chart, when it differs from what is drawn (rows about
    too few people are in the table as "c" but not drawn).
    """
    data = effects.sort_values(time_column).reset_index(drop=True)
    data = data.rename(columns={time_column: "event_time"})
    after = data[data["event_time"] >= 0]
    before = data[data["event_time"] < 0]
    parts = [f"Line chart of the estimated change in {outcome} by {unit} since training"]
    if len(data):
        parts.append(f"from {int(data['event_time'].min())} to {int(data['event_time'].max())} {unit}")
    text = ", ".join(parts) + "."
    if len(before):
        text += (
            f" Before training the estimates range from {_fmt(before['att'].min())} to "
            f"{_fmt(before['att'].max())}, a check that trained and comparison staff were on similar paths."
        )
    if len(after):
        peak = after.loc[after["att"].idxmax()]
        text += (
            f" After training they range from {_fmt(after['att'].min())} to {_fmt(after['att'].max())},"
            f" highest at {int(peak['event_time'])} {unit} ({_fmt(peak['att'])})."
        )
    published = table if table is not None else data.rename(columns={"event_time": time_column})
    draw = partial(_draw_event_study, data, outcome, unit, title)
    return Chart(key, title or f"Change in {outcome} by time since training", draw, text, published)


def _draw_phases(means: pd.DataFrame, phases: list, measure: str, title: str) -> str:
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=FIGSIZE)
        for i, (scale, rows) in enumerate(means.groupby("scale", sort=False)):
            values = rows.set_index("phase").reindex(phases)["mean"]
            y = _floats(values)
            ax.plot(
                range(len(phases)),
                y,
                marker="o",
                linewidth=2,
                color=SERIES[i % len(SERIES)],
                label=str(scale),
            )
        ax.set_xticks(range(len(phases)), phases)
        ax.set_ylabel(measure)
        ax.legend(loc="best", fontsize=9)
        if title:
            ax.set_title(title, loc="left", fontsize=11)
        return _svg(fig)


def phase_chart(
    means: pd.DataFrame, *, measure: str = "score", title: str = "", key: str = "phases"
) -> Chart:
    """Mean score per scale at each phase (pre, post, follow-up), one line per scale.

    ``means`` has columns ``scale``, ``phase``, ``mean`` and optionally ``n``; phases are drawn in
    the order they first appear. Missing or suppressed means are left as gaps.
    """
    phases = list(dict.fromkeys(means["phase"]))
    sentences = []
    for scale, rows in means.groupby("scale", sort=False):
        values = pd.to_numeric(rows["mean"], errors="coerce")
        shown = [f"{p} {_fmt(v)}" for p, v in zip(rows["phase"], values, strict=True) if not np.isnan(v)]
        sentences.append(f"{scale}: {', '.join(shown) if shown else 'no figures that can be shown'}")
    text = f"Line chart of mean {measure} at each stage. " + "; ".join(sentences) + "."
    draw = partial(_draw_phases, means, phases, measure, title)
    return Chart(key, title or f"Mean {measure} by stage", draw, text, means.reset_index(drop=True))


def _draw_intervals(data: pd.DataFrame, label: str, measure: str, title: str) -> str:
    with plt.rc_context(STYLE):
        height = max(2.2, 0.38 * len(data) + 1.0)
        fig, ax = plt.subplots(figsize=(FIGSIZE[0], height))
        y = np.arange(len(data))[::-1]
        est = _floats(data["estimate"])
        low = _floats(data["ci_low"])
        high = _floats(data["ci_high"])
        ax.axvline(0, color=GREY, linewidth=1)
        ax.hlines(y, low, high, color=BLUE, linewidth=2)
        ax.plot(est, y, "o", color=DARK_BLUE)
        ax.set_yticks(y, [str(v) for v in data[label]])
        ax.set_xlabel(measure)
        ax.grid(axis="y", visible=False)
        if title:
            ax.set_title(title, loc="left", fontsize=11)
        return _svg(fig)


def interval_chart(
    estimates: pd.DataFrame,
    *,
    label: str = "label",
    measure: str = "effect",
    title: str = "",
    key: str = "intervals",
) -> Chart:
    """Horizontal estimates with 95% intervals (per-criterion effects, course comparison).

    ``estimates`` has columns ``label`` (or the name given), ``estimate``, ``ci_low``, ``ci_high``.
    """
    data = estimates.reset_index(drop=True)
    rows = [
        f"{name} {_fmt(estimate)} (95% CI {_fmt(low)} to {_fmt(high)})"
        for name, estimate, low, high in zip(
            data[label], data["estimate"], data["ci_low"], data["ci_high"], strict=True
        )
    ]
    text = f"Chart of {measure} with 95% confidence intervals: " + "; ".join(rows) + "."
    draw = partial(_draw_intervals, data, label, measure, title)
    return Chart(key, title or measure.capitalize(), draw, text, data)


def _draw_before_after(data: pd.DataFrame, title: str) -> str:
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=FIGSIZE)
        x = np.arange(len(data))
        before = _floats(data["before"])
        after = _floats(data["after"])
        ax.bar(x - 0.2, np.nan_to_num(before), width=0.4, color=LIGHT_GREY, label="Before training")
        ax.bar(x + 0.2, np.nan_to_num(after), width=0.4, color=BLUE, label="After training")
        # Measures are long ("Accepted for assessment or strategy discussion"): wrapped, they sit
        # under their own bars instead of running into each other.
        ax.set_xticks(x, [_wrap(m, 24) for m in data["measure"]])
        ax.set_ylabel("Per cent of referrals")
        ax.legend(loc="best", fontsize=9)
        if title:
            ax.set_title(title, loc="left", fontsize=11)
        return _svg(fig)


def before_after_chart(shares: pd.DataFrame, *, title: str = "", key: str = "before_after") -> Chart:
    """Paired bars of percentages before and after training.

    ``shares`` has columns ``measure``, ``before`` and ``after`` (percentages; NaN for suppressed).
    """
    data = shares.reset_index(drop=True)

    def percent(value) -> str:
        text = _fmt(value)
        return "not shown" if text == "no estimate" else f"{text}%"

    rows = [
        f"{row['measure']}: {percent(row['before'])} before, {percent(row['after'])} after"
        for _, row in data.iterrows()
    ]
    draw = partial(_draw_before_after, data, title)
    return Chart(key, title or "Before and after training", draw, "Bar chart. " + "; ".join(rows) + ".", data)


def _draw_item_means(data: pd.DataFrame, measure: str, limits: tuple[float, float], title: str) -> str:
    mean = _floats(data["mean"])
    low = _floats(data["ci_low"])
    high = _floats(data["ci_high"])
    with plt.rc_context(STYLE):
        height = max(2.2, 0.42 * len(data) + 1.0)
        fig, ax = plt.subplots(figsize=(FIGSIZE[0], height))
        y = np.arange(len(data))[::-1]
        shown = np.isfinite(mean)
        ax.barh(y[shown], mean[shown] - limits[0], left=limits[0], height=0.6, color=BLUE)
        whiskers = shown & np.isfinite(low) & np.isfinite(high)
        ax.hlines(y[whiskers], low[whiskers], high[whiskers], color=DARK_BLUE, linewidth=1.5)
        ax.set_yticks(y, [_wrap(v, 48) for v in data["label"]])
        ax.set_xlim(*limits)
        ax.set_xlabel(measure.capitalize())
        ax.grid(axis="y", visible=False)
        if title:
            ax.set_title(title, loc="left", fontsize=11)
        return _svg(fig)


def item_means_chart(
    items: pd.DataFrame,
    *,
    measure: str = "mean score (1 to 5)",
    limits: tuple[float, float] = (1.0, 5.0),
    title: str = "",
    key: str = "item_means",
    table: pd.DataFrame | None = None,
) -> Chart:
    """Horizontal bars of item (or scale) means with 95% intervals, one bar per item.

    ``items`` has columns ``label``, ``mean``, ``ci_low`` and ``ci_high``; bars start at the
    scale's lowest point (``limits``), so a bar's length is the distance above "strongly disagree".
    Missing or suppressed means are left out of the drawing and described as not shown.
    """
    data = items.reset_index(drop=True)
    mean = _floats(data["mean"])
    low = _floats(data["ci_low"])
    high = _floats(data["ci_high"])
    rows = [
        f"{row['label']} {_fmt(m, 2)} (95% CI {_fmt(lo, 2)} to {_fmt(hi, 2)})"
        if np.isfinite(m)
        else f"{row['label']} not shown"
        for (_, row), m, lo, hi in zip(data.iterrows(), mean, low, high, strict=True)
    ]
    text = f"Bar chart of the {measure} of each question: " + "; ".join(rows) + "."
    published = table if table is not None else data
    draw = partial(_draw_item_means, data, measure, limits, title)
    return Chart(key, title or measure.capitalize(), draw, text, published)


def _draw_binned(data: pd.DataFrame, x_measure: str, y_measure: str, title: str) -> str:
    x = _floats(data["x_mean"])
    est = _floats(data["estimate"])
    low = _floats(data["ci_low"])
    high = _floats(data["ci_high"])
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=FIGSIZE)
        shown = np.isfinite(x) & np.isfinite(est)
        ax.axhline(0, color=GREY, linewidth=1, linestyle="--")
        ax.vlines(x[shown], low[shown], high[shown], color=BLUE, linewidth=2)
        ax.plot(x[shown], est[shown], "o", color=DARK_BLUE, markersize=7)
        ax.set_xlabel(x_measure.capitalize())
        ax.set_ylabel(_wrap(y_measure.capitalize(), 30))
        if title:
            ax.set_title(title, loc="left", fontsize=11)
        return _svg(fig)


def binned_chart(
    bins: pd.DataFrame,
    *,
    x_measure: str,
    y_measure: str,
    title: str = "",
    key: str = "binned",
    table: pd.DataFrame | None = None,
) -> Chart:
    """Mean of one measure (with 95% intervals) in groups of people ordered by another.

    ``bins`` has columns ``label`` (the group, e.g. "smallest gains"), ``x_mean``, ``estimate``,
    ``ci_low`` and ``ci_high``. Each point is a group's mean, never a person, so the chart can be
    shown whatever the mode of the questionnaires; a dashed line marks no change.
    """
    data = bins.reset_index(drop=True)
    x = _floats(data["x_mean"])
    est = _floats(data["estimate"])
    low = _floats(data["ci_low"])
    high = _floats(data["ci_high"])
    rows = [
        f"{row['label']} (mean {x_measure} {_fmt(xm)}): {_fmt(e)} (95% CI {_fmt(lo)} to {_fmt(hi)})"
        if np.isfinite(e)
        else f"{row['label']}: not shown"
        for (_, row), xm, e, lo, hi in zip(data.iterrows(), x, est, low, high, strict=True)
    ]
    text = f"Chart of the mean {y_measure} in groups of people by {x_measure}: " + "; ".join(rows) + "."
    draw = partial(_draw_binned, data, x_measure, y_measure, title)
    return Chart(key, title or y_measure.capitalize(), draw, text, table if table is not None else data)
