"""The standard answer options of each item kind, for items trainers add or edit.

(The default instrument's migration keeps its own copy on purpose: migrations never import app code.)
"""

from __future__ import annotations

from surveys.models import ItemKind

NOT_SURE = {"value": "dk", "label": "I'm not sure"}

_LIKERT_5 = ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"]
_LIKERT_7 = [
    "Strongly disagree",
    "Disagree",
    "Somewhat disagree",
    "Neither agree nor disagree",
    "Somewhat agree",
    "Agree",
    "Strongly agree",
]


def standard_options(kind: str) -> list[dict[str, str]]:
    """Options for kinds whose points are fixed; single-choice items bring their own."""
    if kind == ItemKind.LIKERT_5:
        return [{"value": str(v), "label": label} for v, label in enumerate(_LIKERT_5, start=1)]
    if kind == ItemKind.LIKERT_7:
        return [{"value": str(v), "label": label} for v, label in enumerate(_LIKERT_7, start=1)]
    if kind == ItemKind.CONFIDENCE_0_10:
        ends = {0: "0 (not at all confident)", 10: "10 (completely confident)"}
        return [{"value": str(v), "label": ends.get(v, str(v))} for v in range(11)]
    if kind == ItemKind.TRUE_FALSE:
        return [{"value": "true", "label": "True"}, {"value": "false", "label": "False"}, NOT_SURE]
    return []


def choice_options(labels: list[str]) -> list[dict[str, str]]:
    """A knowledge question's options lettered a, b, c..., with "I'm not sure" last so that people
    are not pushed into guessing (it scores as not correct)."""
    letters = "abcdefghij"
    return [{"value": letters[i], "label": label} for i, label in enumerate(labels)] + [NOT_SURE]
