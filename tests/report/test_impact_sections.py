"""The report's sections on synthetic frames with known truths: every verdict wording branch."""

import dataclasses
import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

from analysis import impact
from analysis.impact import build_report
from tests.report.synthetic import make_frames

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _section(builder, **kwargs):
    return builder(make_frames(**kwargs))


@pytest.fixture(scope="module")
def effective():
    return build_report(make_frames(seed=3, practice_effect=8.0), title="t", scope="s", generated_at=NOW)


def test_practice_rise_is_reported_with_its_interval(effective):
    practice = effective.section("practice")
    assert practice.direction == "rise"
    assert practice.verdict.startswith("Referral quality rose by ")
    assert "compared with colleagues not yet trained" in practice.verdict
    assert practice.figures["ci_low"] > 0


def test_practice_fall_is_reported_as_a_fall():
    practice = _section(impact.practice_section, seed=4, practice_effect=-10.0)
    assert practice.direction == "fall"
    assert practice.verdict.startswith("Referral quality fell by ")


def test_no_effect_with_plenty_of_data_is_no_change_that_matters():
    practice = _section(impact.practice_section, seed=5, practice_effect=0.0, n_staff=700)
    assert practice.direction == "no_change_that_matters"
    assert "No change in referral quality that matters" in practice.verdict


def test_no_effect_with_little_data_says_how_many_more_audits():
    practice = _section(impact.practice_section, seed=6, practice_effect=0.0, n_staff=40)
    assert practice.direction == "not_enough_evidence"
    assert "more audits would detect a change of 5 points in referral quality" in practice.verdict


def test_too_few_audited_staff_is_said_plainly():
    frames = make_frames(seed=7, n_staff=6)
    practice = impact.practice_section(frames)
    assert practice.direction == "not_enough_data"
    assert "Not enough audited staff yet" in practice.verdict


def test_learning_gain_and_retention(effective):
    learning = effective.section("learning")
    knowledge = learning.figures["knowledge"]
    assert knowledge["direction"] == "rise"
    assert knowledge["ci_low"] < 20 < knowledge["ci_high"]  # the true gain is 20 points
    retained = next(iter(knowledge["retention_percent"].values()))
    assert 30 < retained < 70  # half of the gain was built to remain
    assert "Knowledge scores rose by" in learning.verdict
    assert "of that change was still there 3 months later" in learning.verdict


def test_learning_with_no_change_says_not_enough_evidence():
    learning = _section(impact.learning_section, seed=8, knowledge_gain=0.0, n_staff=60)
    assert learning.figures["knowledge"]["direction"] in ("not_enough_evidence", "no_change_that_matters")
    assert "still there" not in learning.verdict.split("Self-rated")[0]  # no retention of no gain


def test_course_comparison_separates_a_working_course_from_one_that_does_not(effective):
    courses = effective.section("courses")
    table = courses.tables[0].frame.set_index("label")
    assert table.loc["Exploitation course", "ci_low"] > 0
    assert table.loc["Other course", "ci_low"] < 0 < table.loc["Other course", "ci_high"]
    assert courses.verdict == "Referral quality rose clearly after: Exploitation course."


def test_course_comparison_none_clear():
    courses = _section(impact.course_comparison_section, seed=9, practice_effect=0.0)
    assert courses.verdict.startswith("No course yet shows a clear change")


def test_chain_branches():
    frames = make_frames(seed=10)
    assert impact.chain_section(frames).verdict.startswith("Not enough evidence that learning gain predicts")
    # Make practice change follow knowledge gain exactly, then the reverse.
    gains = frames.scores[frames.scores["construct"] == "knowledge"].pivot_table(
        index="person", columns="phase", values="score"
    )
    gain = (gains["post"] - gains["pre"]).dropna()
    first = frames.training.groupby("staff")["first_trained"].min()
    for sign, expected in (
        (1, "People who learnt more also tended to improve their referrals more"),
        (-1, "People who learnt more tended to improve their referrals less"),
    ):
        audits = frames.audits.copy()
        after = audits["made_on"] >= audits["staff"].map(first)
        bump = audits["staff"].map(gain).fillna(0) * sign
        audits.loc[after.fillna(False), "score"] += bump[after.fillna(False)]
        changed = dataclasses.replace(frames, audits=audits)
        assert impact.chain_section(changed).verdict.startswith(expected)


def test_reaction_and_scrap_learning(effective):
    reaction = effective.section("reaction")
    assert "out of 5 for relevance and quality" in reaction.verdict
    assert 0 <= reaction.figures["scrap_learning"]["scrap_learning_percent"] <= 100


def test_small_selection_suppresses_every_people_figure():
    frames = make_frames(seed=11, n_staff=12)
    tiny = dataclasses.replace(frames, scores=frames.scores[frames.scores["person"] <= 4])
    learning = impact.learning_section(tiny)
    assert learning.direction == "not_enough_data"
    assert "(c so far" in learning.verdict  # even the count of fewer than 5 is hidden


