"""One test per verdict wording branch of analysis/impact.py, on synthetic frames with known truths.

The common branches (a rise, a fall, no change that matters, not enough evidence) are in
test_impact_sections.py; these are the rest: level 4a, reaction without an intention figure, a
level 3 estimate that cannot be made, courses without enough audited staff, no referrals, weak and
moderate auditor agreement, and every way the chain can decline to claim a link.
"""

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

from analysis import impact
from analysis.rendering import report_to_dict
from analysis.suppression import SUPPRESSED
from tests.report.synthetic import START, make_chain_frames, make_frames, replace


@pytest.fixture(scope="module")
def frames():
    return make_frames(seed=21)


def _after_training(frames) -> pd.Series:
    first = frames.training.groupby("staff")["first_trained"].min()
    return (frames.referrals["made_on"] >= frames.referrals["staff"].map(first)).fillna(False)


def _with_outcomes_after_training(frames, *, accepted: float, nfa: float, seed: int = 1):
    """Trained staff's referrals after training get outcomes with these chances (before: as built,
    accepted 50%, NFA 30%)."""
    rng = np.random.default_rng(seed)
    refs = frames.referrals.copy()
    after = _after_training(frames)
    draw = rng.random(int(after.sum()))
    refs.loc[after, "outcome_group"] = np.where(
        draw < accepted, "accepted", np.where(draw < accepted + nfa, "nfa", "other")
    )
    return replace(frames, referrals=refs)


# --- level 4a -----------------------------------------------------------------------------------


def test_outcomes_rise_and_fall_are_reported_with_intervals(frames):
    section = impact.outcomes_section(_with_outcomes_after_training(frames, accepted=0.8, nfa=0.1))
    # Built in: accepted 50% -> 80% (+30 points), NFA 30% -> 10% (-20 points).
    assert re.match(
        r"The share accepted for assessment or strategy discussion rose by \d+ percentage points "
        r"\(95% CI \d+ to \d+\) after training\. The share with no further action fell by \d+ ",
        section.verdict,
    )
    assert section.figures["accepted"]["change"] == pytest.approx(30, abs=4)
    assert section.figures["accepted"]["direction"] == "rise"
    assert section.figures["nfa"]["direction"] == "fall"
    table = section.tables[0].frame.set_index("measure")
    assert table.loc["No further action", "change"] == pytest.approx(-20, abs=5)


def test_outcomes_without_a_change_say_not_enough_evidence(frames):
    section = impact.outcomes_section(frames)  # outcomes were drawn with the same chances throughout
    assert section.verdict.startswith(
        "Not enough evidence yet of a change in the share accepted for assessment or strategy discussion"
    )
    assert "an interval that includes no change" in section.verdict


def test_outcomes_with_no_trained_staff_say_so(frames):
    section = impact.outcomes_section(replace(frames, training=frames.training.iloc[0:0]))
    assert section.direction == "not_enough_data"
    assert section.verdict == (
        "Not enough referrals by trained staff yet to report (0 so far; at least 5 are needed)."
    )


def test_outcomes_need_five_trained_staff_on_each_side(frames):
    few = frames.training.iloc[:3]
    section = impact.outcomes_section(replace(frames, training=few))
    assert section.verdict == (
        "Not enough trained staff with referrals both before and after training yet to report "
        "(c so far; at least 5 are needed)."
    )


def test_rereferrals_without_a_full_lookback_are_left_out():
    """Records begin at START, so a referral's 12-month look-back is cut short in the first year:
    re-referrals were built to appear only from a year in, at the same rate before and after
    training. Counting the first year (when few staff are trained) would make them "rise"."""
    frames = make_frames(seed=22)
    rng = np.random.default_rng(5)
    refs = frames.referrals.copy()
    full_lookback = refs["made_on"] >= pd.Timestamp(START) + pd.DateOffset(years=1)
    refs["is_rereferral"] = full_lookback & (rng.random(len(refs)) < 0.2)
    section = impact.outcomes_section(replace(frames, referrals=refs, referrals_since=START))
    rereferral = section.figures["rereferral"]
    assert rereferral["direction"] != "rise", section.verdict
    assert rereferral["ci_low"] < 0 < rereferral["ci_high"]
    row = section.tables[0].frame.set_index("measure").loc["Re-referred within 12 months"]
    assert row["n_before"] < (~_after_training(frames) & (refs["outcome_group"] != "pending")).sum()
    assert "made from 01 January 2025" in section.tables[0].note


