"""Questionnaire settings, each with a default a deployment can override in Django settings.

Read at call time (not import time) so tests and deployments can change them.
"""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    # The pre questionnaire opens this many days before the session starts and closes at the start.
    "SURVEY_PRE_OPENS_DAYS_BEFORE": 14,
    # The post questionnaire opens at the start of the session and closes this many days after its end.
    "SURVEY_POST_OPEN_DAYS": 14,
    # Follow-ups: days after the session ends (six weeks and three months), each open for a while.
    "SURVEY_FOLLOW_UP_OFFSETS": (42, 91),
    "SURVEY_FOLLOW_UP_OPEN_DAYS": 21,
    # Reminders: at most this many per invitation, at least this many days apart.
    "SURVEY_MAX_REMINDERS": 2,
    "SURVEY_REMINDER_INTERVAL_DAYS": 5,
    # Summaries hide any figure based on fewer people than this ("c"), as official statistics do.
    "SURVEY_MIN_CELL": 5,
}


def survey_setting(name: str):
    return getattr(settings, name, DEFAULTS[name])


def person_key_secret() -> bytes:
    """The key for pseudonymous person keys in exports (SURVEY_PERSON_KEY_SECRET, required in
    production)."""
    return settings.SURVEY_PERSON_KEY_SECRET.encode()
