"""The questionnaire API: instruments, administrations and response rates in scope, and the one
unauthenticated operation, answering with a token."""

import datetime as dt

import pytest
import time_machine

from surveys import services
from surveys.models import Phase, Response
from tests.factories import CourseFactory, UserFactory
from tests.surveys.conftest import answers_for, tokens_from_outbox
from training.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(make_session, attach):
    session = make_session(people=3)
    return next(a for a in attach(session) if a.phase == Phase.POST)


@pytest.fixture
def token(post):
    services.invitations_send(administration=post)
    return next(iter(tokens_from_outbox().values()))


def test_trainer_reads_instruments_with_items(api_as, trainer, default_instrument):
    listed = api_as(trainer).get("/api/v1/instruments/").json()
    assert [row["slug"] for row in listed["results"]] == ["cse-default"]
    detail = api_as(trainer).get(f"/api/v1/instruments/{default_instrument.pk}/").json()
    version = detail["latest_version"]
    assert {s["code"] for s in version["scales"]} >= {"knowledge", "attitudes"}
    assert next(i for i in version["items"] if i["code"] == "a_lifestyle")["reverse_coded"] is True


def test_manager_cannot_read_instruments(api_as, manager):
    assert api_as(manager).get("/api/v1/instruments/").status_code == 403


def test_another_trainers_copy_is_not_listed(api_as, trainer, council, default_instrument):
    other = UserFactory(role=Role.TRAINER, organisation=council)
    copy = services.instrument_copy(instrument=default_instrument, owner=other)
    assert api_as(trainer).get(f"/api/v1/instruments/{copy.pk}/").status_code == 404


def test_administrations_are_scoped_to_sessions_you_can_see(api_as, trainer, council, post):
    stranger = UserFactory(role=Role.TRAINER, organisation=council)
    CourseFactory(owner=stranger)
    mine = api_as(trainer).get(f"/api/v1/administrations/?session={post.session_id}").json()
    assert {row["phase"] for row in mine["results"]} == {"pre", "post", "follow_up"}
    api_as(stranger)
    assert api_as(stranger).get("/api/v1/administrations/").json()["count"] == 0
    assert api_as(stranger).get(f"/api/v1/administrations/{post.pk}/").status_code == 404
    assert api_as(stranger).get(f"/api/v1/administrations/{post.pk}/response-rate/").status_code == 404


def test_response_rate(api_as, trainer, post):
    services.invitations_create(administration=post)
    first = post.invitations.select_related("administration__version").first()
    services.invitation_respond(invitation=first, values=answers_for(post))
    body = api_as(trainer).get(f"/api/v1/administrations/{post.pk}/response-rate/").json()
    assert body == {
        "administration": post.pk,
        "phase": "post",
        "offset_days": 0,
        "invited": 3,
        "answered": 1,
        "rate": 33.3,
    }


def test_submitting_with_a_token_needs_no_account(api, token, post):
    response = api.post("/api/v1/responses/", {"token": token, "answers": answers_for(post)}, format="json")
    assert response.status_code == 201, response.content
    assert response.json() == {"status": "submitted"}
    stored = Response.objects.get()
    assert stored.invitation.administration == post
    assert stored.scale_scores.get(scale__code="knowledge").score == 100.0


def test_a_token_works_once(api, token, post):
    api.post("/api/v1/responses/", {"token": token, "answers": answers_for(post)}, format="json")
    again = api.post("/api/v1/responses/", {"token": token, "answers": answers_for(post)}, format="json")
    assert again.status_code == 409
    assert again.json()["detail"] == "You have already answered this questionnaire. Thank you."
    assert Response.objects.count() == 1


def test_invalid_answers_are_listed_by_item(api, token, post):
    answers = answers_for(post)
    answers["c_ask"] = "12"
    answers["made_up"] = "1"
    del answers["k_boys"]
    response = api.post("/api/v1/responses/", {"token": token, "answers": answers}, format="json")
    assert response.status_code == 400
    assert set(response.json()["answers"]) == {"c_ask", "made_up", "k_boys"}  # all at once
    assert not Response.objects.exists()


def test_unknown_token_and_closed_window(api, token, post):
    unknown = api.post("/api/v1/responses/", {"token": "x" * 43, "answers": {}}, format="json")
    assert unknown.status_code == 404
    with time_machine.travel(post.closes_at + dt.timedelta(minutes=1)):
        closed = api.post("/api/v1/responses/", {"token": token, "answers": answers_for(post)}, format="json")
    assert closed.status_code == 409
    assert closed.json()["state"] == "closed"


def test_missing_token_is_a_400(api):
    assert api.post("/api/v1/responses/", {}, format="json").status_code == 400


def test_list_endpoints_have_bounded_queries(
    api_as, trainer, make_session, attach, django_assert_max_num_queries
):
    for _ in range(3):
        attach(make_session(people=2))
    client = api_as(trainer)
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/administrations/").json()["count"] == 12
    with django_assert_max_num_queries(6):
        client.get("/api/v1/instruments/")
