"""Cronbach's alpha, the Feldt interval and item statistics."""

import io

import numpy as np
import pandas as pd
import pytest

from analysis.stats.errors import AnalysisInputError
from analysis.stats.reliability import cronbach_alpha, feldt_interval

# real-statistics.com binary questionnaire, 12 respondents x 11 items with missing answers, as shipped
# with pingouin ("cronbach_wide_missing"; data only, pingouin is not imported).
WIDE_MISSING = """Q1,Q2,Q3,Q4,Q5,Q6,Q7,Q8,Q9,Q10,Q11
1,1,1,1,1,1,1,1,1,1,1
1,1,1,1,1,1,1,1,0,1,0
,0,1,1,,1,1,1,1,0,0
1,1,1,0,1,1,0,1,1,0,0
1,1,1,1,1,0,0,0,1,0,0
0,1,,0,1,1,1,1,0,0,0
1,1,1,1,0,0,1,0,0,0,0
1,1,1,1,1,0,0,0,0,0,0
0,1,0,1,1,0,0,0,0,1,0
1,0,0,1,0,1,0,0,,0,0
1,1,1,0,0,0,0,0,0,0,0
1,0,0,1,0,0,0,0,0,0,0
"""


def test_alpha_matches_r_psych_listwise():
    # Source: pingouin documentation for cronbach_alpha, "In R: psych::alpha(data, use='complete.obs')":
    # alpha = 0.801695 after listwise deletion. Tolerance: 6 decimals.
    data = pd.read_csv(io.StringIO(WIDE_MISSING))
    result = cronbach_alpha(data)
    assert result.n == 9
    assert result.n_dropped == 3
    assert result.n_items == 11
    assert result.alpha == pytest.approx(0.801695, abs=5e-7)
    # Our Feldt interval uses the 9 respondents actually analysed (df 8 and 80).
    assert (result.alpha_ci_low, result.alpha_ci_high) == pytest.approx(
        feldt_interval(0.801695, 9, 11), abs=1e-6
    )


def test_feldt_interval_matches_published_examples():
    # Source: the same pingouin documentation prints Feldt intervals computed with all 12 rows:
    # alpha 0.732661 -> [0.435, 0.909] and alpha 0.801695 -> [0.581, 0.933] (n = 12, k = 11).
    # (pingouin keeps n = 12 even after listwise deletion; we pass n explicitly here.) 3 decimals.
    assert feldt_interval(0.732661, 12, 11) == pytest.approx((0.435, 0.909), abs=5e-4)
    assert feldt_interval(0.801695, 12, 11) == pytest.approx((0.581, 0.933), abs=5e-4)


def test_alpha_equals_hoyt_anova_reliability():
    # Independent route (Hoyt 1941): alpha = 1 - MS_residual / MS_persons from the persons x items
    # two-way ANOVA without interaction. Tolerance 1e-10.
    rng = np.random.default_rng(7)
    true = rng.normal(size=(40, 1))
    values = true + rng.normal(scale=0.8, size=(40, 5))
    n, k = values.shape
    grand = values.mean()
    ss_persons = k * ((values.mean(axis=1) - grand) ** 2).sum()
    ss_items = n * ((values.mean(axis=0) - grand) ** 2).sum()
    ss_resid = ((values - grand) ** 2).sum() - ss_persons - ss_items
    hoyt = 1 - (ss_resid / ((n - 1) * (k - 1))) / (ss_persons / (n - 1))
    result = cronbach_alpha(pd.DataFrame(values, columns=list("abcde")))
    assert result.alpha == pytest.approx(hoyt, abs=1e-10)


def test_feldt_interval_contains_alpha_and_narrows_with_n():
    low, high = feldt_interval(0.8, 50, 10)
    wide_low, wide_high = feldt_interval(0.8, 15, 10)
    assert low < 0.8 < high
    assert wide_low < low and wide_high > high


