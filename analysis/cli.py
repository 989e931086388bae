"""Command-line edge of the analysis engine: read a CSV, check it, run one analysis, format the result.

Kept free of Django so it can be tested directly and run without the web application
(``python -m analysis.cli paired --input scores.csv --before pre --after post``). The management command
``python manage.py analyse`` is a thin wrapper around `add_arguments` and `run`.

Every problem with the input raises `AnalysisInputError` with a one-line message; callers print it and
exit non-zero instead of showing a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.stats import verdicts
from analysis.stats._common import clean_for_json, numeric_column
from analysis.stats.agreement import LEVELS, agreement
from analysis.stats.did import CONTROLS, staggered_did
from analysis.stats.errors import AnalysisInputError
from analysis.stats.paired import paired_change
from analysis.stats.reliability import cronbach_alpha

__all__ = ["add_arguments", "main", "read_table", "render", "run", "run_analysis"]

FORMATS = ("json", "text")


def _finite_float(text: str) -> float:
    """argparse type for a finite number ("inf" and "nan" are refused, as they are in the data)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the four analyses as sub-commands, each with its own options."""
    subparsers = parser.add_subparsers(
        dest="analysis", required=True, metavar="{paired,did,agreement,reliability}"
    )

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--input", required=True, help="CSV file with a header row")
        sub.add_argument("--format", choices=FORMATS, default="json", help="output format (default: json)")

    paired = subparsers.add_parser(
        "paired",
        help="change from before to after in the same people (one row per person)",
        description="Paired change: mean difference (after minus before) with 95%% CI, paired t, "
        "Wilcoxon signed-rank, Cohen's d_z with exact CI, g_av; with --max-score Hake's normalised gain, "
        "with --reliability the Reliable Change Index counts. Rows missing either value are dropped.",
    )
    common(paired)
    paired.add_argument("--before", required=True, help="column with the earlier score")
    paired.add_argument("--after", required=True, help="column with the later score")
    paired.add_argument(
        "--max-score",
        dest="max_score",
        type=_finite_float,
        help="highest possible score (e.g. 100 for percentages): adds Hake's normalised gain",
    )
    paired.add_argument(
        "--reliability",
        type=_finite_float,
        help="reliability of the measure, at least 0 and below 1 (e.g. Cronbach's alpha): adds the "
        "Reliable Change Index counts (Jacobson and Truax 1991)",
    )

    did = subparsers.add_parser(
        "did",
        help="staggered difference-in-differences (Callaway and Sant'Anna 2021), long data",
        description="Staggered difference-in-differences: one row per observation (e.g. per audit); "
        "several rows for a unit in one period are averaged.",
    )
    common(did)
    did.add_argument("--unit", required=True, help="column identifying the unit (e.g. staff member)")
    did.add_argument("--time", required=True, help="column with the period, a whole number")
    did.add_argument("--outcome", required=True, help="column with the outcome")
    did.add_argument(
        "--first-treated",
        required=True,
        dest="first_treated",
        help="column with the period in which the unit was first treated; 0 or empty means never",
    )
    did.add_argument(
        "--control",
        choices=CONTROLS,
        default="never-treated",
        help="comparison group (default: never-treated)",
    )
    did.add_argument(
        "--small-sample-correction",
        dest="small_sample_correction",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="multiply each group's part of the SE by sqrt(n / (n - 1)), which makes a 2 x 2 comparison's "
        "SE the Welch SE (default: on); --no-small-sample-correction gives the analytic SEs of R's did",
    )

    agree = subparsers.add_parser(
        "agreement",
        help="agreement between raters (one row per rating)",
        description="Cohen's and weighted kappa (two raters), Fleiss' kappa (complete data) and "
        "Krippendorff's alpha (missing ratings allowed).",
    )
    common(agree)
    agree.add_argument("--unit", required=True, help="column identifying the thing rated")
    agree.add_argument("--rater", required=True, help="column identifying the rater")
    agree.add_argument("--rating", required=True, help="column with the rating")
    agree.add_argument(
        "--level",
        choices=LEVELS,
        default="nominal",
        help="level of measurement for Krippendorff's alpha (default: nominal)",
    )

    rel = subparsers.add_parser(
        "reliability",
        help="Cronbach's alpha of a scale (one row per respondent, one column per item)",
        description="Cronbach's alpha with the Feldt 95%% CI and item statistics; rows missing any item "
        "are dropped.",
    )
    common(rel)
    rel.add_argument("--columns", help="comma-separated item columns (default: every column in the file)")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV file, turning every way it can fail into a one-line `AnalysisInputError`.

    Rows are indexed 1, 2, ... (data rows after the header) so error messages can point at them. Every
    cell is read as text and only an empty cell is missing: pandas would otherwise turn "n/a", "NA" or
    "null" into missing values and "Infinity" or "1e999" into infinities before the analysis could see
    them, quietly shrinking the sample; instead the analysis converts each column it uses with
    `analysis.stats._common.numeric_column`, which names the first value that is not a finite number.
    """
    path = Path(path)
    if not path.exists():
        raise AnalysisInputError(f"input file not found: {path}")
    if not path.is_file():
        raise AnalysisInputError(f"input is not a file: {path}")
    try:
        frame = pd.read_csv(path, skipinitialspace=True, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError as exc:
        raise AnalysisInputError(f"input file is empty: {path}") from exc
    except pd.errors.ParserError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else "parse error"
        raise AnalysisInputError(f"could not read {path} as CSV: {first_line}") from exc
    except UnicodeDecodeError as exc:
        raise AnalysisInputError(f"could not read {path}: it is not UTF-8 text") from exc
    except OSError as exc:
        raise AnalysisInputError(f"could not read {path}: {exc.strerror or exc}") from exc
    if len(frame) == 0:
        raise AnalysisInputError(f"input file has no data rows: {path}")
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


def run_analysis(options: Mapping[str, Any]) -> dict[str, Any]:
    """Run the analysis named by ``options["analysis"]`` and return its JSON-ready dictionary."""
    kind = options.get("analysis")
    frame = read_table(options["input"])
    if kind == "paired":
        max_score = options.get("max_score")
        reliability = options.get("reliability")
        if reliability is not None and not 0 <= reliability < 1:
            raise AnalysisInputError(f"--reliability must be at least 0 and below 1, got {reliability:g}")
        result = paired_change(
            frame, options["before"], options["after"], max_score=max_score, reliability=reliability
        )
        if max_score is not None:
            for column in (options["before"], options["after"]):
                scores = numeric_column(frame, column)
                if (scores > max_score).any():
                    row = scores.index[int(np.flatnonzero((scores > max_score).to_numpy())[0])]
                    raise AnalysisInputError(
                        f"column {column!r} has a score {scores[row]:g} above --max-score {max_score:g} "
                        f"(row {row})"
                    )
        payload = result.to_dict()
        payload["verdict"] = verdicts.paired_verdict(result).text
    elif kind == "did":
        result = staggered_did(
            frame,
            options["unit"],
            options["time"],
            options["outcome"],
            options["first_treated"],
            control=options.get("control") or "never-treated",
            small_sample_correction=options.get("small_sample_correction", True) is not False,
        )
        payload = result.to_dict()
        payload["verdict"] = verdicts.did_verdict(result).text
    elif kind == "agreement":
        payload = agreement(
            frame,
            options["unit"],
            options["rater"],
            options["rating"],
            level=options.get("level") or "nominal",
        ).to_dict()
    elif kind == "reliability":
        columns = None
        if options.get("columns"):
            columns = [c.strip() for c in str(options["columns"]).split(",") if c.strip()]
        payload = cronbach_alpha(frame, columns).to_dict()
    else:
        raise AnalysisInputError(f"unknown analysis {kind!r}; use paired, did, agreement or reliability")
    payload = {"analysis": kind, **payload}
    return clean_for_json(payload)


def _number(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "-" if not math.isfinite(value) else f"{value:.{digits}f}"
    return str(value)


def _table(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> list[str]:
    cells = [list(keys)] + [[_number(row.get(k)) for k in keys] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(keys))]
    return ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]


def render(payload: Mapping[str, Any], fmt: str = "json") -> str:
    """Format a result dictionary as JSON (NaN already turned into null) or as readable text."""
    if fmt == "json":
        return json.dumps(payload, indent=2, allow_nan=False)
    if fmt != "text":
        raise AnalysisInputError(f"unknown format {fmt!r}; use json or text")
    lines: list[str] = []
    kind = payload.get("analysis")
    if kind == "did":
        lines.append(
            f"Staggered difference-in-differences ({payload['control']} comparison), "
            f"{payload['n_units']} units, {payload['n_observations']} observations"
        )
        lines.append("")
        lines.append("Aggregated effects")
        agg = [{"summary": name, **values} for name, values in payload["aggregations"].items()]
        lines += _table(agg, ["summary", "att", "se", "ci_low", "ci_high"])
        lines += ["", "Event study (negative event times: before training)"]
        lines += _table(payload["event_study"], ["event_time", "att", "se", "ci_low", "ci_high"])
        lines += ["", "Group-time effects ATT(g, t)"]
        lines += _table(payload["att_gt"], ["group", "time", "att", "se", "n_treated", "n_comparison"])
        for note in payload.get("notes") or []:
            lines.append(f"Note: {note}")
    else:
        for key, value in payload.items():
            if key in {"items", "notes", "verdict", "reliable_change"} or isinstance(value, (list, dict)):
                continue
            lines.append(f"{key}: {_number(value)}")
        if payload.get("items"):
            lines += ["", "Items"]
            lines += _table(
                payload["items"], ["item", "mean", "difficulty", "item_rest_correlation", "alpha_if_deleted"]
            )
        change = payload.get("reliable_change")
        if change:
            lines += [
                "",
                f"Reliable change (reliability {change['reliability']:.2f}, change beyond "
                f"{change['criterion']:.2f} x SE_diff {_number(change['se_diff'])}): "
                f"{change['n_improved']} improved, {change['n_unchanged']} unchanged, "
                f"{change['n_worse']} worse",
            ]
        for key, note in (payload.get("notes") or {}).items():
            lines.append(f"Note ({key}): {note}")
    if payload.get("verdict"):
        lines += ["", str(payload["verdict"])]
    return "\n".join(lines)


def run(options: Mapping[str, Any]) -> str:
    """Run one analysis from parsed options and return the formatted output."""
    return render(run_analysis(options), options.get("format") or "json")


def one_line(message: object) -> str:
    """Collapse a message to one line for stderr."""
    return " ".join(str(message).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``python -m analysis.cli``: prints the result, or one error line and exits 1."""
    parser = argparse.ArgumentParser(prog="python -m analysis.cli", description="Run one analysis on a CSV.")
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    try:
        print(run(options))
    except AnalysisInputError as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
