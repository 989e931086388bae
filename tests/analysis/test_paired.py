"""Paired change: validated against R's sleep data and Lakens (2013), plus edge cases."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.stats.errors import AnalysisInputError
from analysis.stats.paired import d_z_confidence_interval, hake_gain, paired_change, reliable_change

# R's datasets::sleep (Student 1908; Cushny and Peebles): extra hours of sleep with two drugs, same 10 people.
SLEEP_GROUP1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_GROUP2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


@pytest.fixture
def sleep():
    # R's t.test(extra ~ group, data = sleep, paired = TRUE) tests group1 minus group2. Our mean_diff is
    # after minus before, so group 2 is "before" and group 1 "after" to reproduce R's signs exactly.
    return paired_change(pd.DataFrame({"g2": SLEEP_GROUP2, "g1": SLEEP_GROUP1}), before="g2", after="g1")


def test_sleep_paired_t_matches_r(sleep):
    # Source: R 4.x, t.test(extra ~ group, data = sleep, paired = TRUE):
    # t = -4.0621, df = 9, p-value = 0.002833, 95% CI -2.4598858 -0.7001142, mean difference -1.58.
    assert sleep.n == 10
    assert sleep.df == 9
    assert sleep.t == pytest.approx(-4.0621, abs=5e-5)
    assert sleep.p == pytest.approx(0.002833, abs=5e-7)
    assert sleep.ci_low == pytest.approx(-2.4599, abs=5e-5)
    assert sleep.ci_high == pytest.approx(-0.7001, abs=5e-5)
    assert sleep.mean_diff == pytest.approx(-1.58, abs=1e-12)
    assert sleep.mean_before == pytest.approx(2.33, abs=1e-12)
    assert sleep.mean_after == pytest.approx(0.75, abs=1e-12)


def test_sleep_wilcoxon_matches_r(sleep):
    # Source: R wilcox.test(extra ~ group, data = sleep, paired = TRUE): V = 0, p-value = 0.009091
    # (normal approximation with continuity correction, because of a zero difference and ties).
    assert sleep.wilcoxon_statistic == 0
    assert sleep.wilcoxon_p == pytest.approx(0.009091, abs=5e-7)


def test_d_z_interval_brackets_and_matches_noncentral_t_definition(sleep):
    # Independent check of the inversion: at each limit, the observed t sits exactly at the 2.5% tail of
    # the noncentral t with that noncentrality (definition of the exact interval; tolerance 1e-6).
    n = sleep.n
    t_obs = sleep.d_z * math.sqrt(n)
    assert stats.nct.cdf(t_obs, n - 1, sleep.d_z_ci_low * math.sqrt(n)) == pytest.approx(0.975, abs=1e-6)
    assert stats.nct.cdf(t_obs, n - 1, sleep.d_z_ci_high * math.sqrt(n)) == pytest.approx(0.025, abs=1e-6)
    assert sleep.d_z_ci_low < sleep.d_z < sleep.d_z_ci_high
    # d_z = mean / SD of the differences = -1.58 / 1.2299955 (hand computation, 3 decimals)
    assert sleep.d_z == pytest.approx(-1.285, abs=5e-4)


def test_lakens_2013_movie_example():
    # Source: Lakens (2013) Frontiers in Psychology 4:863, Table 1 (ratings of two movies by the same 10
    # people) and text: t(9) = 4.74, d_z = 1.50, d_av = 1.13, g_av = 1.08. Tolerance: 2 decimals as printed.
    movie1 = [9, 7, 8, 9, 8, 9, 9, 10, 9, 9]
    movie2 = [9, 6, 7, 8, 7, 9, 8, 8, 8, 7]
    result = paired_change(pd.DataFrame({"m2": movie2, "m1": movie1}), "m2", "m1")
    assert result.t == pytest.approx(4.74, abs=5e-3)
    assert result.d_z == pytest.approx(1.50, abs=5e-3)
    assert result.d_av == pytest.approx(1.13, abs=5e-3)
    assert result.g_av == pytest.approx(1.08, abs=5e-3)


def test_incomplete_pairs_are_dropped_and_counted():
    frame = pd.DataFrame({"pre": [1, 2, np.nan, 4, 5, 6], "post": [2, 4, 5, np.nan, 6, 8]})
    result = paired_change(frame, "pre", "post")
    assert result.n == 4
    assert result.n_dropped == 2
    assert result.mean_diff == pytest.approx(np.mean([1, 2, 1, 2]))


def test_to_dict_has_contract_keys_and_no_nan():
    frame = pd.DataFrame({"pre": [3, 3, 3], "post": [4, 4, 4]})  # constant differences: t undefined
    out = paired_change(frame, "pre", "post").to_dict()
    for key in [
        "n",
        "mean_before",
        "mean_after",
        "mean_diff",
        "ci_low",
        "ci_high",
        "t",
        "df",
        "p",
        "wilcoxon_statistic",
        "wilcoxon_p",
        "d_z",
        "d_z_ci_low",
        "d_z_ci_high",
        "g_av",
        "n_dropped",
    ]:
        assert key in out
    assert out["t"] is None and out["d_z"] is None
    assert out["mean_diff"] == 1


def test_too_few_pairs_is_an_input_error():
    with pytest.raises(AnalysisInputError, match="too few complete pairs"):
        paired_change(pd.DataFrame({"pre": [1, np.nan], "post": [2, 3]}), "pre", "post")


def test_missing_column_names_it_and_lists_available():
    with pytest.raises(AnalysisInputError, match=r"'after' not found; available columns: pre, post"):
        paired_change(pd.DataFrame({"pre": [1, 2], "post": [2, 3]}), "pre", "after")


def test_hake_gain():
    # Hake (1998): <g> = (post - pre) / (100 - pre); 40% -> 70% is half of the possible gain.
    assert hake_gain(40, 70, 100) == pytest.approx(0.5)
    assert math.isnan(hake_gain(100, 100, 100))
    frame = pd.DataFrame({"pre": [40, 50, 30], "post": [70, 75, 65]})
    assert paired_change(frame, "pre", "post", max_score=100).hake_gain == pytest.approx((70 - 40) / 60)


def test_reliable_change_index_counts():
    # Jacobson and Truax (1991): SE_diff = SD_pre * sqrt(2) * sqrt(1 - r). With SD_pre given as 10 and
    # r = 0.82, SE_diff = 6.0; changes beyond 1.96 * 6 = 11.76 points are reliable.
    before = np.array([50, 50, 50, 50])
    after = np.array([62, 61, 38, 50])
    rc = reliable_change(before, after, 0.82, sd_before=10)
    assert rc.se_diff == pytest.approx(6.0)
    assert (rc.n_improved, rc.n_unchanged, rc.n_worse) == (1, 2, 1)
    flipped = reliable_change(before, after, 0.82, sd_before=10, higher_is_better=False)
    assert (flipped.n_improved, flipped.n_worse) == (1, 1)
    assert rc.rci[0] == pytest.approx(2.0)
    assert "rci" not in rc.to_dict()


def test_d_z_interval_reference_value():
    # Independent oracle: the same inversion by a plain bisection on scipy's nct, written here.
    d, n = 0.5, 30

    def bisect(target):
        lo, hi = -10.0, 15.0
        for _ in range(200):
            mid = (lo + hi) / 2
            if stats.nct.cdf(d * math.sqrt(n), n - 1, mid) > target:
                lo = mid
            else:
                hi = mid
        return mid / math.sqrt(n)

    low, high = d_z_confidence_interval(d, n)
    assert low == pytest.approx(bisect(0.975), abs=1e-6)
    assert high == pytest.approx(bisect(0.025), abs=1e-6)


def test_d_z_interval_survives_huge_effects():
    low, high = d_z_confidence_interval(8.0, 12)
    assert 0 < low < 8.0 < high


def _exact_signed_rank_two_sided_p(v, n):
    """Independent oracle: the exact null distribution of V for ranks 1..n (no ties), by counting the
    2^n equally likely sign patterns with a subset-sum table, and R's two-sided rule
    min(1, 2 * P(V <= v)) or min(1, 2 * P(V >= v)) on the side of the observed V."""
    total = n * (n + 1) // 2
    ways = [1] + [0] * total  # ways[s]: sign patterns whose positive ranks sum to s
    for rank in range(1, n + 1):
        for s in range(total, rank - 1, -1):
            ways[s] += ways[s - rank]
    patterns = 2**n
    lower = sum(ways[: int(v) + 1]) / patterns
    upper = sum(ways[int(v) :]) / patterns
    return min(1.0, 2 * (upper if v > total / 2 else lower))


def test_wilcoxon_reports_r_v_statistic_with_exact_p():
    # Source: R, wilcox.test(d) for d = c(1.5, -0.2, 2.1, 0.7, 3.3, -1.1, 2.6, 0.9): V = 31 (ranks of |d|:
    # 5, 1, 6, 2, 8, 4, 7, 3; positives 5 + 6 + 2 + 8 + 7 + 3 = 31), exact p-value = 0.07812 (n < 50, no
    # ties or zeros). scipy's two-sided statistic would be min(31, 5) = 5. p checked against the exact
    # distribution computed above (10 of 256 sign patterns have V <= 5), tolerance 1e-12.
    diffs = [1.5, -0.2, 2.1, 0.7, 3.3, -1.1, 2.6, 0.9]
    before = np.linspace(10, 17, 8)
    result = paired_change(pd.DataFrame({"pre": before, "post": before + diffs}), "pre", "post")
    assert result.wilcoxon_statistic == 31
    assert result.wilcoxon_p == pytest.approx(_exact_signed_rank_two_sided_p(31, 8), abs=1e-12)
    assert result.wilcoxon_p == pytest.approx(20 / 256, abs=1e-12)
    assert result.wilcoxon_p == pytest.approx(0.07812, abs=1e-5)  # R prints 4 significant digits
    # mirrored (before and after swapped): V becomes the other rank sum, 36 - 31 = 5, same p
    flipped = paired_change(pd.DataFrame({"pre": before + diffs, "post": before}), "pre", "post")
    assert flipped.wilcoxon_statistic == 5
    assert flipped.wilcoxon_p == pytest.approx(result.wilcoxon_p, abs=1e-12)


def test_wilcoxon_with_ties_and_zeros_uses_r_normal_approximation():
    # Independent oracle: R's wilcox.test code for the non-exact branch, written out here: zeros dropped,
    # average ranks, z = (V - n(n+1)/4 - 0.5 sign) / sqrt(n(n+1)(2n+1)/24 - sum(t^3 - t)/48),
    # p = 2 * min(Phi(z), 1 - Phi(z)). Tolerance 1e-12.
    diffs = np.array([2.0, 2.0, -1.0, 0.0, 3.0, 3.0, 3.0, -2.0, 1.0, 4.0, 0.0, 5.0])
    before = np.full(len(diffs), 20.0)
    result = paired_change(pd.DataFrame({"pre": before, "post": before + diffs}), "pre", "post")
    d = diffs[diffs != 0]
    n = len(d)
    ranks = stats.rankdata(np.abs(d))
    v = ranks[d > 0].sum()
    _, counts = np.unique(ranks, return_counts=True)
    sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - (counts**3 - counts).sum() / 48)
    z = v - n * (n + 1) / 4
    z = (z - math.copysign(0.5, z)) / sigma
    p = 2 * min(stats.norm.cdf(z), stats.norm.sf(z))
    assert result.wilcoxon_statistic == pytest.approx(v, abs=1e-12)
    # by hand: |d| without zeros ranks 1.5 (1, 1), 4 (2, 2, 2), 7 (3, 3, 3), 9 (4), 10 (5);
    # positives 4 + 4 + 21 + 1.5 + 9 + 10
    assert result.wilcoxon_statistic == 49.5
    assert result.wilcoxon_p == pytest.approx(p, abs=1e-12)


@pytest.mark.parametrize("seed", range(40))
def test_wilcoxon_normal_approximation_is_scipys_with_ties_zeros_and_correction(seed):
    # Scores on a 0.5-point grid: many tied and zero differences, so the tie-corrected normal
    # approximation with continuity correction applies (as R's default does). Worked out here from
    # the ranks; oracle: scipy.stats.wilcoxon(method="approx", correction=True) on the non-zero
    # differences, to 1e-12 relative.
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 400))
    before = np.round(rng.normal(10, 2, n) * 2) / 2
    after = before + np.round(rng.normal(rng.normal(0, 0.3), 1, n) * 2) / 2
    result = paired_change(pd.DataFrame({"pre": before, "post": after}), "pre", "post")
    d = np.round(after - before, 10)
    nonzero = d[d != 0]
    expected = stats.wilcoxon(nonzero, method="approx", correction=True).pvalue
    assert result.wilcoxon_p == pytest.approx(expected, rel=1e-12, abs=1e-300)
    assert result.wilcoxon_statistic == stats.rankdata(np.abs(nonzero))[nonzero > 0].sum()
