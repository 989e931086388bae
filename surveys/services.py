"""Writes to instruments and responses: versioning, freezing, copying, and scoring on arrival;
then the questionnaire workflow built on it: attaching to sessions, invitations, answering from a
link, reminders."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from surveys.conf import person_key_secret, survey_setting
from surveys.models import (
    FROZEN_VERSION_MESSAGE,
    KNOWLEDGE_KINDS,
    Administration,
    Answer,
    Construct,
    Instrument,
    InstrumentKind,
    InstrumentVersion,
    Invitation,
    InvitationToken,
    Item,
    ItemKind,
    Phase,
    Response,
    Scale,
    ScaleScore,
)
from surveys.options import standard_options
from surveys.scoring import ItemRule, item_score, score_scales
from training.models import TRAINED_STATUSES, Attendance, AttendanceStatus, TrainingSession, User

logger = logging.getLogger(__name__)


def version_latest(instrument: Instrument) -> InstrumentVersion:
    return instrument.versions.order_by("-number").first()


@transaction.atomic
def version_clone(*, version: InstrumentVersion, instrument: Instrument | None = None) -> InstrumentVersion:
    """Copy a version's scales and items into a new, unfrozen version (of the same or another
    instrument). Used both for "edit a frozen version" and for "copy and adapt"."""
    target = instrument or version.instrument
    last = target.versions.order_by("-number").values_list("number", flat=True).first() or 0
    new = InstrumentVersion.objects.create(instrument=target, number=last + 1)
    scale_map = {}
    for scale in version.scales.all():
        scale_map[scale.pk] = Scale.objects.create(
            version=new,
            code=scale.code,
            name=scale.name,
            construct=scale.construct,
            min_answered_share=scale.min_answered_share,
        )
    Item.objects.bulk_create(
        Item(
            version=new,
            scale=scale_map.get(item.scale_id),
            position=item.position,
            code=item.code,
            text=item.text,
            help_text=item.help_text,
            kind=item.kind,
            options=item.options,
            correct_answer=item.correct_answer,
            reverse_coded=item.reverse_coded,
            required=item.required,
        )
        for item in version.items.all()
    )
    return new


def version_for_editing(*, instrument: Instrument) -> InstrumentVersion:
    """The version edits should go to: the latest if nobody has answered it, else a fresh copy."""
    latest = version_latest(instrument)
    if latest is None:
        return InstrumentVersion.objects.create(instrument=instrument, number=1)
    if latest.is_frozen:
        return version_clone(version=latest)
    return latest


def version_freeze(*, version: InstrumentVersion) -> None:
    """Freeze once; a conditional update so concurrent first responses cannot both 'freeze'."""
    InstrumentVersion.objects.filter(pk=version.pk, frozen_at__isnull=True).update(frozen_at=timezone.now())
    version.refresh_from_db(fields=["frozen_at"])


def ensure_editable(version: InstrumentVersion) -> None:
    if version.is_frozen or InstrumentVersion.objects.filter(pk=version.pk, frozen_at__isnull=False).exists():
        raise ValidationError(FROZEN_VERSION_MESSAGE)


@transaction.atomic
def instrument_copy(*, instrument: Instrument, owner, name: str = "") -> Instrument:
    """Copy an instrument's latest version into a new instrument that the owner can adapt."""
    name = name or f"{instrument.name} (copy)"
    base, slug, n = slugify(name)[:70], slugify(name)[:70], 2
    while Instrument.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    copy = Instrument.objects.create(
        name=name,
        slug=slug,
        kind=instrument.kind,
        description=instrument.description,
        owner=owner,
        copied_from=instrument,
    )
    version_clone(version=version_latest(instrument), instrument=copy)
    return copy


def _validate_answer(item: Item, value: str) -> str | None:
    """An error message for a bad answer, or None."""
    if item.kind == ItemKind.FREE_TEXT or value == "":
        return None
    allowed = {str(option["value"]) for option in item.options} if item.options else None
    if allowed is not None and value not in allowed:
        return "Choose one of the options."
    if item.kind not in KNOWLEDGE_KINDS:
        try:
            item_score(ItemRule(item.pk, item.scale_id, item.kind), value)
        except ValueError as exc:
            return str(exc)
    return None


def version_items(*, version: InstrumentVersion) -> list[Item]:
    """Every item of a version with its scale, in order: one query that the submission path reads
    once and passes down (validation, storing and scoring all need the same items)."""
    return list(version.items.select_related("scale").order_by("position"))


