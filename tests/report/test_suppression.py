"""Small-number suppression everywhere a figure leaves the report: the page, the PDF's HTML, the
JSON API (its tables and each section's ``figures``) and the CSV exports. Issue 6: cells with
fewer than 5 people are "c", and a verdict never reveals what a suppressed cell hides."""

import csv
import datetime as dt
import io
import re

import pandas as pd
import pytest
from django.core.management import call_command

from analysis import impact
from analysis.rendering import report_csv, report_to_dict
from analysis.suppression import SUPPRESSED, suppress_figures
from tests.report.scenario import practice_scenario
from tests.report.synthetic import make_frames, replace

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


# --- three trained staff, through every way out --------------------------------------------------


@pytest.fixture
def three_trained(db, team, manager):
    """Twelve audited staff, three of them trained: the level 3 comparison has enough audited staff
    to run, but its estimate would be about three trained people."""
    return practice_scenario(team=team, manager=manager, n_trained=3, n_untrained=9)


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?", text)


def test_three_trained_staff_the_page_says_too_few_and_shows_no_estimate(three_trained, client, lead):
    client.force_login(lead)
    body = client.get("/reports/impact/").content.decode()
    practice = body.split('id="section-practice"')[1].split("</section>")[0]
    assert (
        "Not enough trained staff with audits before and after training yet to report "
        "(c so far; at least 5 are needed)." in practice
    )
    assert "rose" not in practice and "fell" not in practice and "points" not in practice
    assert "<table" not in practice and "<svg" not in practice
    courses = body.split('id="section-courses"')[1].split("</section>")[0]
    assert "Not enough audited staff per course yet" in courses
    # The course's row: its people, estimate and interval are all "c".
    row = re.search(r"Exploitation basics</td>(.*?)</tr>", courses, re.S).group(1)
    assert row.count('class="app-suppressed"') == 4


def test_three_trained_staff_the_api_publishes_no_figure_about_them(three_trained, api_as, lead):
    data = api_as(lead).get("/api/v1/reports/impact/").json()
    sections = {s["key"]: s for s in data["sections"]}
    practice = sections["practice"]
    assert practice["direction"] == "not_enough_data"
    assert practice["figures"] == {}
    assert practice["tables"] == [] and practice["charts"] == []
    assert _numbers(practice["verdict"]) == ["5"]  # the threshold, nothing about the three
    assert sections["outcomes"]["figures"] == {}
    (course_row,) = sections["courses"]["tables"][0]["rows"]
    assert {course_row[k] for k in ("n", "estimate", "ci_low", "ci_high")} == {SUPPRESSED}
    for section in data["sections"]:
        _assert_no_small_counts(section["figures"])
        for table in section["tables"] + section["charts"]:
            for row in table["rows"]:
                n = row.get("n")
                assert n is None or n == SUPPRESSED or n >= 5, (table["key"], row)


def _assert_no_small_counts(figures):
    if isinstance(figures, dict):
        n = figures.get("n")
        if isinstance(n, int) and n < 5:
            assert all(v == SUPPRESSED for k, v in figures.items()), figures
        for value in figures.values():
            _assert_no_small_counts(value)


def test_three_trained_staff_the_csv_exports_show_c(three_trained, client, lead, tmp_path):
    client.force_login(lead)
    response = client.get("/reports/impact/tables/courses.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["label"], r["n"], r["estimate"]) for r in rows] == [("Exploitation basics", "c", "c")]
    assert client.get("/reports/impact/tables/practice_did.csv").status_code == 404  # no such table
    out = tmp_path / "report.csv"
    call_command(
        "impact_report", "--format", "csv", "--output", str(out), "--user", "lead", stdout=io.StringIO()
    )
    text = out.read_text()
    assert "# practice_" not in text  # no level 3 table is published at all
    for key, frame in _csv_tables(text).items():
        if "n" in frame.columns:
            shown = pd.to_numeric(frame["n"], errors="coerce").dropna()
            assert (shown >= 5).all() or (shown == 0).all(), key


def _csv_tables(text: str) -> dict[str, pd.DataFrame]:
    tables = {}
    for block in text.split("# ")[1:]:
        header, _, body = block.partition("\n")
        tables[header.split(":")[0]] = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False)
    return tables


