"""How an audit's overall grade and 0-100 score follow from its criterion grades.

Each criterion is graded Outstanding 4, Good 3, Requires improvement 2 or Inadequate 1. The
rubric's ``referral_quality`` scale is the mean of the criterion grades (the instrument engine
computes it when the audit is submitted). From that mean m:

- score = 100 * (m - 1) / 3, so all Inadequate is 0, all Outstanding is 100, and one grade
  point is 33.3 points of score;
- overall grade by banding the mean at the half-grade: m >= 3.5 Outstanding, 2.5 <= m < 3.5
  Good, 1.5 <= m < 2.5 Requires improvement, m < 1.5 Inadequate (the nearest grade, with
  halves rounded up).
"""

from __future__ import annotations

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
