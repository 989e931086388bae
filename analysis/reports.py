"""Getting an impact report for a user and a selection, cached until new data arrives."""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.utils import timezone

from analysis.frames import Selection, build_frames, data_stamp
from analysis.impact import ImpactReport, build_report
from training.models import User

CACHE_SECONDS = 6 * 60 * 60


def _scope_key(user: User) -> str:
    # Two users with the same role, organisation and teams see the same data, but keying on the
    # user keeps the rule obvious: a cached report is only ever served to the scope it was built for.
    return f"{user.pk}:{user.role}:{user.organisation_id}:{user.sees_partnership}"


def impact_report_get(
    *, user: User, selection: Selection, use_cache: bool = True, charts: bool = True
) -> ImpactReport:
    """The report for this user and selection. The cache key includes a stamp of the data, so a
    new questionnaire answer, audit, referral or attendance mark makes the next view recompute.

    ``charts=False`` is for the versions that show no drawing (JSON, CSV, spreadsheets): the
    charts' SVG is then left undrawn, which is most of the statistics' time. Either way one report
    is cached per key; one asked for with charts has them drawn (once) before it is stored."""
    stamp = data_stamp()
    key = (
        "impact:" + hashlib.sha256(f"{_scope_key(user)}|{selection.cache_key()}|{stamp}".encode()).hexdigest()
    )
    report = cache.get(key) if use_cache else None
    changed = report is None
    if report is None:
        frames = build_frames(user=user, selection=selection)
        report = build_report(
            frames,
            title="Impact of training",
            scope=selection.describe(),
            generated_at=timezone.now(),
        )
    if charts and report.draw_charts():
        changed = True
    if use_cache and changed:
        cache.set(key, report, CACHE_SECONDS)
    return report