def test_rereferrals_are_not_compared_when_too_few_have_a_full_lookback(frames):
    # Records that began just before the referrals end: almost nobody has a year of look-back.
    since = frames.referrals["made_on"].max() - pd.DateOffset(months=11, days=25)
    section = impact.outcomes_section(replace(frames, referrals_since=since.date()))
    assert "Too few trained staff have referrals with a full 12-month look-back" in section.verdict
    row = section.tables[0].frame.set_index("measure").loc["Re-referred within 12 months"]
    assert row["change"] == SUPPRESSED and row["n"] == SUPPRESSED


# --- level 1 ------------------------------------------------------------------------------------


def _reaction_frames(frames, intention_values):
    """Post-training scores with every reaction kept and intention replaced by these values."""
    scores = frames.scores[frames.scores["construct"] != "intention"]
    people = scores.loc[scores["construct"] == "reaction", ["person", "session", "course"]].drop_duplicates()
    people = people.iloc[: len(intention_values)]
    intention = people.assign(
        phase="post",
        offset_days=0,
        construct="intention",
        scale="intention",
        score=list(intention_values),
    )
    return replace(frames, scores=pd.concat([scores, intention], ignore_index=True))


def test_reaction_without_an_intention_figure(frames):
    section = impact.reaction_section(_reaction_frames(frames, [4.0, 4.5, 2.0]))
    assert section.verdict.startswith("Staff rated the training ")
    assert section.verdict.endswith(
        "too few answered the questions on applying it to say how many intend to."
    )
    assert "scrap" not in section.verdict
    assert report_to_dict(impact.ImpactReport("t", "s", dt.datetime.now(), (section,)))["sections"][0][
        "figures"
    ]["intention"] == {"n": SUPPRESSED, "mean": SUPPRESSED, "ci_low": SUPPRESSED, "ci_high": SUPPRESSED}


def test_reaction_hides_a_scrap_learning_share_of_fewer_than_five_people(frames):
    section = impact.reaction_section(_reaction_frames(frames, [4.0] * 40 + [2.0, 2.5]))
    assert "all but a few intend to apply it (fewer than 5 people do not)" in section.verdict
    assert "%" not in section.verdict
    assert section.figures["scrap_learning"]["scrap_learning_percent"] == SUPPRESSED


def test_reaction_with_no_scrap_learning(frames):
    section = impact.reaction_section(_reaction_frames(frames, [4.0] * 20))
    assert "and all of them intend to apply it (no scrap learning)" in section.verdict


def test_reaction_with_scrap_learning_gives_the_share(frames):
    section = impact.reaction_section(_reaction_frames(frames, [4.0] * 15 + [2.0] * 5))
    assert "75% intend to apply it (25% scrap learning)" in section.verdict


def test_reaction_when_fewer_than_five_intend_to_apply(frames):
    section = impact.reaction_section(_reaction_frames(frames, [4.0] * 3 + [2.0] * 30))
    assert "fewer than 5 people intend to apply it" in section.verdict
    assert "%" not in section.verdict


def test_reaction_when_neither_part_has_five_answers(frames):
    post = frames.scores[frames.scores["phase"] == "post"]
    reaction = post[post["construct"] == "reaction"].iloc[:3]
    intention = post[post["construct"] == "intention"].iloc[3:6]
    section = impact.reaction_section(replace(frames, scores=pd.concat([reaction, intention])))
    assert section.verdict.startswith("Too few people answered either part of the reaction questions")
    assert section.tables[0].frame["mean"].tolist() == [SUPPRESSED, SUPPRESSED]


