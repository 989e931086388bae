"""Holm and Benjamini-Hochberg, checked against statsmodels.stats.multitest.multipletests (oracle)."""

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from analysis.stats.errors import AnalysisInputError
from analysis.stats.multiplicity import benjamini_hochberg, holm


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize(("ours", "theirs"), [(holm, "holm"), (benjamini_hochberg, "fdr_bh")])
def test_matches_statsmodels(seed, ours, theirs):
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 0.05, 5), rng.uniform(0, 1, 15)])
    p[3] = p[7]  # a tie
    reject, adjusted, _, _ = multipletests(p, alpha=0.05, method=theirs)
    result = ours(p)
    assert np.allclose(result.p_adjusted, adjusted, atol=1e-12)
    assert list(result.reject) == list(reject)


def test_textbook_example():
    # Benjamini and Hochberg (1995) logic by hand: p = 0.01, 0.02, 0.03, 0.04 with m = 4 are all
    # adjusted to 0.04; Holm gives 0.04, 0.06, 0.06, 0.06.
    assert benjamini_hochberg([0.01, 0.02, 0.03, 0.04]).p_adjusted == pytest.approx((0.04,) * 4)
    assert holm([0.01, 0.02, 0.03, 0.04]).p_adjusted == pytest.approx((0.04, 0.06, 0.06, 0.06))


def test_missing_p_values_are_left_out():
    result = holm([0.01, np.nan, 0.04])
    assert result.p_adjusted[0] == pytest.approx(0.02)
    assert np.isnan(result.p_adjusted[1]) and result.reject[1] is False
    assert result.to_dict()["p_adjusted"][1] is None


def test_rejects_invalid_p_values():
    with pytest.raises(AnalysisInputError):
        holm([0.5, 1.5])
