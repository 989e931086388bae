"""What a report covers: every filter (profession, agency, partnership, session, period) narrows
the frames the report is built from, and a period applies to what happened in it (answers,
referrals, audits), never to when people were trained."""

import datetime as dt

import pytest

from analysis import impact
from analysis.frames import build_frames, selection_from_params
from tests.factories import (
    CourseFactory,
    OrganisationFactory,
    StaffMemberFactory,
    TeamFactory,
    UserFactory,
)
from tests.report.scenario import answer_questionnaires, audited_referrals, train
from training.models import Profession, Role

pytestmark = pytest.mark.django_db


def _frames(user, **params):
    return build_frames(user=user, selection=selection_from_params(user=user, params=params))


@pytest.fixture
def course(trainer):
    return CourseFactory(owner=trainer, title="Exploitation basics", slug="exploitation-basics")


# --- the period -----------------------------------------------------------------------------------


@pytest.fixture
def two_waves(team, manager, trainer, course):
    """Six staff trained in January 2025, four in September 2025, four never; a questionnaire
    at each session; audited referrals through 2024 and 2025."""
    staff = [StaffMemberFactory(team=team) for _ in range(14)]
    early, late = staff[:6], staff[6:10]
    first = train(early, course=course, on=dt.date(2025, 1, 6))
    second = train(late, course=course, on=dt.date(2025, 9, 1))
    answer_questionnaires(first, by=trainer)
    answer_questionnaires(second, by=trainer)
    trained_on = {p.pk: dt.date(2025, 1, 6) for p in early} | {p.pk: dt.date(2025, 9, 1) for p in late}
    audited_referrals(staff, auditor=manager, trained_on=trained_on)
    return {"early": early, "late": late, "never": staff[10:], "sessions": (first, second)}


def test_a_period_keeps_staff_trained_before_it_as_trained(two_waves, lead):
    frames = _frames(lead, **{"from": "2025-06-01", "to": "2025-12-31"})
    first = frames.training.set_index("staff")["first_trained"].dt.date
    assert {p.pk: first[p.pk] for p in two_waves["early"]} == {
        p.pk: dt.date(2025, 1, 6) for p in two_waves["early"]
    }
    assert {first[p.pk] for p in two_waves["late"]} == {dt.date(2025, 9, 1)}
    # In the level 3 panel the early wave are trained (first treated before the period's
    # audits), not colleagues "not yet trained".
    audits = frames.audits[~frames.audits["is_second"]]
    origin = min(audits["made_on"].min(), frames.training["first_trained"].min())
    panel = impact._did_panel(audits, frames.training.groupby("staff")["first_trained"].min(), origin)
    cohort = panel.groupby("staff")["first_treated"].first()
    assert (cohort[[p.pk for p in two_waves["early"]]] > 0).all()
    assert (cohort[[p.pk for p in two_waves["never"]]] == 0).all()


def test_a_period_selects_the_answers_referrals_and_audits_made_in_it(two_waves, lead):
    everything = _frames(lead)
    period = _frames(lead, **{"from": "2025-06-01", "to": "2025-12-31"})
    # Answers: only the second session's (its pre opens in August 2025).
    assert set(everything.scores["session"]) == {s.pk for s in two_waves["sessions"]}
    assert set(period.scores["session"]) == {two_waves["sessions"][1].pk}
    assert set(period.invitations["invited"]) == {4}
    made = period.referrals["made_on"].dt.date
    assert made.min() >= dt.date(2025, 6, 1) and made.max() <= dt.date(2025, 12, 31)
    assert len(period.referrals) < len(everything.referrals)
    assert set(period.audits["referral"]) <= set(period.referrals["referral"])


# --- profession, agency, partnership --------------------------------------------------------------


@pytest.fixture
def two_agencies(team, manager, police, partnership, other_org):
    """Social workers in the council's team, police officers in the force, both in one partnership;
    and staff in another partnership altogether."""
    police_team = TeamFactory(organisation=police, name="Public protection", slug="public-protection")
    social_workers = [StaffMemberFactory(team=team, profession=Profession.SOCIAL_WORKER) for _ in range(3)]
    officers = [StaffMemberFactory(team=police_team, profession=Profession.POLICE) for _ in range(3)]
    elsewhere = [StaffMemberFactory(team=TeamFactory(organisation=other_org)) for _ in range(3)]
    audited_referrals(social_workers + officers + elsewhere, auditor=manager, trained_on={}, months=3)
    return {"social_workers": social_workers, "officers": officers, "elsewhere": elsewhere}