def test_reaction_with_too_few_people_hides_the_count(frames):
    post = frames.scores[(frames.scores["phase"] == "post") & frames.scores["person"].isin([1, 2, 3, 4, 5])]
    people = post[["person", "session"]].drop_duplicates()
    section = impact.reaction_section(replace(frames, scores=post[post["person"].isin(people["person"][:3])]))
    assert (
        section.verdict
        == "Not enough answers after training yet to report (c so far; at least 5 are needed)."
    )


# --- level 3 ------------------------------------------------------------------------------------


def test_practice_needs_ten_audited_staff_and_says_so():
    section = impact.practice_section(make_frames(seed=7, n_staff=6))
    assert section.verdict == "Not enough audited staff yet to report (6 so far; at least 10 are needed)."


def test_practice_cannot_be_estimated_when_everyone_was_trained_before_the_first_audit(frames):
    before = frames.training.assign(first_trained=pd.Timestamp(START) - pd.Timedelta(days=200))
    section = impact.practice_section(replace(frames, training=before))
    assert section.direction == "cannot_estimate"
    assert section.verdict.startswith(
        "The change in referral quality cannot be estimated yet: no treated units"
    )


def test_courses_with_too_few_audited_staff_each():
    frames = make_frames(seed=23, n_staff=40)
    frames = replace(frames, training=frames.training.groupby("course").head(4))
    section = impact.course_comparison_section(frames)
    assert section.verdict == (
        "Not enough audited staff per course yet "
        "(at least 5 trained and audited staff per course are needed)."
    )
    assert set(section.tables[0].frame["estimate"]) == {SUPPRESSED}


def _agreement_text(frames, noise_sd: float) -> str:
    rng = np.random.default_rng(0)
    audits = frames.audits.copy()
    first = audits[~audits["is_second"]].set_index("referral")["score"]
    second = audits["is_second"]
    audits.loc[second, "score"] = (
        audits.loc[second, "referral"].map(first) + rng.normal(0, noise_sd, second.sum())
    ).clip(0, 100)
    return impact._auditor_agreement(replace(frames, audits=audits))[1]


def test_auditor_agreement_moderate():
    text = _agreement_text(make_frames(seed=3), noise_sd=11)
    assert text.startswith(
        "Agreement between auditors on the audit score is moderate (Krippendorff's alpha 0.7"
    )


def test_auditor_agreement_weak():
    text = _agreement_text(make_frames(seed=3), noise_sd=30)
    assert text.startswith("Agreement between auditors on the audit score is weak")
    assert "alpha below 0.67 means differences between auditors blur the estimates above" in text


# --- data quality -------------------------------------------------------------------------------


def test_data_quality_with_no_referrals(frames):
    empty = replace(
        frames,
        referrals=frames.referrals.iloc[0:0],
        audits=frames.audits.iloc[0:0],
        criteria=frames.criteria.iloc[0:0],
    )
    section = impact.data_quality_section(empty)
    assert section.verdict.startswith("Questionnaire response rates: 85% before")
    assert section.verdict.endswith("No referrals recorded yet.")


def test_data_quality_with_fewer_than_five_referrals_shows_no_coverage(frames):
    refs = frames.referrals.iloc[:3]
    audits = frames.audits[frames.audits["referral"].isin(refs["referral"])]
    section = impact.data_quality_section(replace(frames, referrals=refs, audits=audits))
    assert "Fewer than 5 referrals recorded yet" in section.verdict
    assert "%" not in section.verdict.split("Questionnaire response rates")[-1].split(".", 1)[1]
    row = section.tables[0].frame.set_index("measure").loc["Referrals audited"]
    assert row["value"] == SUPPRESSED and row["base"] == SUPPRESSED
    assert section.figures["coverage_percent"] == SUPPRESSED


def test_data_quality_labels_what_each_base_counts(frames):
    table = impact.data_quality_section(frames).tables[0].frame.set_index("measure")
    assert table.loc["Referrals audited", "counting"] == "referrals"
    assert table.loc["Questionnaire response rate: before", "counting"] == "people invited"
    assert "n" not in table.columns  # labelled "People" on the page, which these are not