def answers_validate(
    *, version: InstrumentVersion, values: Mapping[str, str], items: Sequence[Item] | None = None
) -> dict[str, str]:
    """Check answers keyed by item code. Returns {item code: error message} (empty when valid).
    ``items``: the version's items, when the caller has read them already."""
    items = version_items(version=version) if items is None else items
    errors = {}
    for item in items:
        value = str(values.get(item.code, "")).strip()
        if item.required and value == "":
            errors[item.code] = (
                "Answer this question." if item.kind != ItemKind.RUBRIC_4 else "Choose a grade."
            )
            continue
        if item.kind != ItemKind.FREE_TEXT and (message := _validate_answer(item, value)):
            errors[item.code] = message
    unknown = set(values) - {item.code for item in items}
    for code in unknown:
        errors[code] = "This question is not part of the questionnaire."
    return errors


def _scores_store(
    *, response: Response, items: Sequence[Item], answers: Mapping[int, str]
) -> list[ScaleScore]:
    """Score ``answers`` (item id -> value as stored) and store one ScaleScore per scale. The
    minimum answered share comes from each item's scale (select_related): a scale without items
    has no score, so no other scale is needed."""
    rules = [ItemRule(i.pk, i.scale_id, i.kind, i.reverse_coded, i.correct_answer) for i in items]
    min_share = {i.scale_id: float(i.scale.min_answered_share) for i in items if i.scale_id is not None}
    return ScaleScore.objects.bulk_create(
        ScaleScore(
            response=response, scale_id=r.scale_id, score=r.score, n_answered=r.n_answered, n_items=r.n_items
        )
        for r in score_scales(rules, min_share, answers)
    )


def response_score(*, response: Response) -> list[ScaleScore]:
    """(Re)compute and store the scale scores of a stored response from its stored answers."""
    items = version_items(version=response.version)
    answers = dict(response.answers.values_list("item_id", "value"))
    ScaleScore.objects.filter(response=response).delete()
    return _scores_store(response=response, items=items, answers=answers)


@transaction.atomic
def response_save(
    *,
    version: InstrumentVersion,
    values: Mapping[str, str],
    texts: Mapping[str, str] | None = None,
    response: Response | None = None,
    submit: bool = True,
    items: Sequence[Item] | None = None,
    invitation: Invitation | None = None,
) -> Response:
    """Store answers (keyed by item code) and, when submitting, freeze the version and store
    the scale scores. ``texts`` holds free text or evidence comments by item code.

    ``items`` are the version's items with their scales (``version_items``) when the caller has
    read them already; ``invitation`` links a new response to the invitation it answers (the
    database refuses a second one with IntegrityError, see invitation_respond).

    Raises ValidationError with a dict of item code -> message when any answer is invalid;
    nothing is stored in that case.
    """
    items = version_items(version=version) if items is None else items
    errors = answers_validate(version=version, values=values, items=items) if submit else {}
    if errors:
        raise ValidationError(errors)
    texts = texts or {}
    by_code = {item.code: item for item in items}
    submitted_at = timezone.now() if submit else None
    if response is None:
        # New: nothing stored yet to replace, and submitted from the start.
        response = Response.objects.create(version=version, invitation=invitation, submitted_at=submitted_at)
    else:
        # A draft saved again (audits): its answers are replaced, and on submission its scores.
        Answer.objects.filter(response=response).delete()
        if submit:
            ScaleScore.objects.filter(response=response).delete()
            response.submitted_at = submitted_at
            response.save(update_fields=["submitted_at"])
    answers = Answer.objects.bulk_create(
        Answer(
            response=response,
            item=by_code[code],
            value=str(values.get(code, "")).strip() if by_code[code].kind != ItemKind.FREE_TEXT else "",
            text=(
                texts.get(code) or (values.get(code, "") if by_code[code].kind == ItemKind.FREE_TEXT else "")
            ).strip(),
        )
        for code in by_code
        if str(values.get(code, "")).strip() or str(texts.get(code, "")).strip()
    )
    # Any stored answer, even a draft, pins the wording it was given against. A version already
    # frozen stays frozen, so only the first response needs the conditional UPDATE.
    if not version.is_frozen:
        version_freeze(version=version)
    if submit:
        # Scored from the values just stored, as response_score would read them back.
        _scores_store(response=response, items=items, answers={a.item_id: a.value for a in answers})
    return response


# --- Adapting a copied questionnaire --------------------------------------------------------------


