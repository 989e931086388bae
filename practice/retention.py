"""Referrals and their audits past their retention period (``RETENTION_AUDIT_DAYS``).

What goes is a referral as a whole: the referral, its audit schedule entries, its first and second
audits with their rubric answers and stored scores, and its moderation. Nothing is purged piece by
piece: an audit without its referral, or one of a double-audited pair without the other, would
give the reports a graded referral with no date or person, or a half of an agreement statistic.

A referral expires when it was made longer ago than the retention period and nobody has worked on
its audits or moderation since then, so an old referral that was audited late is kept as long as
its audit is.

The purge does not recompute the re-referral flags of the referrals that remain: each records
whether the child had been referred in the 12 months before, which stays true after the earlier
referral is gone.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from practice.models import Audit, Moderation, Referral
from surveys.models import Response
from training.access_log import access_log_record
from training.models import AccessAction

# Referrals are deleted in chunks to keep IN lists within SQLite's variable limit.
CHUNK = 500


def referral_audits_purge(*, now: dt.datetime, dry_run: bool) -> int:
    """Returns how many referrals were (or, with dry_run, would be) removed with their audits.
    Each one leaves an access-log entry naming the referral."""
    cutoff = now - dt.timedelta(days=settings.RETENTION_AUDIT_DAYS)
    worked_on_since = Audit.objects.filter(referral=OuterRef("pk"), updated_at__gte=cutoff)
    moderated_since = Moderation.objects.filter(referral=OuterRef("pk"), created_at__gte=cutoff)
    expired = (
        Referral.objects.filter(made_on__lt=timezone.localdate(cutoff))
        .exclude(Exists(worked_on_since))
        .exclude(Exists(moderated_since))
    )
    ids = sorted(expired.values_list("pk", flat=True))
    if dry_run:
        return len(ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        audits = Audit.objects.filter(referral_id__in=chunk)
        audit_counts = dict.fromkeys(chunk, 0)
        for referral_id in audits.values_list("referral_id", flat=True):
            audit_counts[referral_id] += 1
        response_ids = list(audits.values_list("response_id", flat=True))
        # In the order the PROTECT foreign keys demand: what points at a referral, then the
        # audits' rubric responses (answers and scale scores cascade), then the referrals
        # (their schedule entries cascade).
        Moderation.objects.filter(referral_id__in=chunk).delete()
        audits.delete()
        Response.objects.filter(pk__in=response_ids).delete()
        Referral.objects.filter(pk__in=chunk).delete()
        for referral_id in chunk:
            access_log_record(
                user=None,
                action=AccessAction.DELETE,
                object_type="practice.referral",
                object_id=referral_id,
                summary=f"retention purge, audits: {audit_counts[referral_id]}",
            )
    return len(ids)
