"""Data generators for the DiD tests and simulations: staggered panels with a known effect."""

from __future__ import annotations

import numpy as np
import pandas as pd


def staggered_panel(
    rng: np.random.Generator,
    *,
    n_units: int = 400,
    n_periods: int = 8,
    cohorts: tuple[int, ...] = (3, 5, 7),
    never_share: float = 0.3,
    effect: float = 2.0,
    dynamic_slope: float = 0.0,
    audits_per_unit: float | None = None,
    noise: float = 1.0,
) -> pd.DataFrame:
    """Long panel: unit, period (1..n_periods), outcome, first_treated (0 = never).

    The true effect at event time e >= 0 is ``effect + dynamic_slope * e``; unit and period effects are
    random, trends are parallel. With ``audits_per_unit`` the panel is unbalanced: that many audits on
    average per unit, at random periods (several in a period allowed, some periods empty).
    """
    units = np.arange(n_units)
    is_never = rng.random(n_units) < never_share
    g = np.where(is_never, 0, rng.choice(np.array(cohorts), size=n_units))
    unit_effect = rng.normal(0, 2, size=n_units)
    period_effect = np.cumsum(rng.normal(0.3, 0.5, size=n_periods + 1))
    if audits_per_unit is None:
        u = np.repeat(units, n_periods)
        t = np.tile(np.arange(1, n_periods + 1), n_units)
    else:
        n_audits = rng.poisson(audits_per_unit, size=n_units)
        u = np.repeat(units, n_audits)
        t = rng.integers(1, n_periods + 1, size=len(u))
    gu = g[u]
    event = t - gu
    treated_now = (gu > 0) & (event >= 0)
    true = np.where(treated_now, effect + dynamic_slope * event, 0.0)
    y = unit_effect[u] + period_effect[t] + true + rng.normal(0, noise, size=len(u))
    return pd.DataFrame({"unit": u, "period": t, "outcome": y, "first_treated": gu})
