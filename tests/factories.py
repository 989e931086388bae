"""Factories for test data. Each builds a valid object with the fewest decisions made."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from training.models import (
    Attendance,
    AttendanceStatus,
    Course,
    DeliveryMode,
    Organisation,
    Partnership,
    Profession,
    Role,
    StaffMember,
    Team,
    Topic,
    TrainingSession,
    User,
)

TEST_PASSWORD = "a-long-test-password-123"


class PartnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partnership

    name = factory.Sequence(lambda n: f"Partnership {n}")
    slug = factory.Sequence(lambda n: f"partnership-{n}")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"organisation-{n}")
    kind = Organisation.Kind.CHILDRENS_SERVICES
    partnership = factory.SubFactory(PartnershipFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    role = Role.TRAINER
    organisation = factory.SubFactory(OrganisationFactory)
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")

    @factory.post_generation
    def managers(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.managers.set(extracted)


class StaffMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMember

    name = factory.Sequence(lambda n: f"Staff Member {n}")
    work_email = factory.Sequence(lambda n: f"staff{n}@example.org")
    profession = Profession.SOCIAL_WORKER
    team = factory.SubFactory(TeamFactory)
    start_date_in_role = dt.date(2020, 1, 1)


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    title = factory.Sequence(lambda n: f"Course {n}")
    slug = factory.Sequence(lambda n: f"course-{n}")
    topic = Topic.CSE
    delivery_mode = DeliveryMode.FACE_TO_FACE
    duration_hours = Decimal("3.0")
    owner = factory.SubFactory(UserFactory, role=Role.TRAINER)
    organisation = factory.LazyAttribute(lambda o: o.owner.organisation)


class TrainingSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingSession

    course = factory.SubFactory(CourseFactory)
    start = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))
    end = factory.LazyAttribute(lambda o: o.start + dt.timedelta(hours=3))
    trainer = factory.LazyAttribute(lambda o: o.course.owner)
    venue = "Civic Centre"


class AttendanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attendance

    session = factory.SubFactory(TrainingSessionFactory)
    staff = factory.SubFactory(StaffMemberFactory)
    status = AttendanceStatus.ATTENDED


class ReferralFactory(factory.django.DjangoModelFactory):
    """A referral; pass ``case_reference`` (clear, fictional) to control which child it is for."""

    class Meta:
        model = "practice.Referral"
        exclude = ["case_reference"]

    staff = factory.SubFactory(StaffMemberFactory)
    made_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=100))
    route = "front_door"
    concerns = factory.LazyFunction(lambda: ["neglect"])
    outcome = "accepted"
    case_reference = factory.Sequence(lambda n: f"TEST{n:06d}")
    case_hash = factory.LazyAttribute(lambda o: _case_hash(o.case_reference))


def _case_hash(reference: str) -> str:
    from practice.hashing import case_reference_hash

    return case_reference_hash(reference)
