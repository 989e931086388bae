"""Power and minimum detectable effects, checked against statsmodels.stats.power (independent oracle)."""

import pytest
from scipy import stats
from statsmodels.stats.power import TTestIndPower, TTestPower

from analysis.stats import power
from analysis.stats.errors import AnalysisInputError


def test_paired_power_matches_statsmodels():
    assert power.paired_power(0.5, 30) == pytest.approx(TTestPower().power(0.5, 30, 0.05), abs=1e-10)


def test_paired_mde_and_n_match_statsmodels():
    expected = TTestPower().solve_power(effect_size=None, nobs=30, alpha=0.05, power=0.8)
    assert power.paired_mde(30) == pytest.approx(expected, abs=1e-6)
    n = TTestPower().solve_power(effect_size=0.5, nobs=None, alpha=0.05, power=0.8)
    assert power.paired_n_for_effect(0.5) == int(-(-n // 1))  # 33.37 -> 34 pairs
    # Cohen (1988) table value: d = 0.5, alpha 0.05 two-sided, power 0.8 needs 34 pairs.
    assert power.paired_n_for_effect(0.5) == 34


def test_two_group_matches_statsmodels_and_design_effect():
    assert power.two_group_mde(64) == pytest.approx(
        TTestIndPower().solve_power(effect_size=None, nobs1=64, alpha=0.05, power=0.8), abs=1e-6
    )
    # Cohen (1988): d = 0.5 needs 64 per group.
    assert power.two_group_n_for_effect(0.5) == 64
    # Clustering: 10 audits per person with ICC 0.1 gives deff 1.9, so the MDE equals that of n / 1.9.
    assert power.design_effect(10, 0.1) == pytest.approx(1.9)
    assert power.two_group_mde(190, icc=0.1, cluster_size=10) == pytest.approx(
        power.two_group_mde(100), abs=1e-9
    )


def test_additional_observations():
    # d = 5 / 10 = 0.5 needs 34 pairs; with 20 already, 14 more.
    assert power.additional_observations_needed(5, 10, 20) == 14
    assert power.additional_observations_needed(5, 10, 50) == 0
    assert power.additional_observations_needed(5, 10, 100, design="two_group") == 28
    # normal-approximation route: SE 2 from 40 people; the MDE is (1.96 + 0.84) * 2 = 5.6, so 5.7 is
    # detectable already.
    assert power.further_observations_for_se(2.0, 40, 5.7) == 0
    half_mde = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)  # half of the current MDE of 2 * 2.80
    assert power.further_observations_for_se(2.0, 40, half_mde) == 120  # needs 4x the sample


def test_power_input_errors():
    with pytest.raises(AnalysisInputError):
        power.paired_n_for_effect(0)
    with pytest.raises(AnalysisInputError):
        power.design_effect(10, 1.5)
    with pytest.raises(AnalysisInputError):
        power.additional_observations_needed(5, 10, 20, design="crossover")