def _ids(people):
    return {p.pk for p in people}


def test_profession_filter(two_agencies, admin_user):
    frames = _frames(admin_user, profession=[Profession.POLICE])
    assert set(frames.referrals["staff"]) == _ids(two_agencies["officers"])
    assert set(frames.audits["staff"]) == _ids(two_agencies["officers"])


def test_agency_filter(two_agencies, admin_user):
    frames = _frames(admin_user, agency=["childrens_services"])
    assert set(frames.referrals["staff"]) == _ids(two_agencies["social_workers"]) | _ids(
        two_agencies["elsewhere"]
    )
    frames = _frames(admin_user, agency=["police"])
    assert set(frames.referrals["staff"]) == _ids(two_agencies["officers"])


def test_partnership_filter(two_agencies, admin_user, partnership):
    frames = _frames(admin_user, partnership=partnership.slug)
    assert set(frames.referrals["staff"]) == _ids(two_agencies["social_workers"]) | _ids(
        two_agencies["officers"]
    )


def test_a_lead_cannot_select_a_partnership_they_do_not_see(two_agencies, lead, other_org):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        selection_from_params(user=lead, params={"partnership": other_org.partnership.slug})
    assert "that you can see" in raised.value.message_dict["partnership"][0]


# --- a session ------------------------------------------------------------------------------------


def test_session_filter_counts_that_sessions_attendees_from_their_first_training(
    team, manager, trainer, course, lead
):
    a, b, c = (StaffMemberFactory(team=team) for _ in range(3))
    first = train([a, b], course=course, on=dt.date(2025, 1, 6))
    second = train([b, c], course=course, on=dt.date(2025, 3, 3))
    answer_questionnaires(first, by=trainer)
    answer_questionnaires(second, by=trainer)
    frames = _frames(lead, session=str(second.pk))
    first_trained = frames.training.set_index("staff")["first_trained"].dt.date.to_dict()
    # b was first trained at the earlier session of the same course.
    assert first_trained == {b.pk: dt.date(2025, 1, 6), c.pk: dt.date(2025, 3, 3)}
    assert set(frames.scores["session"]) == {second.pk}
    assert set(frames.scores["person"]) == {b.pk, c.pk}


# --- the page's form ------------------------------------------------------------------------------


def test_the_form_offers_session_and_partnership_to_a_lead_who_sees_the_partnership(
    client, council, police, trainer, course
):
    lead = UserFactory(role=Role.WORKFORCE_LEAD, organisation=council, sees_partnership=True)
    session = train(
        [StaffMemberFactory(team=TeamFactory(organisation=council))], course=course, on=dt.date(2025, 1, 6)
    )
    client.force_login(lead)
    body = client.get("/reports/impact/", {"session": str(session.pk)}).content.decode()
    assert '<select class="govuk-select" id="session" name="session">' in body
    assert f'<option value="{session.pk}" selected>Exploitation basics, 6 Jan 2025</option>' in body
    assert 'id="partnership" name="partnership"' in body
    assert f"Session: {session}" in body  # the report covers it


def test_the_form_offers_no_partnership_to_a_manager_of_one_organisation(client, manager, team):
    client.force_login(manager)
    body = client.get("/reports/impact/").content.decode()
    assert 'id="session" name="session"' in body
    assert 'id="partnership"' not in body


def test_an_unknown_session_is_an_error_on_its_field(client, lead):
    client.force_login(lead)
    response = client.get("/reports/impact/", {"session": "999999"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="session-error"' in body and 'aria-describedby="session-error"' in body


@pytest.fixture
def other_trainer_session(police):
    other = UserFactory(role=Role.TRAINER, organisation=OrganisationFactory())
    return train([], course=CourseFactory(owner=other), on=dt.date(2025, 1, 6))


def test_a_trainer_cannot_select_a_session_they_do_not_run(client, trainer, other_trainer_session):
    client.force_login(trainer)
    response = client.get("/reports/impact/", {"session": str(other_trainer_session.pk)})
    assert response.status_code == 400
    assert "No session called" in response.content.decode()
