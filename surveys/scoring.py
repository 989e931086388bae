"""Scoring rules for items and scales, on plain values so they are easy to test and reuse.

- Likert, confidence and rubric items score their numeric value; a reverse-coded item scores
  ``lowest + highest - value``, so a high score always means more of what the scale measures.
- Knowledge items (single choice, true/false) score 1 when the answer is the correct one, else 0,
  and a knowledge scale is reported as the percentage correct of the items answered.
- A scale is scored only when at least ``min_answered_share`` of its items were answered
  (80% by default); otherwise its score is empty rather than a guess from a few items.
- Free-text items are never scored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from surveys.models import ITEM_KIND_RANGE, KNOWLEDGE_KINDS, ItemKind


@dataclass(frozen=True)
class ItemRule:
    item_id: int
    scale_id: int | None
    kind: str
    reverse_coded: bool = False
    correct_answer: str = ""


@dataclass(frozen=True)
class ScaleResult:
    scale_id: int
    score: float | None
    n_answered: int
    n_items: int


def item_score(rule: ItemRule, value: str) -> float | None:
    """The numeric score of one answer, or None when unanswered or unscored."""
    if value in ("", None) or rule.kind == ItemKind.FREE_TEXT:
        return None
    if rule.kind in KNOWLEDGE_KINDS:
        return 1.0 if str(value).strip().lower() == rule.correct_answer.strip().lower() else 0.0
    lowest, highest = ITEM_KIND_RANGE[rule.kind]
    number = float(value)
    if not (lowest <= number <= highest) or math.isnan(number):
        raise ValueError(f"{value!r} is outside {lowest} to {highest}.")
    return lowest + highest - number if rule.reverse_coded else number


def score_scales(
    rules: Iterable[ItemRule], min_share: Mapping[int, float], answers: Mapping[int, str]
) -> list[ScaleResult]:
    """Score every scale from one response's answers (item id -> value as given)."""
    by_scale: dict[int, list[ItemRule]] = {}
    for rule in rules:
        if rule.scale_id is not None and rule.kind != ItemKind.FREE_TEXT:
            by_scale.setdefault(rule.scale_id, []).append(rule)
    results = []
    for scale_id, scale_rules in by_scale.items():
        scores = [s for r in scale_rules if (s := item_score(r, answers.get(r.item_id, ""))) is not None]
        n_items = len(scale_rules)
        enough = n_items > 0 and len(scores) >= math.ceil(
            float(min_share.get(scale_id, 0.8)) * n_items - 1e-9
        )
        score = None
        if enough and scores:
            mean = sum(scores) / len(scores)
            is_knowledge = all(r.kind in KNOWLEDGE_KINDS for r in scale_rules)
            score = 100.0 * mean if is_knowledge else mean
        results.append(ScaleResult(scale_id, score, len(scores), n_items))
    return results
