"""Referrals staff make, managers' audits of them, blind second audits, moderation and the schedule.

Children are never identified here. A referral keeps only a keyed hash of the child's case
reference (see ``practice.hashing``), enough to recognise the same child again for re-referral
counting and nothing more.

Scope rules live in the ``for_user`` queryset methods, as in ``training.models``:

- A manager sees the referrals and audits of the staff in teams they manage, plus any referral
  they have been asked to audit (a blind second audit is often done by a manager of another team
  in the same organisation).
- A workforce lead sees the referrals of their organisations (outcomes are a level 4a measure)
  and audit coverage, but not individual audits' grades and evidence.
- Blindness: while a referral's double audit is incomplete, each of its two auditors sees only
  their own audit; the other one is outside their scope (404) until both are submitted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q

from training.models import Role, User, organisation_ids_for_lead

GRADE_LABELS = {4: "Outstanding", 3: "Good", 2: "Requires improvement", 1: "Inadequate"}


class Route(models.TextChoices):
    FRONT_DOOR = "front_door", "MASH or front door"
    POLICE = "police", "Police"
    HEALTH = "health", "Health"
    SCHOOL = "school", "School"
    OTHER = "other", "Other"


class Concern(models.TextChoices):
    SEXUAL_EXPLOITATION = "cse", "Child sexual exploitation"
    CRIMINAL_EXPLOITATION = "cce", "Child criminal exploitation"
    SEXUAL_ABUSE = "sexual_abuse", "Sexual abuse"
    PHYSICAL_ABUSE = "physical_abuse", "Physical abuse"
    EMOTIONAL_ABUSE = "emotional_abuse", "Emotional abuse"
    NEGLECT = "neglect", "Neglect"
    DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse"
    ONLINE_HARM = "online_harm", "Online harm"
    MISSING = "missing", "Missing from home or care"
    OTHER = "other", "Other"


# Categories that are exploitation: a referral with one of these always carries the flag.
EXPLOITATION_CONCERNS = frozenset({Concern.SEXUAL_EXPLOITATION, Concern.CRIMINAL_EXPLOITATION})


class Outcome(models.TextChoices):
    ACCEPTED = "accepted", "Accepted for assessment"
    STRATEGY = "strategy_s47", "Strategy discussion or section 47 enquiry"
    EARLY_HELP = "early_help", "Early help"
    NFA = "nfa", "No further action"
    SIGNPOSTED = "signposted", "Signposted to other services"
    PENDING = "pending", "Pending"


class ReferralQuerySet(models.QuerySet):
    def for_user(self, user: User) -> ReferralQuerySet:
        if not user.is_authenticated:
            return self.none()
        if user.is_administrator:
            return self
        if user.role == Role.WORKFORCE_LEAD:
            return self.filter(staff__team__organisation_id__in=organisation_ids_for_lead(user))
        if user.role == Role.MANAGER:
            # Exists rather than joins so that a manager of two teams never sees a row twice.
            managed = User.managed_teams.through.objects.filter(
                team_id=OuterRef("staff__team_id"), user_id=user.pk
            )
            assigned = AuditAssignment.objects.filter(referral=OuterRef("pk"), assigned_manager=user)
            audited = Audit.objects.filter(referral=OuterRef("pk"), auditor=user)
            return self.filter(Exists(managed) | Exists(assigned) | Exists(audited))
        return self.none()


class Referral(models.Model):
    staff = models.ForeignKey("training.StaffMember", on_delete=models.PROTECT, related_name="referrals")
    made_on = models.DateField("date made")
    route = models.CharField(max_length=20, choices=Route.choices)
    concerns = models.JSONField(default=list, help_text="Concern category codes, from Concern.")
    exploitation_flag = models.BooleanField(
        "exploitation concern",
        default=False,
        help_text="Sexual or criminal exploitation is a concern (always set when those categories are).",
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.PENDING)
    outcome_on = models.DateField("date of outcome", null=True, blank=True)
    # HMAC-SHA256 of the normalised case reference, hex. Never the reference itself.
    case_hash = models.CharField(max_length=64, db_index=True)
    is_rereferral = models.BooleanField(
        default=False,
        help_text="Another referral for the same child was made in the 12 months before this one.",
    )
    local_label = models.CharField(
        max_length=60,
        blank=True,
        help_text="A note for your team only, such as your own system's number. Not a child's name.",
    )
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set on every save, so that cached impact reports notice an edited outcome or date.
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-made_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome_on__isnull=True) | Q(outcome_on__gte=models.F("made_on")),
                name="referral_outcome_not_before_referral",
            ),
        ]
        indexes = [
            models.Index(fields=["staff", "made_on"]),
            models.Index(fields=["case_hash", "made_on"]),
            # The latest edit, which every report's data stamp reads (see analysis.frames.data_stamp).
            models.Index(fields=["updated_at"]),
        ]

    def __str__(self) -> str:
        return f"Referral {self.pk} by {self.staff} on {self.made_on:%d %b %Y}"

    def get_concerns_display(self) -> list[str]:
        labels = dict(Concern.choices)
        return [labels.get(code, code) for code in self.concerns]


class AuditStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"


class AuditQuerySet(models.QuerySet):
    def for_user(self, user: User) -> AuditQuerySet:
        if not user.is_authenticated:
            return self.none()
        if user.is_administrator:
            return self
        if user.role != Role.MANAGER:
            # Workforce leads read coverage, not individual audits' grades and evidence.
            return self.none()
        managed = User.managed_teams.through.objects.filter(
            team_id=OuterRef("referral__staff__team_id"), user_id=user.pk
        )
        # The two auditors of a referral may compare notes once the blind pair is complete.
        audits_same_referral = Audit.objects.filter(referral=OuterRef("referral"), auditor=user)
        visible = self.filter(Exists(managed) | Q(auditor=user) | Exists(audits_same_referral))
        # Blind double audit: while the pair is incomplete, a user who is one of the two auditors
        # (or has been asked to be the second) must not see the other audit.
        takes_part = Q(
            Exists(audits_same_referral)
            | Exists(
                AuditAssignment.objects.filter(
                    referral=OuterRef("referral"), assigned_manager=user, reason=AuditReason.SECOND
                )
            )
        )
        incomplete = Q(
            Exists(Audit.objects.filter(referral=OuterRef("referral"), status=AuditStatus.DRAFT))
            | ~Exists(Audit.objects.filter(referral=OuterRef("referral"), is_second=True))
        )
        pair_planned = Q(
            Exists(Audit.objects.filter(referral=OuterRef("referral"), is_second=True))
            | Exists(AuditAssignment.objects.filter(referral=OuterRef("referral"), reason=AuditReason.SECOND))
        )
        return visible.exclude(~Q(auditor=user) & takes_part & pair_planned & incomplete)

    def editable_by(self, user: User) -> AuditQuerySet:
        """Audits this user may change while they are drafts: their own, or (first audits only)
        those of their teams' referrals, so a co-manager can finish a colleague's draft."""
        if user.is_administrator:
            return self
        if user.role != Role.MANAGER:
            return self.none()
        managed = User.managed_teams.through.objects.filter(
            team_id=OuterRef("referral__staff__team_id"), user_id=user.pk
        )
        return self.filter(Q(auditor=user) | (Q(is_second=False) & Q(Exists(managed))))


class Audit(models.Model):
    """One manager's grading of one referral against a rubric version.

    ``revision`` is the optimistic-concurrency counter: every save states the revision it
    started from and is refused when someone else has saved since (see ``services.audit_save``).

    ``criterion_grades`` repeats the criterion grades of the audit's answers (in the order of
    ``grading.rubric_items``, encoded by ``grading.criterion_grades_string``), as the overall grade
    and score summarise them, so the impact report reads one short string per audit instead of an
    answer row per criterion (about ten times as many rows). The answers remain the record; an
    audit without stored answers (the largest demo keeps them for a sample of organisations) has
    no criterion grades either, so the report's criteria are always those of the answers.
    """

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="audits")
    auditor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="audits")
    version = models.ForeignKey("surveys.InstrumentVersion", on_delete=models.PROTECT, related_name="audits")
    response = models.OneToOneField("surveys.Response", on_delete=models.PROTECT, related_name="audit")
    is_second = models.BooleanField(default=False, help_text="A blind second audit for moderation.")
    status = models.CharField(max_length=10, choices=AuditStatus.choices, default=AuditStatus.DRAFT)
    overall_grade = models.PositiveSmallIntegerField(null=True, blank=True)
    score_0_100 = models.FloatField("score (0 to 100)", null=True, blank=True)
    criterion_grades = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text=(
            "The grade of each criterion, one digit per criterion in the rubric version's order, 0 "
            "where one was left ungraded; empty for drafts and for audits whose answers are not "
            "stored. Derived from the audit's answers at submission: the answers remain the record."
        ),
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One first audit and at most one (blind) second audit per referral.
            models.UniqueConstraint(
                fields=["referral", "is_second"], name="one_audit_of_each_kind_per_referral"
            ),
            models.CheckConstraint(
                condition=Q(overall_grade__isnull=True) | Q(overall_grade__gte=1, overall_grade__lte=4),
                name="audit_overall_grade_1_to_4",
            ),
            models.CheckConstraint(
                condition=Q(score_0_100__isnull=True) | Q(score_0_100__gte=0, score_0_100__lte=100),
                name="audit_score_0_to_100",
            ),
            # A submitted audit always has its date, grade and score; a draft has none of them.
            models.CheckConstraint(
                condition=(
                    Q(
                        status="submitted",
                        submitted_at__isnull=False,
                        overall_grade__isnull=False,
                        score_0_100__isnull=False,
                    )
                    | Q(status="draft", submitted_at__isnull=True, overall_grade__isnull=True)
                ),
                name="audit_status_matches_results",
            ),
            models.CheckConstraint(condition=Q(revision__gte=1), name="audit_revision_positive"),
            # Not tied to the status: a submitted audit whose answers are not stored has none.
            models.CheckConstraint(
                condition=Q(criterion_grades__regex=r"^[0-4]*$"), name="audit_criterion_grades_digits"
            ),
        ]
        indexes = [
            models.Index(fields=["auditor", "status"]),
            # The latest edit, which every report's data stamp reads (see analysis.frames.data_stamp).
            models.Index(fields=["updated_at"]),
        ]

    def __str__(self) -> str:
        kind = "Second audit" if self.is_second else "Audit"
        return f"{kind} {self.pk} of referral {self.referral_id}"

    def get_overall_grade_display(self) -> str:
        return GRADE_LABELS.get(self.overall_grade, "")


class Moderation(models.Model):
    """The agreed result of a double-audited referral where the two auditors disagreed."""

    referral = models.OneToOneField(Referral, on_delete=models.PROTECT, related_name="moderation")
    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agreed_overall_grade = models.PositiveSmallIntegerField()
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(agreed_overall_grade__gte=1, agreed_overall_grade__lte=4),
                name="moderation_overall_grade_1_to_4",
            )
        ]

    def __str__(self) -> str:
        return f"Moderation of referral {self.referral_id}"

    def get_agreed_overall_grade_display(self) -> str:
        return GRADE_LABELS.get(self.agreed_overall_grade, "")


class ModerationGrade(models.Model):
    moderation = models.ForeignKey(Moderation, on_delete=models.CASCADE, related_name="grades")
    item = models.ForeignKey("surveys.Item", on_delete=models.PROTECT, related_name="+")
    grade = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["moderation", "item"], name="one_agreed_grade_per_criterion"),
            models.CheckConstraint(condition=Q(grade__gte=1, grade__lte=4), name="moderation_grade_1_to_4"),
        ]

    def __str__(self) -> str:
        return f"{self.item.code}: {self.grade}"


class AuditReason(models.TextChoices):
    BASELINE = "baseline", "Baseline (before training)"
    FOLLOW_UP_3M = "follow_up_3m", "Follow-up, about 3 months after training"
    FOLLOW_UP_6M = "follow_up_6m", "Follow-up, about 6 months after training"
    COMPARISON = "comparison", "Comparison (colleague not yet trained)"
    SECOND = "second_audit", "Blind second audit"


class AssignmentStatus(models.TextChoices):
    DUE = "due", "Due"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class AuditAssignmentQuerySet(models.QuerySet):
    def for_user(self, user: User) -> AuditAssignmentQuerySet:
        if not user.is_authenticated:
            return self.none()
        if user.is_administrator:
            return self
        if user.role == Role.WORKFORCE_LEAD:
            return self.filter(referral__staff__team__organisation_id__in=organisation_ids_for_lead(user))
        if user.role == Role.MANAGER:
            managed = User.managed_teams.through.objects.filter(
                team_id=OuterRef("referral__staff__team_id"), user_id=user.pk
            )
            return self.filter(Exists(managed) | Q(assigned_manager=user))
        return self.none()


class AuditAssignment(models.Model):
    """A referral proposed for audit by the schedule, and who should do it by when."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="assignments")
    reason = models.CharField(max_length=20, choices=AuditReason.choices)
    anchor_date = models.DateField(
        null=True,
        blank=True,
        help_text="The training date the sample is timed from (for comparisons, the matched colleague's).",
    )
    compared_with = models.ForeignKey(
        "training.StaffMember",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Comparison samples: the trained colleague this untrained colleague is matched to.",
    )
    due_on = models.DateField()
    assigned_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments"
    )
    status = models.CharField(max_length=10, choices=AssignmentStatus.choices, default=AssignmentStatus.DUE)
    seed = models.BigIntegerField(
        null=True, blank=True, help_text="The random seed of the run that proposed it."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            # A referral is proposed for a first audit once, and for a second audit at most once:
            # this is what makes re-running the schedule safe.
            models.UniqueConstraint(
                fields=["referral"],
                condition=~Q(reason="second_audit"),
                name="one_first_assignment_per_referral",
            ),
            models.UniqueConstraint(
                fields=["referral"],
                condition=Q(reason="second_audit"),
                name="one_second_assignment_per_referral",
            ),
        ]
        indexes = [models.Index(fields=["assigned_manager", "status", "due_on"])]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: referral {self.referral_id}"
