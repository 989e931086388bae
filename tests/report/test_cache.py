"""Cached reports are served until the data they were built from changes, including edits that
add no row (a referral's outcome) and changes to who sees what (a manager leaving a team)."""

import pytest
from django.core.cache import cache

from analysis.frames import data_stamp, selection_from_params
from analysis.reports import impact_report_get
from practice.models import Audit
from practice.services import referral_update
from surveys.models import Administration, Invitation, Response, ScaleScore
from surveys.services import invitations_create
from tests.factories import CourseFactory, OrganisationFactory, StaffMemberFactory, TeamFactory
from tests.report.scenario import answer_questionnaires, practice_scenario
from training.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _report(user, **params):
    return impact_report_get(user=user, selection=selection_from_params(user=user, params=params))


@pytest.fixture
def scenario(team, manager):
    return practice_scenario(team=team, manager=manager, n_trained=6, n_untrained=6)


def test_a_repeat_view_is_served_from_the_cache(scenario, lead):
    assert _report(lead).generated_at == _report(lead).generated_at


def test_editing_a_referral_outcome_changes_the_cached_report(scenario, lead, manager):
    before = _report(lead)
    accepted = (
        before.section("outcomes")
        .tables[0]
        .frame.set_index("measure")
        .loc["Accepted for assessment or strategy discussion", "after"]
    )
    changed = 0
    for referral in scenario.referrals:
        if (
            referral.staff in scenario.trained
            and referral.outcome != "accepted"
            and referral.made_on.year == 2025
        ):
            referral_update(
                referral=referral,
                by=manager,
                made_on=referral.made_on,
                route=referral.route,
                concerns=referral.concerns,
                outcome="accepted",
                outcome_on=referral.outcome_on,
            )
            changed += 1
    assert changed  # no row was added or removed: only outcomes changed
    after = _report(lead)
    assert after.generated_at > before.generated_at
    share = (
        after.section("outcomes")
        .tables[0]
        .frame.set_index("measure")
        .loc["Accepted for assessment or strategy discussion", "after"]
    )
    assert share > accepted


def test_removing_a_manager_from_a_team_changes_what_they_see(scenario, manager, council):
    second = TeamFactory(organisation=council, name="Second team", slug="second-team", managers=[manager])
    practice_scenario(
        team=second, manager=manager, n_trained=6, n_untrained=6, course=scenario.session.course
    )
    both = _report(manager)
    referrals = (
        both.section("data_quality").tables[0].frame.set_index("measure").loc["Referrals audited", "base"]
    )
    second.managers.remove(manager)
    own = _report(manager)
    assert own.generated_at > both.generated_at
    assert (
        own.section("data_quality").tables[0].frame.set_index("measure").loc["Referrals audited", "base"]
        == referrals // 2
    )


def test_moving_a_person_to_another_team_changes_the_stamp(scenario, council):
    stamp = data_stamp()
    person = scenario.trained[0]
    person.team = TeamFactory(organisation=council)
    person.save()
    assert data_stamp() != stamp


def test_the_stamp_is_one_query_whatever_the_data(scenario, django_assert_num_queries):
    with django_assert_num_queries(1):
        data_stamp()
    StaffMemberFactory.create_batch(20, team=scenario.trained[0].team)
    with django_assert_num_queries(1):
        data_stamp()


def test_json_and_csv_leave_charts_undrawn_and_a_page_draws_them_once(
    scenario, lead, django_assert_max_num_queries
):
    selection = selection_from_params(user=lead, params={})
    data_only = impact_report_get(user=lead, selection=selection, charts=False)
    assert data_only.charts() and not any(chart.is_drawn for chart in data_only.charts())
    page = impact_report_get(user=lead, selection=selection)
    assert page.generated_at == data_only.generated_at  # the cached statistics, not recomputed
    assert all(chart.is_drawn for chart in page.charts())
    # The drawn report replaced the undrawn one in the cache: a download after the page reads
    # only the data stamp and gets the drawings too.
    with django_assert_max_num_queries(1):
        again = impact_report_get(user=lead, selection=selection, charts=False)
    assert all(chart.is_drawn for chart in again.charts())


def test_the_api_and_table_downloads_never_draw_a_chart(scenario, lead, client, api_as, monkeypatch):
    def no_drawing(fig):
        raise AssertionError("a chart was drawn")

    monkeypatch.setattr("analysis.charts._svg", no_drawing)
    assert api_as(lead).get("/api/v1/reports/impact/").status_code == 200
    client.force_login(lead)
    everything = selection_from_params(user=lead, params={})
    keys = list(impact_report_get(user=lead, selection=everything, charts=False).tables())
    for key in (keys[0], keys[-1]):
        assert client.get(f"/reports/impact/tables/{key}.csv").status_code == 200
        assert client.get(f"/reports/impact/tables/{key}.xlsx").status_code == 200
    with pytest.raises(AssertionError, match="a chart was drawn"):
        client.get("/reports/impact/")


def _rescored_with_a_scale_fewer(scenario, trainer):
    # Re-scoring deletes a response's scores and stores those it can: no new row, one fewer (and
    # not the latest, so only the count can tell).
    ScaleScore.objects.filter(pk=ScaleScore.objects.order_by("pk").first().pk).delete()


def _audit_regraded(scenario, trainer):
    audit = Audit.objects.order_by("pk").first()
    audit.score_0_100 = (audit.score_0_100 or 0) + 1
    audit.save()


def _invitation_answered(scenario, trainer):
    invitation = Invitation.objects.filter(response__isnull=True).order_by("pk").first()
    Response.objects.create(version=invitation.administration.version, invitation=invitation)


def _attendees_invited(scenario, trainer):
    invitations_create(administration=Administration.objects.get(session=scenario.session, phase="pre"))


def _team_moved(scenario, trainer):
    team = scenario.trained[0].team
    team.organisation = Organisation.objects.get(slug="elsewhere")
    team.save()


def _organisation_left_its_partnership(scenario, trainer):
    organisation = scenario.trained[0].team.organisation
    organisation.partnership = None
    organisation.save()


@pytest.mark.parametrize(
    "change",
    [
        _rescored_with_a_scale_fewer,
        _audit_regraded,
        _invitation_answered,
        _attendees_invited,
        _team_moved,
        _organisation_left_its_partnership,
    ],
)
def test_every_change_a_report_reads_changes_the_stamp(team, manager, trainer, change):
    scenario = practice_scenario(
        team=team, manager=manager, n_trained=6, n_untrained=6, course=CourseFactory(owner=trainer)
    )
    OrganisationFactory(slug="elsewhere")
    # Everyone answered after training but one, and nobody is invited before it yet.
    answer_questionnaires(scenario.session, by=trainer, phases=("post",))
    Response.objects.filter(invitation=Invitation.objects.order_by("pk").first()).delete()
    stamp = data_stamp()
    change(scenario, trainer)
    assert data_stamp() != stamp
