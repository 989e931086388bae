"""The instrument engine: questionnaires and audit rubrics share items, scales, versions and scoring.

An instrument has numbered versions. A version is frozen once anyone has answered it, so every
stored answer always refers to the exact wording it was given against; editing a frozen version
means making a new one. Scale scores are computed once, when a response is submitted, and stored.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class InstrumentKind(models.TextChoices):
    QUESTIONNAIRE = "questionnaire", "Questionnaire"
    AUDIT_RUBRIC = "audit_rubric", "Audit rubric"


class ItemKind(models.TextChoices):
    LIKERT_5 = "likert_5", "Likert, 5 points"
    LIKERT_7 = "likert_7", "Likert, 7 points"
    CONFIDENCE_0_10 = "confidence_0_10", "Confidence, 0 to 10"
    SINGLE_CHOICE = "single_choice", "Knowledge question (one correct answer)"
    TRUE_FALSE = "true_false", "True or false"
    FREE_TEXT = "free_text", "Free text"
    RUBRIC_4 = "rubric_4", "Audit criterion, 4 grades"


# The numeric range of each scored kind: (lowest, highest). Knowledge kinds score 0 or 1.
ITEM_KIND_RANGE: dict[str, tuple[int, int]] = {
    ItemKind.LIKERT_5: (1, 5),
    ItemKind.LIKERT_7: (1, 7),
    ItemKind.CONFIDENCE_0_10: (0, 10),
    ItemKind.RUBRIC_4: (1, 4),
    ItemKind.SINGLE_CHOICE: (0, 1),
    ItemKind.TRUE_FALSE: (0, 1),
}
KNOWLEDGE_KINDS = (ItemKind.SINGLE_CHOICE, ItemKind.TRUE_FALSE)


class Construct(models.TextChoices):
    """What a scale measures, mapped to the evaluation levels in DESIGN.md."""

    REACTION = "reaction", "Reaction (level 1)"
    INTENTION = "intention", "Intention to apply (level 1)"
    ATTITUDES = "attitudes", "Attitudes (level 2a)"
    KNOWLEDGE = "knowledge", "Knowledge (level 2b)"
    CONFIDENCE = "confidence", "Confidence (level 2b)"
    REFERRAL_QUALITY = "referral_quality", "Referral quality (level 3)"
    OTHER = "other", "Other"


class Instrument(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=InstrumentKind.choices)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="instruments"
    )
    is_default = models.BooleanField(
        default=False, help_text="Written for this project and offered to every trainer to copy."
    )
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class InstrumentVersion(models.Model):
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    frozen_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when the first response arrives; a frozen version never changes.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["instrument", "number"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "number"], name="instrument_version_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="instrument_version_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument.name} v{self.number}"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


FROZEN_VERSION_MESSAGE = (
    "This version has responses and is frozen. Edit the instrument to make a new version."
)


class VersionPart(models.Model):
    """A scale or an item: part of one version, and unchangeable once that version is frozen.

    The services never write to a frozen version (they clone it first, see version_for_editing),
    so this guard is for every other way in, the admin and any ModelForm: it is an invariant of
    the data, like a constraint, not a workflow. Bulk queryset writes bypass it, as they bypass
    ``save()``; the services check ``ensure_editable`` before those."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self.in_frozen_version():
            raise ValidationError(FROZEN_VERSION_MESSAGE)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.in_frozen_version():
            raise ValidationError(FROZEN_VERSION_MESSAGE)
        return super().delete(*args, **kwargs)

    def in_frozen_version(self) -> bool:
        """True when the version this is saved to, or (for a stored row) the one it is in, is frozen:
        moving an item out of a frozen version would change that version too."""
        versions = Q(pk=self.version_id)
        if self.pk is not None:
            versions |= Q(pk__in=type(self)._base_manager.filter(pk=self.pk).values("version_id"))
        return InstrumentVersion.objects.filter(versions, frozen_at__isnull=False).exists()

    def clean(self) -> None:
        super().clean()
        if self.version_id is not None and self.in_frozen_version():
            raise ValidationError(FROZEN_VERSION_MESSAGE)