def instrument_can_edit(*, user: User, instrument: Instrument) -> bool:
    """The default instrument is never edited in place (trainers copy it); copies belong to their owner."""
    if instrument.is_default:
        return False
    return user.is_administrator or (instrument.owner_id is not None and instrument.owner_id == user.pk)


def _editable_version(*, user: User, instrument: Instrument) -> InstrumentVersion:
    if not instrument_can_edit(user=user, instrument=instrument):
        raise PermissionDenied("Only the owner of a copied questionnaire can change it.")
    version = version_for_editing(instrument=instrument)
    ensure_editable(version)
    return version


def _item_options(*, kind: str, options: list[dict[str, str]] | None) -> list[dict[str, str]]:
    if kind == ItemKind.SINGLE_CHOICE:
        if not options or len([o for o in options if o["value"] != "dk"]) < 2:
            raise ValidationError({"options": "Give at least two options."})
        return options
    return standard_options(kind)


def _check_knowledge_answer(*, kind: str, options: list[dict[str, str]], correct_answer: str) -> str:
    if kind not in KNOWLEDGE_KINDS:
        return ""
    values = {o["value"] for o in options if o["value"] != "dk"}
    if correct_answer not in values:
        raise ValidationError({"correct_answer": "Say which option is the correct answer."})
    return correct_answer


@transaction.atomic
def item_update(
    *,
    instrument: Instrument,
    code: str,
    by: User,
    text: str,
    help_text: str = "",
    options: list[dict[str, str]] | None = None,
    correct_answer: str = "",
    reverse_coded: bool = False,
    required: bool = False,
) -> Item:
    """Change one question. If the current version has been answered, this makes a new version."""
    version = _editable_version(user=by, instrument=instrument)
    item = version.items.get(code=code)
    item.text, item.help_text = text, help_text
    item.options = _item_options(kind=item.kind, options=options)
    item.correct_answer = _check_knowledge_answer(
        kind=item.kind, options=item.options, correct_answer=correct_answer
    )
    # Reverse coding only means something for items scored on a scale of points.
    item.reverse_coded = reverse_coded and item.kind not in (*KNOWLEDGE_KINDS, ItemKind.FREE_TEXT)
    item.required = required
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def item_add(
    *,
    instrument: Instrument,
    by: User,
    code: str,
    kind: str,
    scale_code: str,
    text: str,
    help_text: str = "",
    options: list[dict[str, str]] | None = None,
    correct_answer: str = "",
    reverse_coded: bool = False,
    required: bool = False,
) -> Item:
    version = _editable_version(user=by, instrument=instrument)
    code = slugify(code).replace("-", "_")
    if not code:
        raise ValidationError({"code": "Enter a short code of letters, numbers and underscores."})
    if version.items.filter(code=code).exists():
        raise ValidationError({"code": "Another question already has this code."})
    scale = None
    if scale_code:
        scale = version.scales.filter(code=scale_code).first()
        if scale is None:
            raise ValidationError({"scale_code": "Choose one of this questionnaire's scales."})
    if kind == ItemKind.FREE_TEXT and scale is not None:
        raise ValidationError({"scale_code": "Free-text questions are not scored: choose no scale."})
    final_options = _item_options(kind=kind, options=options)
    item = Item(
        version=version,
        scale=scale,
        position=(version.items.aggregate(m=Max("position"))["m"] or 0) + 1,
        code=code,
        text=text,
        help_text=help_text,
        kind=kind,
        options=final_options,
        correct_answer=_check_knowledge_answer(
            kind=kind, options=final_options, correct_answer=correct_answer
        ),
        reverse_coded=reverse_coded and kind not in (*KNOWLEDGE_KINDS, ItemKind.FREE_TEXT),
        required=required,
    )
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def item_remove(*, instrument: Instrument, code: str, by: User) -> InstrumentVersion:
    version = _editable_version(user=by, instrument=instrument)
    deleted, _ = version.items.filter(code=code).delete()
    if not deleted:
        raise ValidationError("That question is not in the current version.")
    if not version.items.exists():
        raise ValidationError("A questionnaire needs at least one question.")
    return version


# --- Administrations: when a session's questionnaires are open ------------------------------------


