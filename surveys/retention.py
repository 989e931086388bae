"""Questionnaire answers past their retention period (``RETENTION_QUESTIONNAIRE_DAYS``).

What goes is a training session's questionnaire data as a whole: every response (with its answers
and stored scale scores) and every invitation (with its link tokens) of all the session's
questionnaires, once the last of them closed longer ago than the retention period. Purging by
session, never response by response, keeps together the pre, post and follow-up answers that are
compared with each other, so a purge never leaves someone's post answers without their pre.
Invitations go too: an invitation is what links a person to their answers, and one that said
"answered" with nothing behind it would misstate the response rate. The administrations (which
questionnaire, open when) stay; they hold nothing about anyone.

Audit rubric responses are not questionnaire answers: they go with their referral
(``practice.retention``).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Max

from surveys.models import Administration, Invitation, Response
from training.access_log import access_log_record
from training.models import AccessAction


def questionnaire_answers_purge(*, now: dt.datetime, dry_run: bool) -> int:
    """Returns how many responses were (or, with dry_run, would be) removed. Each session purged
    leaves an access-log entry, so the log shows when its answers went and why."""
    cutoff = now - dt.timedelta(days=settings.RETENTION_QUESTIONNAIRE_DAYS)
    expired_sessions = (
        Administration.objects.values("session_id")
        .annotate(last_closed=Max("closes_at"))
        .filter(last_closed__lt=cutoff)
        .values("session_id")
    )
    invitations = Invitation.objects.filter(administration__session_id__in=expired_sessions)
    by_session: dict[int, list[int]] = {}
    for session_id, response_id in invitations.values_list("administration__session_id", "response"):
        responses = by_session.setdefault(session_id, [])
        if response_id is not None:
            responses.append(response_id)
    if not dry_run:
        for session_id, response_ids in sorted(by_session.items()):
            # Responses first: each one protects its invitation from deletion.
            Response.objects.filter(pk__in=response_ids).delete()
            Invitation.objects.filter(administration__session_id=session_id).delete()
            access_log_record(
                user=None,
                action=AccessAction.DELETE,
                object_type="surveys.response",
                object_id=session_id,
                summary=f"retention purge, responses: {len(response_ids)}",
            )
    return sum(len(response_ids) for response_ids in by_session.values())