# --- per-row suppression inside reported sections ------------------------------------------------


@pytest.fixture(scope="module")
def report():
    return impact.build_report(make_frames(seed=3), title="t", scope="s", generated_at=NOW)


def test_event_study_points_about_fewer_than_five_people_are_c_and_not_drawn():
    section = impact.practice_section(make_frames(seed=3, n_staff=60))
    chart = next(c for c in section.charts if c.key == "practice_event_study")
    table = chart.table
    assert list(table.columns) == ["months_since_training", "n", "att", "ci_low", "ci_high"]
    small = table[table["n"] == SUPPRESSED]
    assert len(small), "the seed was chosen to leave an event time with few people"
    assert set(small["att"]) == {SUPPRESSED}
    shown = table[table["n"] != SUPPRESSED]
    assert (shown["n"] >= 5).all()
    first_shown = int(shown["months_since_training"].min())
    assert f"from {first_shown} to " in chart.alt_text  # the drawn range starts where figures may be shown


def test_criterion_effects_carry_their_people_count(report):
    table = report.tables()["practice_criteria_table"].frame
    assert "n" in table.columns and (table["n"] >= 5).all()
    chart = report.tables()["practice_criteria"].frame
    assert "n" in chart.columns


def test_every_table_suppresses_rows_about_fewer_than_five_people():
    # A tiny selection: 8 staff, so most breakdowns are about fewer than 5 people.
    report = impact.build_report(make_frames(seed=11, n_staff=8), title="t", scope="s", generated_at=NOW)
    for key, table in report.tables().items():
        if "n" not in table.frame.columns:
            continue
        for row in table.frame.to_dict(orient="records"):
            if row["n"] == SUPPRESSED or (isinstance(row["n"], int) and row["n"] < 5):
                figures = {k: v for k, v in row.items() if not isinstance(v, str) or v == SUPPRESSED}
                assert all(v == SUPPRESSED or v is None for k, v in figures.items()), (key, row)
    for section in report.sections:
        if section.direction == "not_enough_data":
            assert section.tables == () and section.charts == ()


def test_reliable_change_counts_of_one_to_four_people_are_c():
    frames = make_frames(seed=3)
    section = impact.learning_section(frames)
    sizes = section.tables[1].frame.set_index("scale")
    worse = sizes.loc["Knowledge", "reliably_worse"]
    assert worse == 0 or worse == SUPPRESSED or worse >= 5
    # Make three people reliably worse: the count is a figure about three people.
    scores = frames.scores.copy()
    knowledge_post = (scores["construct"] == "knowledge") & (scores["phase"] == "post")
    scores.loc[knowledge_post & scores["person"].isin(scores["person"].unique()[:3]), "score"] = 0.0
    sizes = impact.learning_section(replace(frames, scores=scores)).tables[1].frame.set_index("scale")
    assert sizes.loc["Knowledge", "reliably_worse"] == SUPPRESSED


def test_api_figures_guard_hides_every_figure_beside_a_small_count():
    figures = {
        "att": 4.2,
        "n_treated_units": 3,
        "nested": {"n": 12, "mean": 3.1},
    }
    assert suppress_figures(figures) == {
        "att": SUPPRESSED,
        "n_treated_units": SUPPRESSED,
        "nested": {"n": SUPPRESSED, "mean": SUPPRESSED},
    }
    assert suppress_figures({"a": {"n": 2, "direction": "rise"}, "b": {"n": 9, "x": 1.0}}) == {
        "a": {"n": SUPPRESSED, "direction": SUPPRESSED},
        "b": {"n": 9, "x": 1.0},
    }


def test_report_to_dict_applies_the_guard():
    section = impact.Section("x", "1", "X", "A verdict.", figures={"reaction": {"n": 3, "mean": 4.7}})
    data = report_to_dict(impact.ImpactReport("t", "s", NOW, (section,)))
    assert data["sections"][0]["figures"] == {"reaction": {"n": SUPPRESSED, "mean": SUPPRESSED}}


def test_report_csv_has_the_table_behind_every_chart(report):
    tables = _csv_tables(report_csv(report))
    for section in report.sections:
        for chart in section.charts:
            assert chart.key in tables
