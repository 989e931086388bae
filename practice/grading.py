"""How an audit's overall grade and 0-100 score follow from its criterion grades.

Each criterion is graded Outstanding 4, Good 3, Requires improvement 2 or Inadequate 1. The
rubric's ``referral_quality`` scale is the mean of the criterion grades (the instrument engine
computes it when the audit is submitted). From that mean m:

- score = 100 * (m - 1) / 3, so all Inadequate is 0, all Outstanding is 100, and one grade
  point is 33.3 points of score;
- overall grade by banding the mean at the half-grade: m >= 3.5 Outstanding, 2.5 <= m < 3.5
  Good, 1.5 <= m < 2.5 Requires improvement, m < 1.5 Inadequate (the nearest grade, with
  halves rounded up).

Each submitted audit also stores its criterion grades as one short string
(``Audit.criterion_grades``), one digit per criterion in rubric order: ``rubric_items`` is that
order and ``criterion_grades_string`` the encoding, used by every writer of audits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from surveys.models import InstrumentVersion, Item, ItemKind

QUALITY_SCALE_CODE = "referral_quality"
DEFAULT_RUBRIC_SLUG = "front-door-referral-audit"
GRADES = (4, 3, 2, 1)

_BANDS = ((3.5, 4), (2.5, 3), (1.5, 2))


def score_from_mean(mean: float) -> float:
    if not 1 <= mean <= 4:
        raise ValueError(f"A mean grade must be between 1 and 4, not {mean}.")
    return round(100.0 * (mean - 1.0) / 3.0, 2)


def grade_from_mean(mean: float) -> int:
    if not 1 <= mean <= 4:
        raise ValueError(f"A mean grade must be between 1 and 4, not {mean}.")
    return next((grade for floor, grade in _BANDS if mean >= floor), 1)


# A rubric version's criteria in the order auditors see them. Positions are unique within a
# version; the id breaks ties between versions, where the impact report lists every criterion.
RUBRIC_ORDER = ("position", "id")
UNGRADED = "0"
_GRADE_DIGITS = frozenset("1234")


def rubric_items(version: InstrumentVersion) -> list[Item]:
    """The version's criteria (items graded 1 to 4) in rubric order: the order of the digits of
    ``Audit.criterion_grades``."""
    return list(version.items.filter(kind=ItemKind.RUBRIC_4).order_by(*RUBRIC_ORDER))


def criterion_grades_string(criteria: Sequence[Item], grades: Mapping[str, int | str]) -> str:
    """One digit per criterion of ``criteria`` (from ``rubric_items``), from ``grades`` by
    criterion code (as answered: a digit 1-4, or blank); ``UNGRADED`` where a criterion has none.
    For the default rubric's eleven criteria, all Good but the ninth (``timely``) left ungraded
    is "33333333033".
    """
    digits = []
    for item in criteria:
        value = str(grades.get(item.code, "")).strip()
        if value and value not in _GRADE_DIGITS:
            raise ValueError(f"A criterion grade must be 1 to 4, not {value!r} ({item.code}).")
        digits.append(value or UNGRADED)
    return "".join(digits)