# --- the chain ----------------------------------------------------------------------------------


def test_chain_without_knowledge_scores():
    frames = make_chain_frames(n_people=40)
    section = impact.chain_section(replace(frames, scores=frames.scores.iloc[0:0]))
    assert section.verdict == (
        "Not enough people with both a learning gain and audits before and after yet to report "
        "(0 so far; at least 10 are needed)."
    )


def test_chain_with_fewer_than_ten_people_gives_the_real_threshold():
    section = impact.chain_section(make_chain_frames(n_people=7))
    assert section.verdict.endswith("(7 so far; at least 10 are needed).")


def test_chain_with_fewer_than_five_people_hides_the_count():
    section = impact.chain_section(make_chain_frames(n_people=3))
    assert section.verdict.endswith("(c so far; at least 10 are needed).")


def test_chain_with_a_strong_link_among_too_few_people_claims_nothing():
    section = impact.chain_section(make_chain_frames(n_people=20, link=1.0))
    assert section.direction == "not_enough_data"
    assert section.verdict.startswith(
        "Too few people yet to tell whether learning gain predicts practice change"
    )
    assert "at least 30 are needed" in section.verdict
    assert "r = " not in section.verdict


def test_chain_claims_a_link_built_in_and_words_it_as_an_association():
    section = impact.chain_section(make_chain_frames(n_people=40, link=1.0))
    assert section.direction == "positive_link"
    assert section.verdict.startswith(
        "People who learnt more also tended to improve their referrals more (r = 0.9"
    )
    assert "clear after allowing for 1 test)" in section.verdict
    assert section.verdict.endswith("not proof that the learning caused the change.")


def test_chain_reverse_link():
    section = impact.chain_section(make_chain_frames(n_people=40, link=-1.0))
    assert section.direction == "negative_link"
    assert section.verdict.startswith("People who learnt more tended to improve their referrals less")


def test_chain_correlation_that_does_not_survive_the_correction():
    # r = 0.46 (p = 0.003) would be clear alone; with 20 courses to look at it is not.
    frames = replace(make_chain_frames(n_people=40, link=0.2, seed=3), questionnaire_courses=20)
    section = impact.chain_section(frames)
    assert section.direction == "not_enough_evidence"
    assert "would look clear on its own, but not after allowing for the 20 tests made" in section.verdict
    assert section.figures["p"] < 0.05 < section.figures["p_holm"]


def test_chain_without_a_link_says_not_enough_evidence():
    section = impact.chain_section(make_chain_frames(n_people=60, link=0.0))
    assert section.verdict.startswith("Not enough evidence that learning gain predicts practice change (r = ")


def test_chain_tests_each_course_and_corrects_for_all_of_them():
    section = impact.chain_section(make_chain_frames(n_people=60, link=1.0, courses=2))
    table = section.tables[0].frame
    assert table["measure"].tolist() == ["All courses in this report", "Exploitation course", "Other course"]
    assert "clear after allowing for 3 tests" in section.verdict


def test_chain_is_not_reported_for_anonymous_questionnaires():
    section = impact.chain_section(make_chain_frames(n_people=40, link=1.0, anonymous=True))
    assert section.direction == "not_available"
    assert section.verdict.startswith(
        "Not reported for this selection: its questionnaires were answered anonymously"
    )
    assert section.tables == () and section.charts == () and section.figures == {}


def test_chain_leaves_out_anonymous_answers_when_some_are_named():
    named = make_chain_frames(n_people=40, link=0.0, seed=4)
    scores = named.scores.copy()
    scores.loc[scores["person"] > 30, "anonymous"] = True
    section = impact.chain_section(replace(named, scores=scores))
    assert section.figures["n"] == 30
    assert any("run anonymously are left out" in note for note in section.notes)


def test_chain_chart_shows_groups_never_people():
    section = impact.chain_section(make_chain_frames(n_people=40, link=1.0))
    (chart,) = section.charts
    assert len(chart.table) == 4 and chart.table["n"].min() >= 5
    assert chart.table["mean_change"].is_monotonic_increasing  # the link built in
    assert chart.alt_text.startswith("Chart of the mean change in audit score (points) in groups of people")


