"""One staff member's referrals and the audits of them, for ``training.staff_data`` (export and
erasure on request).

The export holds what is about the person: when they referred, by which route, for which concerns,
the outcome, and how managers graded the referral, with the auditors' evidence comments (their
opinion of the person's work). It leaves out what is about the child: the case-reference hash, the
team's local label (another system's number for the child) and the referral notes. A subject access
request gives the requester their own data, not a third party's.

Erasure keeps the referrals, grades and scores, which count in the aggregate results and point only
at the pseudonymised staff record. It blanks the free text written about the person's work, the
audit evidence comments and moderation notes, where their name may appear.
"""

from __future__ import annotations

from practice.models import Audit, Moderation, Referral
from surveys.models import Answer
from training.models import StaffMember


def _when(value) -> str | None:
    return value.isoformat() if value else None


def _audit(audit: Audit) -> dict:
    return {
        "second_audit": audit.is_second,
        "status": audit.status,
        "overall_grade": audit.get_overall_grade_display() or None,
        "score_0_100": audit.score_0_100,
        "submitted_at": _when(audit.submitted_at),
        "criteria": [
            {"criterion": answer.item.text, "grade": answer.value, "evidence": answer.text}
            for answer in sorted(audit.response.answers.all(), key=lambda a: a.item.position)
        ],
    }


def referrals_export(person: StaffMember) -> list[dict]:
    referrals = (
        Referral.objects.filter(staff=person)
        .select_related("moderation")
        .prefetch_related("audits__response__answers__item")
        .order_by("made_on", "pk")
    )
    exported = []
    for referral in referrals:
        moderation = getattr(referral, "moderation", None)
        exported.append(
            {
                "id": referral.pk,
                "made_on": referral.made_on.isoformat(),
                "route": referral.get_route_display(),
                "concerns": referral.get_concerns_display(),
                "exploitation_flag": referral.exploitation_flag,
                "outcome": referral.get_outcome_display(),
                "outcome_on": _when(referral.outcome_on),
                "is_rereferral": referral.is_rereferral,
                "audits": [
                    _audit(audit) for audit in sorted(referral.audits.all(), key=lambda a: a.is_second)
                ],
                "moderated_grade": moderation.get_agreed_overall_grade_display() if moderation else None,
            }
        )
    return exported


def referral_comments_erase(person: StaffMember) -> int:
    """Returns how many evidence comments and moderation notes were blanked."""
    evidence = Answer.objects.filter(response__audit__referral__staff=person).exclude(text="").update(text="")
    notes = Moderation.objects.filter(referral__staff=person).exclude(note="").update(note="")
    return evidence + notes