def administration_windows(
    *, session: TrainingSession, follow_up_offsets: Iterable[int]
) -> list[tuple[str, int, dt.datetime, dt.datetime]]:
    """(phase, offset_days, opens_at, closes_at) for the pre, the post and each follow-up."""
    day = dt.timedelta(days=1)
    pre_opens = session.start - survey_setting("SURVEY_PRE_OPENS_DAYS_BEFORE") * day
    windows = [
        (Phase.PRE, 0, pre_opens, session.start),
        (Phase.POST, 0, session.start, session.end + survey_setting("SURVEY_POST_OPEN_DAYS") * day),
    ]
    open_days = survey_setting("SURVEY_FOLLOW_UP_OPEN_DAYS") * day
    for offset in sorted(set(follow_up_offsets)):
        opens = session.end + offset * day
        windows.append((Phase.FOLLOW_UP, offset, opens, opens + open_days))
    return windows


def instruments_available(*, user: User):
    """Questionnaires a user may attach or copy: the defaults, their own copies, or all for administrators."""
    instruments = Instrument.objects.filter(kind=InstrumentKind.QUESTIONNAIRE)
    if user.is_administrator:
        return instruments
    return instruments.filter(Q(is_default=True) | Q(owner=user))


@transaction.atomic
def administrations_attach(
    *,
    session: TrainingSession,
    instrument: Instrument,
    by: User,
    follow_up_offsets: Iterable[int],
    anonymous: bool = False,
) -> list[Administration]:
    """Give a session its pre, post and follow-up questionnaires, replacing earlier choices as long
    as no invitation has gone out (after that, people have links to the old ones)."""
    if not TrainingSession.objects.managed_by(by).filter(pk=session.pk).exists():
        raise PermissionDenied("You can only add questionnaires to sessions you manage.")
    if not instruments_available(user=by).filter(pk=instrument.pk).exists():
        raise ValidationError({"instrument": "Choose one of your questionnaires or the default."})
    offsets = sorted(set(follow_up_offsets))
    if any(not 1 <= offset <= 730 for offset in offsets):
        raise ValidationError(
            {"follow_up_offsets": "Follow-ups must be between 1 and 730 days after the session."}
        )
    if Invitation.objects.filter(administration__session=session).exists():
        raise ValidationError(
            "Invitations for this session's questionnaires have been sent, so they can no longer be changed."
        )
    version = version_latest(instrument)
    if version is None or not version.items.exists():
        raise ValidationError({"instrument": "This questionnaire has no questions yet."})
    Administration.objects.filter(session=session).delete()
    administrations = [
        Administration(
            session=session,
            phase=phase,
            offset_days=offset,
            version=version,
            opens_at=opens,
            closes_at=closes,
            anonymous=anonymous,
            created_by=by,
        )
        for phase, offset, opens, closes in administration_windows(session=session, follow_up_offsets=offsets)
    ]
    for administration in administrations:
        administration.full_clean(exclude=["version", "session", "created_by"])
    return Administration.objects.bulk_create(administrations)


# --- Invitations, links and email ----------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token_issue(*, invitation: Invitation) -> str:
    """A fresh link token; only its digest is stored."""
    token = secrets.token_urlsafe(32)
    InvitationToken.objects.create(invitation=invitation, digest=token_digest(token))
    return token


def person_key(staff_id: int, *, anonymous_session: int | None = None) -> str:
    """A pseudonymous key for exports, which without the secret cannot be turned back into a staff
    record.

    For named questionnaires the same person gets the same key in every phase and session. For an
    anonymous session's questionnaires (``anonymous_session``: its id) the key is derived for that
    session alone: pre, post and follow-ups still match each other, but the key never appears in
    another session's export, so it cannot link anonymous answers to a person's named ones."""
    message = f"staff:{staff_id}" if anonymous_session is None else f"anon:{anonymous_session}:{staff_id}"
    return hmac.new(person_key_secret(), message.encode(), hashlib.sha256).hexdigest()[:16]


def invitation_statuses(phase: str) -> tuple[str, ...]:
    """Who is asked: anyone booked before the session; afterwards, only those who were trained."""
    if phase == Phase.PRE:
        return (AttendanceStatus.BOOKED, *TRAINED_STATUSES)
    return TRAINED_STATUSES


def invitations_create(*, administration: Administration) -> int:
    """One invitation per eligible attendee; safe to repeat (people booked later are added)."""
    staff_ids = Attendance.objects.filter(
        session_id=administration.session_id, status__in=invitation_statuses(administration.phase)
    ).values_list("staff_id", flat=True)
    invited = set(administration.invitations.values_list("staff_id", flat=True))
    created = Invitation.objects.bulk_create(
        [Invitation(administration=administration, staff_id=s) for s in staff_ids if s not in invited],
        ignore_conflicts=True,
    )
    return len(created)