def test_a_course_leaves_out_people_whose_first_course_was_another():
    # Course 1's trainees also take course 2 a year later: course 2's estimate is about its own
    # first-time trainees only, compared with colleagues never trained, exactly as run by hand.
    frames = make_frames(seed=29, n_staff=120)
    first = frames.training[frames.training["course"] == 1]
    again = first.assign(course=2, first_trained=first["first_trained"] + pd.Timedelta(days=365))
    frames = replace(frames, training=pd.concat([frames.training, again], ignore_index=True))
    row = impact.course_comparison_section(frames).tables[0].frame.set_index("label").loc["Other course"]

    audits = frames.first_audits
    origin = min(audits["made_on"].min(), frames.training["first_trained"].min())
    own = frames.training[~frames.training["staff"].isin(first["staff"]) & (frames.training["course"] == 2)]
    kept = audits[~audits["staff"].isin(first["staff"])]
    by_hand = impact._run_did(impact._did_panel(kept, own.groupby("staff")["first_trained"].min(), origin))
    assert row["n"] == by_hand.n_treated_units < len(set(own["staff"]) | set(first["staff"]))
    assert row["estimate"] == round(by_hand.aggregations["simple"].att, 2)


def _chain_pairs_by_merging(frames, knowledge):
    """Oracle: each pair's gain, and its person's mean audit score after minus before that course's
    training, by joining every pair to every audit of its person."""
    phase_means = knowledge.pivot_table(
        index=["person", "course"], columns="phase", values="score", observed=True
    )
    gain = (phase_means["post"] - phase_means["pre"]).dropna().rename("gain").reset_index()
    pairs = gain.merge(frames.training.rename(columns={"staff": "person"}), on=["person", "course"])
    audits = frames.first_audits.rename(columns={"staff": "person"})[["person", "made_on", "score"]]
    scored = pairs.merge(audits, on="person").assign(after=lambda f: f["made_on"] >= f["first_trained"])
    means = scored.pivot_table(index=["person", "course"], columns="after", values="score")
    change = (means[True] - means[False]).dropna().rename("change").reset_index()
    return pairs.merge(change, on=["person", "course"])[["person", "course", "gain", "change"]]


@pytest.mark.parametrize("seed", [10, 31, 32])
def test_chain_pairs_are_each_persons_gain_and_audit_change_around_that_courses_training(seed):
    frames = make_frames(seed=seed, n_staff=80)
    # Some people trained on both courses, with a knowledge test on each, so that one person's
    # audits are split at two dates.
    first = frames.training[frames.training["course"] == 1].head(10)
    again = first.assign(course=2, first_trained=first["first_trained"] + pd.Timedelta(days=120))
    # And an audit of each of them on the very day of their first training, which counts as after.
    audits = frames.audits.copy()
    firsts = audits.groupby("staff").head(1)
    on_the_day = firsts.index[firsts["staff"].isin(first["staff"])]
    audits.loc[on_the_day, "made_on"] = audits.loc[on_the_day, "staff"].map(
        first.set_index("staff")["first_trained"]
    )
    audits.loc[on_the_day, "score"] = 100.0
    frames = replace(frames, audits=audits, training=pd.concat([frames.training, again], ignore_index=True))
    knowledge = frames.scores[frames.scores["construct"] == "knowledge"]
    retested = knowledge[knowledge["person"].isin(first["staff"])].assign(course=2)
    knowledge = pd.concat([knowledge, retested.assign(score=retested["score"] * 0.9)], ignore_index=True)
    got = impact._chain_pairs(frames, knowledge)
    expected = _chain_pairs_by_merging(frames, knowledge)
    assert len(got) > 10 and (got.groupby("person").size() == 2).sum() >= 3
    pd.testing.assert_frame_equal(
        got.sort_values(["person", "course"]).reset_index(drop=True),
        expected.sort_values(["person", "course"]).reset_index(drop=True),
        check_dtype=False,
        rtol=1e-12,
    )
