"""Choosing which referrals to audit: random within referral outcome, reproducible for a seed.

The audit schedule needs one referral per *unit* (a staff member's baseline window, say). If
managers chose, they would pick the tidy ones; if we chose uniformly per person, the audited
set could still by chance over-represent, say, accepted referrals. So selection is stratified
by outcome:

1. The population is every candidate referral across all units; each outcome's share of it is
   that stratum's target share of the sample.
2. Units are visited in a shuffled order. For each, among the outcomes it has candidates in, we
   take the stratum furthest below its target (target share x picks so far + 1, minus its picks
   so far); ties are broken at random. Then one of the unit's referrals in that stratum is drawn
   at random.

So the audited set's outcome mix tracks the population's as closely as the units allow, and
within an outcome every referral has the same chance. All randomness comes from the
``random.Random`` passed in, and inputs are sorted first, so one seed gives one sample.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Candidate:
    referral_id: int
    outcome: str


def stratified_pick(
    units: Mapping[tuple, Sequence[Candidate]], *, rng: random.Random
) -> dict[tuple, Candidate]:
    """One candidate per unit (units without candidates get none); a referral is never picked twice."""
    population = Counter(c.outcome for c in {c for cands in units.values() for c in cands})
    total = sum(population.values())
    if total == 0:
        return {}
    share = {outcome: n / total for outcome, n in population.items()}
    order = sorted(units)
    rng.shuffle(order)
    picked: dict[tuple, Candidate] = {}
    taken: set[int] = set()
    counts: Counter[str] = Counter()
    for unit in order:
        available = sorted(c for c in units[unit] if c.referral_id not in taken)
        if not available:
            continue
        strata = sorted({c.outcome for c in available})
        deficit = {h: share[h] * (len(picked) + 1) - counts[h] for h in strata}
        best = max(deficit.values())
        stratum = rng.choice([h for h in strata if deficit[h] >= best - 1e-9])
        choice = rng.choice([c for c in available if c.outcome == stratum])
        picked[unit] = choice
        taken.add(choice.referral_id)
        counts[stratum] += 1
    return picked