class Scale(VersionPart):
    """A group of items scored together: a mean after reverse coding, or % correct for knowledge."""

    version = models.ForeignKey(InstrumentVersion, on_delete=models.CASCADE, related_name="scales")
    code = models.SlugField(max_length=50)
    name = models.CharField(max_length=200)
    construct = models.CharField(max_length=20, choices=Construct.choices)
    min_answered_share = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=0.80,
        help_text="A score needs at least this share of the scale's items answered.",
    )

    class Meta:
        ordering = ["version", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="scale_code_unique_in_version"),
            models.CheckConstraint(
                condition=Q(min_answered_share__gt=0, min_answered_share__lte=1),
                name="scale_min_share_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Item(VersionPart):
    version = models.ForeignKey(InstrumentVersion, on_delete=models.CASCADE, related_name="items")
    scale = models.ForeignKey(Scale, null=True, blank=True, on_delete=models.SET_NULL, related_name="items")
    position = models.PositiveIntegerField()
    code = models.SlugField(max_length=50)
    text = models.TextField()
    help_text = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=ItemKind.choices)
    # Labelled points or choices, in order: [{"value": "1", "label": "Strongly disagree"}, ...].
    # For audit criteria the label is the grade and "descriptor" says what the grade looks like.
    options = models.JSONField(default=list, blank=True)
    correct_answer = models.CharField(
        max_length=50, blank=True, help_text="Knowledge items: the right value."
    )
    reverse_coded = models.BooleanField(
        default=False, help_text="Agreeing shows less of what the scale measures (e.g. victim-blaming)."
    )
    required = models.BooleanField(default=False)

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="item_code_unique_in_version"),
            models.UniqueConstraint(fields=["version", "position"], name="item_position_unique_in_version"),
            models.CheckConstraint(
                condition=~Q(kind__in=["single_choice", "true_false"]) | ~Q(correct_answer=""),
                name="knowledge_item_has_correct_answer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.text[:60]}"


class Response(models.Model):
    """One completed (or, for audits, drafted) set of answers to one instrument version."""

    version = models.ForeignKey(InstrumentVersion, on_delete=models.PROTECT, related_name="responses")
    # A questionnaire answer belongs to one invitation, and the column's unique index is what
    # refuses a second submission of the same invitation, however it arrives (two tabs, a retry,
    # two app servers at once). Empty for audit rubric responses, which belong to their audit.
    # PROTECT: an answered invitation is deleted only after its response (retention does both).
    invitation = models.OneToOneField(
        "Invitation", null=True, blank=True, on_delete=models.PROTECT, related_name="response"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["version", "submitted_at"])]

    def __str__(self) -> str:
        state = "submitted" if self.submitted_at else "draft"
        return f"Response {self.pk} to {self.version} ({state})"


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="answers")
    value = models.CharField(max_length=50, blank=True, help_text="The chosen option's value, as given.")
    text = models.TextField(blank=True, help_text="Free text, or an audit criterion's evidence comment.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "item"], name="one_answer_per_item")]

    def __str__(self) -> str:
        return f"{self.item.code} = {self.value or self.text[:30]}"


class ScaleScore(models.Model):
    """A scale's score for one response, stored at submission so reports never re-score answers."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="scale_scores")
    scale = models.ForeignKey(Scale, on_delete=models.PROTECT, related_name="scores")
    score = models.FloatField(null=True, help_text="Empty when too few of the scale's items were answered.")
    n_answered = models.PositiveIntegerField()
    n_items = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "scale"], name="one_score_per_scale")]
        indexes = [models.Index(fields=["scale", "response"])]

    def __str__(self) -> str:
        return f"{self.scale.code}: {self.score}"


# --- Questionnaires given to a training session's attendees -------------------------------------


class Phase(models.TextChoices):
    PRE = "pre", "Before the session"
    POST = "post", "After the session"
    FOLLOW_UP = "follow_up", "Follow-up"


class Administration(models.Model):
    """One sitting of a questionnaire for one session: before, just after, or a follow-up.

    The administration pins an instrument *version*, so pre, post and follow-ups answered months
    apart are scored against the same wording even if the instrument is edited in between.
    """

    session = models.ForeignKey(
        "training.TrainingSession", on_delete=models.CASCADE, related_name="administrations"
    )
    phase = models.CharField(max_length=10, choices=Phase.choices)
    offset_days = models.PositiveIntegerField(
        default=0, help_text="Follow-ups only: days after the session ends when the questionnaire opens."
    )
    version = models.ForeignKey(InstrumentVersion, on_delete=models.PROTECT, related_name="administrations")
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    anonymous = models.BooleanField(
        default=False,
        help_text="Nobody who signs in can see who answered what; results are shown only in aggregate.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session", "opens_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "phase", "offset_days"], name="one_administration_per_phase_and_offset"
            ),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="administration_closes_after_opening"
            ),
            # Pre and post have no offset; a follow-up always comes some days after the session.
            models.CheckConstraint(
                condition=(
                    Q(phase="follow_up", offset_days__gt=0) | (~Q(phase="follow_up") & Q(offset_days=0))
                ),
                name="administration_offset_matches_phase",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} for {self.session}"

    @property
    def label(self) -> str:
        if self.phase == Phase.FOLLOW_UP:
            return f"Follow-up after {self.offset_days} days"
        return self.get_phase_display()

    @property
    def column(self) -> str:
        """A stable short name for exports: pre, post, follow_up_42."""
        return f"follow_up_{self.offset_days}" if self.phase == Phase.FOLLOW_UP else self.phase

    def is_open(self, at) -> bool:
        return self.opens_at <= at < self.closes_at


class Invitation(models.Model):
    """One person's invitation to one administration. The link's token is stored only as a digest
    (see InvitationToken); the response, once given, points here (``Response.invitation``, unique),
    so an invitation has at most one response and a second one is refused by the database."""

    administration = models.ForeignKey(Administration, on_delete=models.CASCADE, related_name="invitations")
    staff = models.ForeignKey(
        "training.StaffMember", on_delete=models.PROTECT, related_name="questionnaire_invitations"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    reminder_count = models.PositiveSmallIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    opted_out_at = models.DateTimeField(
        null=True, blank=True, help_text="The person asked for no more reminders."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["administration", "id"]
        constraints = [
            models.UniqueConstraint(fields=["administration", "staff"], name="one_invitation_per_person"),
        ]

    def __str__(self) -> str:
        return f"Invitation {self.pk} ({self.administration.label})"

    @property
    def is_answered(self) -> bool:
        """Reads the reverse one-to-one: free when it was select_related, else one query."""
        return hasattr(self, "response")


class InvitationToken(models.Model):
    """A link sent by email. Each email (invitation or reminder) carries a fresh random token and
    only its SHA-256 digest is stored, so a copy of the database gives nobody a working link.
    All of an invitation's links stop working once it is answered."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Link for invitation {self.invitation_id}"
