"""One staff member's questionnaire data, for ``training.staff_data`` (export and erasure on request).

Anonymous questionnaires promise that nobody who signs in can see who answered what. The database
still links each response to its invitation (the before-and-after summary pairs a person's answers),
but an export is read by the administrator who runs it, so it must not break that promise: for an
anonymous questionnaire it says only that the person was invited (which the attendance list already
shows), never whether, when or what they answered, nor their reminders (a reminder count tells when
someone answered). Named questionnaires are exported in full: answers, free text and scale scores.

Erasure keeps scores and answer values, which count in the aggregate results and point only at the
pseudonymised staff record. It blanks the free text of every response the person gave, anonymous or
not, because free text is the one place a person may have written something that identifies them.
The count it returns is of invitations, not of answers changed, so it does not reveal who wrote
free text in an anonymous questionnaire.
"""

from __future__ import annotations

from surveys.models import Answer, Invitation
from training.models import StaffMember


def _when(value) -> str | None:
    return value.isoformat() if value else None


def questionnaire_responses_export(person: StaffMember) -> list[dict]:
    invitations = (
        Invitation.objects.filter(staff=person)
        .select_related("administration__session__course", "response")
        .prefetch_related("response__answers__item", "response__scale_scores__scale")
        .order_by("administration__opens_at", "pk")
    )
    exported = []
    for invitation in invitations:
        administration = invitation.administration
        entry: dict = {
            "course": administration.session.course.title,
            "session_start": administration.session.start.isoformat(),
            "questionnaire": administration.label,
            "anonymous": administration.anonymous,
        }
        if administration.anonymous:
            entry["note"] = "Answered anonymously, if at all: not linked to you in this export."
        else:
            response = getattr(invitation, "response", None)
            entry.update(
                {
                    "sent_at": _when(invitation.sent_at),
                    "reminders": invitation.reminder_count,
                    "opted_out_at": _when(invitation.opted_out_at),
                    "answered_at": _when(response.submitted_at) if response else None,
                    "answers": [
                        {"question": answer.item.text, "answer": answer.value or answer.text}
                        for answer in sorted(response.answers.all(), key=lambda a: a.item.position)
                    ]
                    if response
                    else [],
                    "scores": {score.scale.name: score.score for score in response.scale_scores.all()}
                    if response
                    else {},
                }
            )
        exported.append(entry)
    return exported


def questionnaire_responses_erase(person: StaffMember) -> int:
    invitations = Invitation.objects.filter(staff=person)
    Answer.objects.filter(response__invitation__in=invitations).exclude(text="").update(text="")
    return invitations.count()
