"""Retention: ``python manage.py purge_expired`` runs every registered purger.

An app registers its purgers from its ``AppConfig.ready()``::

    from training.retention import register_purger
    register_purger("questionnaire answers", purge_old_answers)

A purger is called as ``purger(now=..., dry_run=...)`` and returns how many records it removed or
anonymised (or, with dry_run, would). Retention periods are settings (RETENTION_*_DAYS).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q

from training import lockout
from training.access_log import access_log_purge
from training.models import StaffMember
from training.staff_data import ERASED_EMAIL_DOMAIN, staff_pseudonymise

Purger = Callable[..., int]
_PURGERS: dict[str, Purger] = {}


def register_purger(label: str, purger: Purger) -> None:
    _PURGERS[label] = purger


@dataclass(frozen=True)
class PurgeOutcome:
    label: str
    count: int


def purge_expired(*, now: dt.datetime, dry_run: bool) -> list[PurgeOutcome]:
    """Each purger runs in its own transaction, so one failing leaves the others' work done."""
    outcomes = []
    for label, purger in _PURGERS.items():
        with transaction.atomic():
            outcomes.append(PurgeOutcome(label=label, count=purger(now=now, dry_run=dry_run)))
    return outcomes


def leavers_purge(*, now: dt.datetime, dry_run: bool) -> int:
    """Anonymises people who are inactive and whose last training (booked or attended) began
    more than RETENTION_LEAVER_DAYS ago, or who never had any. The directory keeps no leaving
    date, so the last training is the last time the service had reason to hold their name."""
    cutoff = now - dt.timedelta(days=settings.RETENTION_LEAVER_DAYS)
    expired = (
        StaffMember.objects.filter(active=False)
        .exclude(work_email__endswith=f"@{ERASED_EMAIL_DOMAIN}")
        .annotate(last_training=Max("attendances__session__start"))
        .filter(Q(last_training__lt=cutoff) | Q(last_training__isnull=True))
    )
    people = list(expired)
    if not dry_run:
        for person in people:
            staff_pseudonymise(person)
    return len(people)


def access_log_expired_purge(*, now: dt.datetime, dry_run: bool) -> int:
    return access_log_purge(now=now, retention_days=settings.RETENTION_ACCESS_LOG_DAYS, dry_run=dry_run)


register_purger("leavers anonymised (training)", leavers_purge)
register_purger("access log entries (training)", access_log_expired_purge)
register_purger("failed sign-ins (training)", lockout.sign_in_failures_purge)
