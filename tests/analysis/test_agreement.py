"""Rater agreement, checked against published worked examples and R's irr package."""

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats import inter_rater

from analysis.stats.agreement import agreement, cohen_kappa, fleiss_kappa, krippendorff_alpha
from analysis.stats.errors import AnalysisInputError

NAN = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers x 12 units,
# with missing values. Rows are observers A-D; transposed to units x observers below.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    ]
).T

# Fleiss (1971) psychiatric diagnoses: 30 patients, 6 psychiatrists each, 5 categories
# (as printed in R's irr::diagnoses; codes 1-5).
FLEISS_1971 = np.array(
    [
        [4, 4, 4, 4, 4, 4],
        [2, 2, 2, 5, 5, 5],
        [2, 3, 3, 3, 3, 5],
        [5, 5, 5, 5, 5, 5],
        [2, 2, 2, 4, 4, 4],
        [1, 1, 3, 3, 3, 3],
        [3, 3, 3, 3, 5, 5],
        [1, 1, 3, 3, 3, 4],
        [1, 1, 4, 4, 4, 4],
        [5, 5, 5, 5, 5, 5],
        [1, 4, 4, 4, 4, 4],
        [1, 2, 4, 4, 4, 4],
        [2, 2, 2, 3, 3, 3],
        [1, 4, 4, 4, 4, 4],
        [2, 2, 4, 4, 4, 5],
        [3, 3, 3, 3, 3, 5],
        [1, 1, 1, 4, 5, 5],
        [1, 1, 1, 1, 1, 2],
        [2, 2, 4, 4, 4, 4],
        [1, 3, 3, 5, 5, 5],
        [5, 5, 5, 5, 5, 5],
        [2, 4, 4, 4, 4, 4],
        [2, 2, 4, 5, 5, 5],
        [1, 1, 4, 4, 4, 4],
        [1, 4, 4, 4, 4, 5],
        [2, 2, 2, 2, 2, 4],
        [1, 1, 1, 1, 5, 5],
        [2, 2, 4, 4, 4, 4],
        [1, 3, 3, 3, 3, 3],
        [5, 5, 5, 5, 5, 5],
    ]
)

# R irr::anxiety, raters 2 and 3 (20 subjects, ratings 1-6; rater 2 never uses 5).
ANXIETY_RATER2 = [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4]
ANXIETY_RATER3 = [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2]


@pytest.mark.parametrize(
    ("level", "published"),
    # Source: Krippendorff (2011) section C worked example: nominal 0.743, ordinal 0.815, interval 0.849,
    # ratio 0.797. Tolerance: 3 decimals.
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_2011_worked_example(level, published):
    assert krippendorff_alpha(KRIPPENDORFF_2011, level) == pytest.approx(published, abs=5e-4)


def _pairwise_alpha(matrix, delta):
    """Independent oracle: alpha from all pairable value pairs by explicit loops (Krippendorff 2011,
    the "pairs" form: observed disagreement within units vs expected over all pairable values)."""
    observed_pairs, values = [], []
    for row in matrix:
        vals = [v for v in row if not np.isnan(v)]
        if len(vals) < 2:
            continue
        values.extend(vals)
        m = len(vals)
        for i in range(m):
            for j in range(m):
                if i != j:
                    observed_pairs.append((vals[i], vals[j], 1 / (m - 1)))
    n = len(values)
    d_o = sum(w * delta(a, b) for a, b, w in observed_pairs) / n
    d_e = sum(delta(a, b) for i, a in enumerate(values) for j, b in enumerate(values) if i != j) / (
        n * (n - 1)
    )
    return 1 - d_o / d_e


def test_krippendorff_matches_pairwise_oracle_on_random_data():
    rng = np.random.default_rng(11)
    matrix = rng.integers(1, 6, size=(25, 4)).astype(float)
    matrix[rng.random(matrix.shape) < 0.25] = np.nan
    assert krippendorff_alpha(matrix, "nominal") == pytest.approx(
        _pairwise_alpha(matrix, lambda a, b: float(a != b)), abs=1e-12
    )
    assert krippendorff_alpha(matrix, "interval") == pytest.approx(
        _pairwise_alpha(matrix, lambda a, b: (a - b) ** 2), abs=1e-12
    )


def test_interval_alpha_on_scores_with_many_distinct_values():
    # Audit scores (0-100, nearly every rating its own value): the interval alpha is worked out from
    # deviations rather than a category x category matrix, and must still equal the pairs' definition.
    rng = np.random.default_rng(5)
    truth = rng.normal(60, 15, size=40)
    matrix = truth[:, None] + rng.normal(0, 6, size=(40, 3))
    matrix[rng.random(matrix.shape) < 0.3] = np.nan
    matrix[0, 1:] = np.nan  # a unit rated once carries no information
    assert len(np.unique(matrix[~np.isnan(matrix)])) > 60
    assert krippendorff_alpha(matrix, "interval") == pytest.approx(
        _pairwise_alpha(matrix, lambda a, b: (a - b) ** 2), abs=1e-12
    )


def test_interval_alpha_is_undefined_without_variation_between_pairable_ratings():
    # Only the unit rated once differs: every pairable rating is 3, so there is no disagreement to expect.
    assert math.isnan(krippendorff_alpha(np.array([[3.0, 3.0], [3.0, 3.0], [5.0, np.nan]]), "interval"))


def test_fleiss_1971_psychiatric_diagnoses():
    # Source: Fleiss (1971), kappa = 0.430 (R irr::kappam.fleiss(diagnoses) gives 0.4302445).
    assert fleiss_kappa(FLEISS_1971) == pytest.approx(0.4302445, abs=5e-8)
    # Independent implementation: statsmodels.stats.inter_rater.fleiss_kappa.
    table, _ = inter_rater.aggregate_raters(FLEISS_1971)
    assert fleiss_kappa(FLEISS_1971) == pytest.approx(inter_rater.fleiss_kappa(table), abs=1e-12)


def test_cohen_kappa_wikipedia_example():
    # Source: the standard textbook example (Wikipedia "Cohen's kappa"): 50 proposals, both yes 20,
    # A yes B no 5, A no B yes 10, both no 15: p_o = 0.7, p_e = 0.5, kappa = 0.4.
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(np.array(a, dtype=object), np.array(b, dtype=object)) == pytest.approx(0.4, abs=1e-12)


def test_cohen_and_weighted_kappa_match_r_irr_anxiety():
    # Source: R irr::kappa2(anxiety[, 2:3]) = -0.006289308; with weight "equal" (linear) 0.1459075;
    # "squared" (quadratic) 0.2520325 (values recorded in statsmodels' test_inter_rater.py). 6 decimals.
    a, b = np.array(ANXIETY_RATER2, float), np.array(ANXIETY_RATER3, float)
    assert cohen_kappa(a, b) == pytest.approx(-0.006289308, abs=5e-7)
    assert cohen_kappa(a, b, "linear") == pytest.approx(0.1459075, abs=5e-7)
    assert cohen_kappa(a, b, "quadratic") == pytest.approx(0.2520325, abs=5e-7)


def test_cohen_kappa_agrees_with_statsmodels_on_random_tables():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 4, size=200)
    b = np.where(rng.random(200) < 0.6, a, rng.integers(0, 4, size=200))
    table = pd.crosstab(a, b).to_numpy()
    assert cohen_kappa(a, b) == pytest.approx(inter_rater.cohens_kappa(table).kappa, abs=1e-12)
    assert cohen_kappa(a, b, "linear") == pytest.approx(
        inter_rater.cohens_kappa(table, wt="linear").kappa, abs=1e-12
    )
    assert cohen_kappa(a, b, "quadratic") == pytest.approx(
        inter_rater.cohens_kappa(table, wt="quadratic").kappa, abs=1e-12
    )


