"""Who is trained, on what, and when: the records every later measure hangs on.

Scope rules ("who may see what") live in the ``for_user`` queryset methods below and are used
by every page, API view and selector, so no code path can forget them.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse


class Role(models.TextChoices):
    TRAINER = "trainer", "Trainer"
    MANAGER = "manager", "Manager"
    WORKFORCE_LEAD = "workforce_lead", "Workforce lead"
    ADMINISTRATOR = "administrator", "Administrator"


class Profession(models.TextChoices):
    SOCIAL_WORKER = "social_worker", "Social worker"
    FAMILY_SUPPORT = "family_support", "Family support or early help worker"
    POLICE = "police", "Police officer or staff"
    HEALTH_VISITOR = "health_visitor", "Health visitor or school nurse"
    NURSE = "nurse", "Nurse or midwife"
    DOCTOR = "doctor", "Doctor"
    TEACHER = "teacher", "Teacher or school staff"
    YOUTH_WORKER = "youth_worker", "Youth worker"
    OTHER = "other", "Other"


class User(AbstractUser):
    """A person who signs in. Trainees do not need an account: they answer from a link."""

    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    organisation = models.ForeignKey(
        "training.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text="The organisation this person works for. Workforce leads see its data.",
    )
    sees_partnership = models.BooleanField(
        default=False,
        help_text="Workforce leads only: also see every organisation in this organisation's partnership.",
    )

    objects = UserManager()

    @property
    def is_administrator(self) -> bool:
        return self.is_superuser or self.role == Role.ADMINISTRATOR

    def has_role(self, *roles: str) -> bool:
        return self.is_administrator or self.role in roles


def organisation_ids_for_lead(user: User) -> models.QuerySet:
    """Organisations a workforce lead sees: their own, plus their partnership's if allowed."""
    if user.organisation_id is None:
        return Organisation.objects.none().values("id")
    own = Q(id=user.organisation_id)
    if user.sees_partnership and user.organisation.partnership_id:
        own |= Q(partnership_id=user.organisation.partnership_id)
    return Organisation.objects.filter(own).values("id")


def organisation_ids_for_trainer(user: User) -> models.QuerySet:
    """Trainers book staff from across the partnership they train for."""
    if user.organisation_id is None:
        return Organisation.objects.none().values("id")
    if user.organisation.partnership_id:
        return Organisation.objects.filter(partnership_id=user.organisation.partnership_id).values("id")
    return Organisation.objects.filter(id=user.organisation_id).values("id")