def test_auditor_agreement_is_reported(effective):
    agreement = effective.tables()["practice_agreement"].frame.set_index("measure")["value"]
    assert (
        agreement["Krippendorff's alpha, audit score (interval)"] > 0.8
    )  # second audits differ by small noise


def test_data_quality_lists_response_rates_in_phase_order(effective):
    text = effective.section("data_quality").verdict
    assert text.index("before") < text.index("just after") < text.index("3 months on")
    assert "could be detected" in text


def test_every_chart_has_text_and_unique_svg_ids(effective):
    ids = []
    for section in effective.sections:
        for chart in section.charts:
            assert chart.alt_text
            assert isinstance(chart.table, pd.DataFrame)
            ids += re.findall(r'\bid="([^"]+)"', chart.svg)
    assert len(ids) == len(set(ids))


def test_paired_grades_pair_each_criterion_of_a_referrals_two_audits():
    # Referral 10: both audits grade a and b. Referral 20: only the first grades c (no pair for c),
    # and it has two first audits (the first listed counts). Referral 30: first audit only.
    doubled = pd.DataFrame(
        {
            "audit": [1, 2, 3, 4, 5, 6],
            "referral": [10, 10, 20, 20, 20, 30],
            "is_second": [False, True, False, False, True, False],
        }
    )
    criteria = pd.DataFrame(
        {
            "audit": [1, 2, 1, 2, 3, 4, 5, 3, 6, 99],
            "criterion": ["a", "a", "b", "b", "a", "a", "a", "c", "a", "a"],
            "grade": [4, 3, 2, 2, 1, 4, 2, 3, 4, 1],
        }
    )
    first, second = impact._paired_grades(criteria, doubled)
    # A plain loop over referrals and criteria: the first listed grade of each kind of audit.
    expected = []
    for _, audits in doubled.groupby("referral"):
        rows = criteria.merge(audits, on="audit")
        for _, graded in rows.groupby("criterion"):
            kinds = graded.drop_duplicates("is_second").set_index("is_second")["grade"]
            if len(kinds) == 2:
                expected.append((kinds[False], kinds[True]))
    assert sorted(zip(first.tolist(), second.tolist(), strict=True)) == sorted(expected)
    assert sorted(expected) == [(1.0, 2.0), (2.0, 2.0), (4.0, 3.0)]


def test_paired_grades_of_no_graded_audits_are_empty():
    doubled = pd.DataFrame({"audit": [1, 2], "referral": [10, 10], "is_second": [False, True]})
    criteria = pd.DataFrame({"audit": [7], "criterion": ["a"], "grade": [3]})
    first, second = impact._paired_grades(criteria, doubled)
    assert len(first) == len(second) == 0


def test_each_scales_alpha_is_cronbachs_alpha_of_its_own_complete_answers():
    from analysis.stats.reliability import cronbach_alpha

    frames = make_frames(seed=3, practice_effect=8.0)
    knowledge = frames.item_scores[frames.item_scores["phase"] == "pre"]
    # A second scale answered by the same responses, with items of its own.
    rng = np.random.default_rng(0)
    confidence = knowledge.assign(
        construct="confidence",
        item="c" + knowledge["item"],
        value=knowledge["value"] * 6 + rng.integers(0, 5, len(knowledge)),
    )
    items = pd.concat([knowledge, confidence], ignore_index=True)
    # One answer missing: that response drops out of its own scale only.
    items = items.drop(index=items[items["construct"] == "knowledge"].index[0])
    learning = impact.learning_section(dataclasses.replace(frames, item_scores=items))
    checked = 0
    for construct, rows in items.groupby("construct"):
        wide = rows.pivot_table(index="response", columns="item", values="value", aggfunc="first").dropna()
        if construct in learning.figures:
            expected = cronbach_alpha(wide).alpha
            assert learning.figures[construct]["alpha"] == pytest.approx(expected, abs=1e-12), construct
            checked += 1
    assert checked == 2


def test_criteria_held_as_categories_give_the_tables_strings_give():
    # The frames read from the database hold criteria as categories; synthetic ones as strings.
    # Categories in another order than the rubric's, one of them unused, must change nothing:
    # criteria are listed in the order they first appear, and auditors' grades pair up alike.
    frames = make_frames(seed=41, n_staff=120)
    criteria = frames.criteria.assign(label=frames.criteria["label"].where(frames.criteria["audit"] % 7 > 0))
    as_text = dataclasses.replace(frames, criteria=criteria)
    as_categories = dataclasses.replace(
        frames,
        criteria=criteria.assign(
            **{
                name: pd.Categorical(
                    criteria[name], categories=["unused", *sorted(criteria[name].dropna().unique())[::-1]]
                )
                for name in ("criterion", "label")
            }
        ),
    )
    text_tables = {t.key: t.frame for t in impact.practice_section(as_text).tables}
    category_tables = {t.key: t.frame for t in impact.practice_section(as_categories).tables}
    assert {"practice_criteria_table", "practice_agreement"} <= set(text_tables)
    assert text_tables["practice_criteria_table"]["criterion"].isna().any()  # missing labels kept
    for key, table in text_tables.items():
        pd.testing.assert_frame_equal(category_tables[key], table, obj=key)