def test_item_statistics():
    data = pd.DataFrame({"a": [0, 1, 1, 1, 0, 1], "b": [0, 1, 1, 0, 0, 1], "c": [1, 1, 1, 1, 0, 1]})
    result = cronbach_alpha(data)
    item_a = result.items[0]
    # binary items: difficulty is the proportion correct
    assert item_a.difficulty == pytest.approx(4 / 6)
    rest = data["b"] + data["c"]
    assert item_a.item_rest_correlation == pytest.approx(np.corrcoef(data["a"], rest)[0, 1])
    assert item_a.alpha_if_deleted == pytest.approx(cronbach_alpha(data[["b", "c"]]).alpha)
    likert = pd.DataFrame({"a": [1, 5, 3, 4], "b": [2, 5, 3, 3]})
    assert cronbach_alpha(likert, max_score=5).items[0].difficulty == pytest.approx(13 / 4 / 5)
    assert cronbach_alpha(likert).items[0].difficulty is None


def test_to_dict_keys():
    out = cronbach_alpha(pd.read_csv(io.StringIO(WIDE_MISSING))).to_dict()
    assert {"n", "alpha", "alpha_ci_low", "alpha_ci_high", "items"} <= set(out)
    assert out["items"][0]["item"] == "Q1"


def test_input_errors():
    with pytest.raises(AnalysisInputError, match="at least 2 items"):
        cronbach_alpha(pd.DataFrame({"a": [1, 2, 3]}))
    with pytest.raises(AnalysisInputError, match="non-numeric value 'x'"):
        cronbach_alpha(pd.DataFrame({"a": ["1", "x", "3"], "b": [1, 2, 3]}))
    with pytest.raises(AnalysisInputError, match="too few complete respondents"):
        cronbach_alpha(pd.DataFrame({"a": [1, np.nan], "b": [1, 2]}))


def test_item_rest_correlation_and_alpha_if_deleted_match_published_spss_output():
    # Source: Denis, D. J. (2016). Applied Univariate, Bivariate, and Multivariate Statistics. Wiley,
    # section on Cronbach's alpha: 10 respondents x 5 items, with SPSS RELIABILITY /MODEL=ALPHA
    # /SUMMARY=TOTAL output. Reliability Statistics: alpha 0.633. Item Statistics: means 7.3, 8.8, 9.1,
    # 9.4, 7.0. Item-Total Statistics: Corrected Item-Total Correlation (the item-rest correlation)
    # 0.712, 0.558, 0.512, 0.796, -0.228; Cronbach's Alpha if Item Deleted 0.478, 0.476, 0.507, 0.445,
    # 0.824; Scale Variance if Item Deleted 108.900, 80.400, 88.278, 104.844, 164.267. Alpha without item 5
    # recomputed in the book: 0.824. Tolerance: 3 decimals as printed.
    data = pd.DataFrame(
        {
            "Item_1": [10, 12, 8, 6, 4, 6, 3, 7, 8, 9],
            "Item_2": [12, 18, 16, 8, 7, 6, 4, 3, 9, 5],
            "Item_3": [15, 12, 14, 16, 8, 3, 6, 7, 4, 6],
            "Item_4": [11, 12, 14, 8, 7, 7, 5, 9, 10, 11],
            "Item_5": [12, 1, 4, 6, 5, 3, 8, 9, 10, 12],
        }
    )
    result = cronbach_alpha(data)
    assert result.alpha == pytest.approx(0.633, abs=5e-4)
    assert [i.mean for i in result.items] == pytest.approx([7.3, 8.8, 9.1, 9.4, 7.0], abs=1e-12)
    published_r = [0.712, 0.558, 0.512, 0.796, -0.228]
    published_alpha = [0.478, 0.476, 0.507, 0.445, 0.824]
    for item, r, a in zip(result.items, published_r, published_alpha, strict=True):
        assert item.item_rest_correlation == pytest.approx(r, abs=5e-4), item.item
        assert item.alpha_if_deleted == pytest.approx(a, abs=5e-4), item.item
    # the scale variance without each item, which the correlations are built on
    rest_variances = [data.drop(columns=c).sum(axis=1).var(ddof=1) for c in data.columns]
    assert rest_variances == pytest.approx([108.900, 80.400, 88.278, 104.844, 164.267], abs=5e-4)
    assert cronbach_alpha(data.drop(columns="Item_5")).alpha == pytest.approx(0.824, abs=5e-4)
    # the item-rest correlation is not the uncorrected item-total one (which counts the item twice)
    total = data.sum(axis=1)
    assert abs(np.corrcoef(data["Item_5"], total)[0, 1] - result.items[4].item_rest_correlation) > 0.1