def _email(*, invitation: Invitation, token: str, reminder: bool) -> EmailMessage:
    administration = invitation.administration
    course = administration.session.course.title
    link = settings.SITE_URL.rstrip("/") + reverse("questionnaire", args=[token])
    opt_out = settings.SITE_URL.rstrip("/") + reverse("questionnaire-opt-out", args=[token])
    closes = timezone.localtime(administration.closes_at)
    when = {
        Phase.PRE: "before the session",
        Phase.POST: "now that you have done the training",
        Phase.FOLLOW_UP: f"{administration.offset_days} days after the training",
    }[administration.phase]
    subject = f"{'Reminder: ' if reminder else ''}Questionnaire about {course}"
    body = (
        f"Hello {invitation.staff.name},\n\n"
        f"Please answer a short questionnaire about {course}, {when}. It takes about ten minutes and "
        "helps us find out whether the training makes a difference to children.\n\n"
        f"{link}\n\n"
        "The link is personal to you: please do not forward it. It stops working once you have answered.\n"
        f"The questionnaire closes on {closes:%A %-d %B %Y at %H:%M}.\n"
        "Please do not write the names of children, families or colleagues in your answers.\n\n"
        f"To stop reminders about this questionnaire: {opt_out}\n"
    )
    return EmailMessage(subject, body, to=[invitation.staff.work_email])


def _deliver(message: EmailMessage, connection) -> bool:
    try:
        connection.send_messages([message])
    except Exception:
        # One refused address must not stop everyone else's email; the claim is released so the
        # next run tries again.
        logger.exception("Could not send questionnaire email to invitation recipient")
        return False
    return True


def invitations_send(*, administration: Administration | None = None, now: dt.datetime | None = None) -> int:
    """Email every invitation not yet sent for open administrations (one, or all). Each invitation
    is claimed with a conditional UPDATE first, so overlapping runs never send twice."""
    now = now or timezone.now()
    administrations = Administration.objects.filter(opens_at__lte=now, closes_at__gt=now)
    if administration is not None:
        administrations = administrations.filter(pk=administration.pk)
    sent = 0
    connection = get_connection()
    for current in administrations.select_related("session__course"):
        invitations_create(administration=current)
        pending = current.invitations.filter(sent_at__isnull=True, response__isnull=True)
        for invitation in pending.select_related("staff"):
            with transaction.atomic():
                if not Invitation.objects.filter(pk=invitation.pk, sent_at__isnull=True).update(sent_at=now):
                    continue
                token = _token_issue(invitation=invitation)
            invitation.administration = current
            if _deliver(_email(invitation=invitation, token=token, reminder=False), connection):
                sent += 1
            else:
                Invitation.objects.filter(pk=invitation.pk).update(sent_at=None)
    return sent


def reminders_due(*, now: dt.datetime):
    interval = dt.timedelta(days=survey_setting("SURVEY_REMINDER_INTERVAL_DAYS"))
    return Invitation.objects.filter(
        administration__opens_at__lte=now,
        administration__closes_at__gt=now,
        sent_at__isnull=False,
        response__isnull=True,
        opted_out_at__isnull=True,
        reminder_count__lt=survey_setting("SURVEY_MAX_REMINDERS"),
    ).filter(
        Q(last_reminded_at__isnull=True, sent_at__lte=now - interval)
        | Q(last_reminded_at__lte=now - interval)
    )


def reminders_send(*, now: dt.datetime | None = None) -> int:
    """Remind people who have not answered an open questionnaire, at most SURVEY_MAX_REMINDERS
    times, SURVEY_REMINDER_INTERVAL_DAYS apart, never after it closes or once they opt out.

    Each reminder is claimed by ``UPDATE ... WHERE reminder_count = <what we read>`` before the
    email goes, so when cron runs this twice at once only one run wins each invitation."""
    now = now or timezone.now()
    sent = 0
    connection = get_connection()
    for invitation in reminders_due(now=now).select_related("staff", "administration__session__course"):
        with transaction.atomic():
            # "Not answered" as NOT EXISTS, not response__isnull: a condition through a join makes
            # Django move the whole WHERE into a pk IN (subquery), which PostgreSQL does not
            # re-check against a row a concurrent run has just updated, so both runs would claim it.
            claimed = Invitation.objects.filter(
                ~Exists(Response.objects.filter(invitation=OuterRef("pk"))),
                pk=invitation.pk,
                reminder_count=invitation.reminder_count,
                opted_out_at__isnull=True,
            ).update(reminder_count=F("reminder_count") + 1, last_reminded_at=now)
            if not claimed:
                continue
            token = _token_issue(invitation=invitation)
        if _deliver(_email(invitation=invitation, token=token, reminder=True), connection):
            sent += 1
        else:
            Invitation.objects.filter(pk=invitation.pk, reminder_count=invitation.reminder_count + 1).update(
                reminder_count=invitation.reminder_count, last_reminded_at=invitation.last_reminded_at
            )
    return sent