class Partnership(models.Model):
    """A local safeguarding children partnership: several agencies working as one."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OrganisationQuerySet(models.QuerySet):
    def for_user(self, user: User) -> OrganisationQuerySet:
        if not user.is_authenticated:
            return self.none()
        if user.is_administrator:
            return self
        if user.role == Role.WORKFORCE_LEAD:
            return self.filter(id__in=organisation_ids_for_lead(user))
        if user.role == Role.MANAGER:
            return self.filter(id__in=Team.objects.filter(managers=user).values("organisation_id"))
        if user.role == Role.TRAINER:
            return self.filter(id__in=organisation_ids_for_trainer(user))
        return self.none()


class Organisation(models.Model):
    class Kind(models.TextChoices):
        CHILDRENS_SERVICES = "childrens_services", "Local authority children's services"
        POLICE = "police", "Police force"
        HEALTH = "health", "Health"
        EDUCATION = "education", "Education"
        VOLUNTARY = "voluntary", "Voluntary sector"
        OTHER = "other", "Other"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    partnership = models.ForeignKey(
        Partnership, null=True, blank=True, on_delete=models.SET_NULL, related_name="organisations"
    )

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamQuerySet(models.QuerySet):
    def for_user(self, user: User) -> TeamQuerySet:
        if not user.is_authenticated:
            return self.none()
        if user.is_administrator:
            return self
        if user.role == Role.WORKFORCE_LEAD:
            return self.filter(organisation_id__in=organisation_ids_for_lead(user))
        if user.role == Role.MANAGER:
            return self.filter(managers=user)
        if user.role == Role.TRAINER:
            return self.filter(organisation_id__in=organisation_ids_for_trainer(user))
        return self.none()


class Team(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    managers = models.ManyToManyField(User, blank=True, related_name="managed_teams")

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="team_name_unique_in_organisation")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation.name})"


class StaffMemberQuerySet(models.QuerySet):
    def for_user(self, user: User) -> StaffMemberQuerySet:
        if not user.is_authenticated:
            return self.none()
        if user.is_administrator:
            return self
        if user.role == Role.WORKFORCE_LEAD:
            return self.filter(team__organisation_id__in=organisation_ids_for_lead(user))
        if user.role == Role.MANAGER:
            return self.filter(team__managers=user)
        if user.role == Role.TRAINER:
            return self.filter(team__organisation_id__in=organisation_ids_for_trainer(user))
        return self.none()


class StaffMember(models.Model):
    """Someone in the workforce who is trained. Most never sign in."""

    name = models.CharField(max_length=200)
    work_email = models.EmailField(unique=True)
    profession = models.CharField(max_length=30, choices=Profession.choices)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="staff")
    start_date_in_role = models.DateField(null=True, blank=True)
    active = models.BooleanField(default=True)
    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="staff_record"
    )

    objects = StaffMemberQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "staff member"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("staff-detail", args=[self.pk])


class Topic(models.TextChoices):
    CSE = "cse", "Child sexual exploitation"
    CRIMINAL_EXPLOITATION = "cce", "Child criminal exploitation"
    NEGLECT = "neglect", "Neglect"
    DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse"
    ONLINE_HARM = "online_harm", "Online harm"
    REFERRALS = "referrals", "Making good referrals"
    GENERAL = "general", "Safeguarding (general)"


class DeliveryMode(models.TextChoices):
    FACE_TO_FACE = "face_to_face", "Face to face"
    LIVE_ONLINE = "live_online", "Live online"
    E_LEARNING = "e_learning", "E-learning"
    BLENDED = "blended", "Blended"


def _trainer_courses(user: User) -> Q:
    return Q(owner=user) | Q(trainers=user)


class CourseQuerySet(models.QuerySet):
    def for_user(self, user: User) -> CourseQuerySet:
        if not user.is_authenticated:
            return self.none()
        if user.is_administrator:
            return self
        if user.role == Role.TRAINER:
            delivers = TrainingSession.objects.filter(course=OuterRef("pk"), trainer=user)
            assigned = Course.trainers.through.objects.filter(course=OuterRef("pk"), user=user)
            return self.filter(Q(owner=user) | Exists(assigned) | Exists(delivers))
        if user.role == Role.WORKFORCE_LEAD:
            orgs = organisation_ids_for_lead(user)
            attended = Attendance.objects.filter(
                session__course=OuterRef("pk"), staff__team__organisation_id__in=orgs
            )
            return self.filter(Q(organisation_id__in=orgs) | Exists(attended))
        if user.role == Role.MANAGER:
            attended = Attendance.objects.filter(session__course=OuterRef("pk"), staff__team__managers=user)
            return self.filter(Exists(attended))
        return self.none()

    def managed_by(self, user: User) -> CourseQuerySet:
        """Courses this user may change: their own or ones they are assigned to."""
        if not user.is_authenticated:
            return self.none()
        if user.is_administrator:
            return self
        if user.role != Role.TRAINER:
            return self.none()
        assigned = Course.trainers.through.objects.filter(course=OuterRef("pk"), user=user)
        return self.filter(Q(owner=user) | Exists(assigned))


class Course(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True, help_text="Used in web addresses and exports.")
    topic = models.CharField(max_length=30, choices=Topic.choices)
    learning_outcomes = models.TextField(
        blank=True, help_text="What people should know or do differently afterwards, one per line."
    )
    target_professions = models.JSONField(
        default=list, blank=True, help_text="Professions the course is written for."
    )
    delivery_mode = models.CharField(max_length=20, choices=DeliveryMode.choices)
    duration_hours = models.DecimalField(max_digits=5, decimal_places=1)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="courses",
        help_text="The organisation that provides the course.",
    )
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="owned_courses")
    trainers = models.ManyToManyField(User, blank=True, related_name="assigned_courses")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(condition=Q(duration_hours__gt=0), name="course_duration_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("course-detail", args=[self.slug])

    def get_target_professions_display(self) -> list[str]:
        labels = dict(Profession.choices)
        return [labels.get(code, code) for code in self.target_professions]


class TrainingSessionQuerySet(models.QuerySet):
    def for_user(self, user: User) -> TrainingSessionQuerySet:
        if not user.is_authenticated:
            return self.none()
        if user.is_administrator:
            return self
        if user.role == Role.TRAINER:
            assigned = Course.trainers.through.objects.filter(course=OuterRef("course_id"), user=user)
            return self.filter(Q(course__owner=user) | Q(trainer=user) | Exists(assigned))
        if user.role == Role.WORKFORCE_LEAD:
            orgs = organisation_ids_for_lead(user)
            attended = Attendance.objects.filter(
                session=OuterRef("pk"), staff__team__organisation_id__in=orgs
            )
            return self.filter(Q(course__organisation_id__in=orgs) | Exists(attended))
        if user.role == Role.MANAGER:
            attended = Attendance.objects.filter(session=OuterRef("pk"), staff__team__managers=user)
            return self.filter(Exists(attended))
        return self.none()

    def managed_by(self, user: User) -> TrainingSessionQuerySet:
        """Sessions this user may change: on courses they manage, or ones they deliver."""
        if not user.is_authenticated:
            return self.none()
        if user.is_administrator:
            return self
        if user.role != Role.TRAINER:
            return self.none()
        assigned = Course.trainers.through.objects.filter(course=OuterRef("course_id"), user=user)
        return self.filter(Q(course__owner=user) | Q(trainer=user) | Exists(assigned))


class TrainingSession(models.Model):
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="sessions")
    start = models.DateTimeField()
    end = models.DateTimeField()
    trainer = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="delivered_sessions"
    )
    venue = models.CharField(max_length=200, blank=True)
    online_link = models.URLField(blank=True)
    capacity = models.PositiveIntegerField(default=20)

    objects = TrainingSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-start"]
        verbose_name = "training session"
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="session_ends_after_start"),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="session_capacity_positive"),
        ]
        indexes = [models.Index(fields=["course", "start"])]

    def __str__(self) -> str:
        return f"{self.course.title}, {self.start:%d %b %Y}"

    def get_absolute_url(self) -> str:
        return reverse("session-detail", args=[self.pk])


class AttendanceStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    ATTENDED = "attended", "Attended"
    PARTIAL = "partial", "Attended part"
    NO_SHOW = "no_show", "Did not attend"
    CANCELLED = "cancelled", "Cancelled"


# Statuses that count as having received the training, for evaluation.
TRAINED_STATUSES = (AttendanceStatus.ATTENDED, AttendanceStatus.PARTIAL)


class AttendanceQuerySet(models.QuerySet):
    def for_user(self, user: User) -> AttendanceQuerySet:
        if not user.is_authenticated:
            return self.none()
        if user.is_administrator:
            return self
        if user.role == Role.TRAINER:
            return self.filter(session__in=TrainingSession.objects.for_user(user))
        if user.role == Role.WORKFORCE_LEAD:
            return self.filter(staff__team__organisation_id__in=organisation_ids_for_lead(user))
        if user.role == Role.MANAGER:
            return self.filter(staff__team__managers=user)
        return self.none()

    def trained(self) -> AttendanceQuerySet:
        return self.filter(status__in=TRAINED_STATUSES)


class Attendance(models.Model):
    session = models.ForeignKey(TrainingSession, on_delete=models.CASCADE, related_name="attendances")
    staff = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="attendances")
    status = models.CharField(
        max_length=20, choices=AttendanceStatus.choices, default=AttendanceStatus.BOOKED
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = AttendanceQuerySet.as_manager()

    class Meta:
        ordering = ["session", "staff__name"]
        verbose_name_plural = "attendance"
        constraints = [
            models.UniqueConstraint(
                fields=["session", "staff"], name="one_attendance_per_person_per_session"
            ),
        ]
        # The latest change, which every report's data stamp reads (see analysis.frames.data_stamp).
        indexes = [models.Index(fields=["updated_at"])]

    def __str__(self) -> str:
        return f"{self.staff} at {self.session}: {self.get_status_display()}"


class SignInFailure(models.Model):
    """One failed sign-in, kept for the lockout window (training/lockout.py). The username is
    recorded as typed, so an unknown name locks just like a real one and reveals nothing."""

    username = models.CharField(max_length=150, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.username} from {self.ip_address} at {self.at:%Y-%m-%d %H:%M}"


class TOTPDevice(models.Model):
    """An administrator's authenticator (RFC 6238). The secret is stored encrypted and is shown
    only while enrolment is unconfirmed; ``last_used_step`` stops a code being replayed."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    encrypted_secret = models.TextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "authenticator (TOTP)"

    def __str__(self) -> str:
        state = "confirmed" if self.confirmed_at else "enrolment not finished"
        return f"Authenticator for {self.user} ({state})"


class AccessAction(models.TextChoices):
    VIEW = "view", "Viewed"
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    DELETE = "delete", "Deleted or erased"
    EXPORT = "export", "Exported"
    SUBMIT = "submit", "Submitted"


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an access-log entry outside retention."""


class AccessLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The access log is append-only.")

    def delete(self):
        raise AppendOnlyError("The access log is append-only; entries leave only by retention.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("The access log is append-only.")


class AccessLog(models.Model):
    """Who viewed or changed which record, and when. Append-only: the model refuses updates and
    deletes, and on PostgreSQL a trigger (migration 0003) refuses them too, except the retention
    purge in training/access_log.py. Summaries are fixed phrases chosen by code, never free text
    or anything that names a child."""

    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="access_log_entries"
    )
    action = models.CharField(max_length=10, choices=AccessAction.choices)
    object_type = models.CharField(max_length=100, help_text="app_label.model")
    object_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=500, blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "access log entry"
        verbose_name_plural = "access log"
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.object_type} {self.object_id} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("The access log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The access log is append-only; entries leave only by retention.")
