import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone

from surveys import services
from surveys.models import Instrument, ItemKind
from tests.factories import AttendanceFactory, CourseFactory, StaffMemberFactory, TrainingSessionFactory
from training.models import AttendanceStatus


@pytest.fixture
def default_instrument():
    """Loaded by the data migration in every database."""
    return Instrument.objects.get(slug="cse-default")


def valid_answers(items, *, likert="4", confidence="7", knowledge_right=True) -> dict[str, str]:
    values = {}
    for item in items:
        if item.kind in (ItemKind.SINGLE_CHOICE, ItemKind.TRUE_FALSE):
            values[item.code] = item.correct_answer if knowledge_right else "dk"
        elif item.kind == ItemKind.CONFIDENCE_0_10:
            values[item.code] = confidence
        elif item.kind in (ItemKind.LIKERT_5, ItemKind.LIKERT_7):
            values[item.code] = likert
    return values


def answers_for(administration, **kwargs) -> dict[str, str]:
    items = services.items_for_phase(version=administration.version, phase=administration.phase)
    return valid_answers(items, **kwargs)


def tokens_from_outbox() -> dict[str, str]:
    """{recipient email: token} from the links in the emails sent so far (the last one wins)."""
    found = {}
    for message in mail.outbox:
        match = re.search(r"/q/([A-Za-z0-9_-]+)/", message.body)
        found[message.to[0]] = match.group(1)
    return found


@pytest.fixture
def course(trainer):
    return CourseFactory(owner=trainer, title="Exploitation: recognise and refer", slug="cse-course")


@pytest.fixture
def make_session(course, team):
    """A session with attendees: people named so tests can look for their names in output."""

    def make(*, start=None, people=6, status=AttendanceStatus.ATTENDED, the_course=None):
        start = start or timezone.now() - dt.timedelta(days=1)
        session = TrainingSessionFactory(
            course=the_course or course, start=start, end=start + dt.timedelta(hours=6)
        )
        for n in range(people):
            person = StaffMemberFactory(
                team=team,
                name=f"Respondent Person{session.pk}x{n}",
                work_email=f"resp{session.pk}x{n}@council.example",
            )
            AttendanceFactory(session=session, staff=person, status=status)
        return session

    return make


@pytest.fixture
def attach(trainer, default_instrument):
    def attach_to(session, *, anonymous=False, offsets=(42, 91), by=None):
        return services.administrations_attach(
            session=session,
            instrument=default_instrument,
            by=by or trainer,
            follow_up_offsets=offsets,
            anonymous=anonymous,
        )

    return attach_to