def _long(matrix):
    rows = []
    for u, row in enumerate(matrix):
        for r, value in enumerate(row):
            if not (isinstance(value, float) and np.isnan(value)):
                rows.append({"referral": f"R{u}", "auditor": f"A{r}", "grade": value})
    return pd.DataFrame(rows)


def test_agreement_two_raters_long_form():
    frame = _long(np.column_stack([ANXIETY_RATER2, ANXIETY_RATER3]).astype(float))
    result = agreement(frame, "referral", "auditor", "grade", level="ordinal")
    assert (result.n_units, result.n_raters) == (20, 2)
    assert result.cohen_kappa == pytest.approx(-0.006289308, abs=5e-7)
    assert result.weighted_kappa_quadratic == pytest.approx(0.2520325, abs=5e-7)
    assert result.fleiss_kappa is not None
    out = result.to_dict()
    for key in [
        "n_units",
        "n_raters",
        "cohen_kappa",
        "weighted_kappa_linear",
        "weighted_kappa_quadratic",
        "fleiss_kappa",
        "krippendorff_alpha",
    ]:
        assert key in out


def test_agreement_many_raters_with_missing_data():
    result = agreement(_long(KRIPPENDORFF_2011), "referral", "auditor", "grade", level="nominal")
    assert result.n_units == 12 and result.n_raters == 4
    assert result.cohen_kappa is None and result.weighted_kappa_linear is None
    assert result.fleiss_kappa is None and "fleiss_kappa" in result.notes
    assert result.krippendorff_alpha == pytest.approx(0.743, abs=5e-4)
    # unit 12 has one rating only, so it is not pairable
    assert result.n_pairable_units == 11


def test_agreement_text_categories_nominal_only():
    frame = pd.DataFrame(
        {"u": [1, 1, 2, 2, 3, 3], "r": ["x", "y"] * 3, "g": ["good", "good", "poor", "good", "poor", "poor"]}
    )
    result = agreement(frame, "u", "r", "g")
    assert result.cohen_kappa is not None
    assert result.weighted_kappa_linear is None and "weighted_kappa" in result.notes
    with pytest.raises(AnalysisInputError, match="non-numeric value 'good'"):
        agreement(frame, "u", "r", "g", level="interval")


def test_agreement_rejects_duplicate_ratings():
    frame = pd.DataFrame({"u": [1, 1, 2], "r": ["x", "x", "y"], "g": [1, 2, 3]})
    with pytest.raises(AnalysisInputError, match="more than once"):
        agreement(frame, "u", "r", "g")