def invitation_opt_out(*, invitation: Invitation, now: dt.datetime | None = None) -> None:
    Invitation.objects.filter(pk=invitation.pk, opted_out_at__isnull=True).update(
        opted_out_at=now or timezone.now()
    )


# --- Answering from a link -----------------------------------------------------------------------


class InvitationState:
    OPEN = "open"
    ANSWERED = "answered"
    NOT_OPEN = "not_open"
    CLOSED = "closed"


class InvitationUnavailable(Exception):
    """The invitation cannot take an answer now: already answered, not yet open, or closed."""

    MESSAGES = {
        InvitationState.ANSWERED: "You have already answered this questionnaire. Thank you.",
        InvitationState.NOT_OPEN: "This questionnaire is not open yet.",
        InvitationState.CLOSED: "This questionnaire has closed.",
    }

    def __init__(self, state: str):
        self.state = state
        super().__init__(self.MESSAGES[state])


def invitation_state(*, invitation: Invitation, now: dt.datetime) -> str:
    administration = invitation.administration
    if invitation.is_answered:
        return InvitationState.ANSWERED
    if now < administration.opens_at:
        return InvitationState.NOT_OPEN
    if now >= administration.closes_at:
        return InvitationState.CLOSED
    return InvitationState.OPEN


FREE_TEXT_MAX_LENGTH = 2000

# Reaction and intention ask about the training itself, so they are left out before it happens.
AFTER_TRAINING_CONSTRUCTS = (Construct.REACTION, Construct.INTENTION)


def items_for_phase(
    *, version: InstrumentVersion, phase: str, items: Sequence[Item] | None = None
) -> list[Item]:
    """The questions asked in a phase, in order. ``items``: the version's items (``version_items``)
    when the caller has read them already."""
    items = version_items(version=version) if items is None else items
    if phase != Phase.PRE:
        return list(items)
    return [i for i in items if i.scale is None or i.scale.construct not in AFTER_TRAINING_CONSTRUCTS]


def invitation_respond(
    *,
    invitation: Invitation,
    values: Mapping[str, str],
    now: dt.datetime | None = None,
    items: Sequence[Item] | None = None,
) -> Response:
    """Store and score one person's answers. Refused (InvitationUnavailable) when already answered
    or outside the window; ValidationError {item code: message} when an answer is invalid.
    ``items``: the version's items with their scales (``version_items``), when the caller (the
    form, which showed them) has read them already.

    The response is inserted with its invitation, and ``Response.invitation`` is unique: when two
    submissions race, the database lets exactly one through and the other's insert fails, so its
    transaction (and nothing else) rolls back and it is refused as already answered."""
    now = now or timezone.now()
    state = invitation_state(invitation=invitation, now=now)
    if state != InvitationState.OPEN:
        raise InvitationUnavailable(state)
    administration = invitation.administration
    version = administration.version
    items = version_items(version=version) if items is None else items
    shown = {i.code for i in items_for_phase(version=version, phase=administration.phase, items=items)}
    message = "This question is not part of this questionnaire."
    problems = {code: message for code in values if code not in shown}
    problems.update(
        {
            code: f"Keep your answer under {FREE_TEXT_MAX_LENGTH} characters."
            for code, value in values.items()
            if len(str(value)) > FREE_TEXT_MAX_LENGTH
        }
    )
    # Report every problem at once, the engine's (required, out of range) with ours.
    problems.update(
        answers_validate(version=version, values={c: values[c] for c in shown & set(values)}, items=items)
    )
    if problems:
        raise ValidationError(problems)
    try:
        response = response_save(
            version=version, values=values, submit=True, items=items, invitation=invitation
        )
    except IntegrityError:
        # response_save's transaction has rolled back. Only the invitation's unique link is
        # expected to fail here; anything else is a bug and goes up as it is.
        if not Response.objects.filter(invitation_id=invitation.pk).exists():
            raise
        raise InvitationUnavailable(InvitationState.ANSWERED) from None
    invitation.response = response
    return response
