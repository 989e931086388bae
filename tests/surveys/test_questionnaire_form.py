"""The trainee's form at /q/<token>/: no account, GOV.UK patterns, one submission, clear windows."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from surveys import selectors, services
from surveys.models import Invitation, Phase, Response
from tests.surveys.conftest import answers_for, tokens_from_outbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(make_session, attach):
    session = make_session(people=1)
    return next(a for a in attach(session) if a.phase == Phase.POST)


@pytest.fixture
def token(post):
    services.invitations_send(administration=post)
    [token] = tokens_from_outbox().values()
    return token


def test_form_uses_fieldsets_legends_and_hints(client, token):
    body = client.get(f"/q/{token}/").content.decode()
    assert body.count('<fieldset class="govuk-fieldset"') >= 29
    assert "govuk-fieldset__legend" in body
    assert "Do not write the names of children" in body
    assert 'name="k_age_of_consent"' in body
    assert 'id="q-k_age_of_consent"' in body and 'id="q-k_age_of_consent-2"' in body


def test_pre_questionnaire_leaves_out_questions_about_the_training(make_session, attach, client):
    session = make_session(start=timezone.now() + dt.timedelta(days=2), people=1)
    pre = attach(session)[0]
    services.invitations_send(administration=pre)
    [token] = tokens_from_outbox().values()
    body = client.get(f"/q/{token}/").content.decode()
    assert 'name="k_boys"' in body
    assert 'name="r_relevant"' not in body
    assert 'name="i_apply"' not in body


def test_bad_answers_redisplay_with_error_summary_and_answers_kept(client, token, post):
    values = answers_for(post)
    del values["k_boys"]
    values["c_ask"] = "11"
    response = client.post(f"/q/{token}/", values)
    body = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in body
    assert 'href="#q-k_boys"' in body
    assert 'href="#q-c_ask"' in body
    assert 'value="true" checked' in body  # earlier answers are kept
    assert 'name="k_age_of_consent" type="radio" value="b" checked' in body
    assert not Response.objects.exists()


def test_submitting_scores_and_a_second_submission_is_refused(client, token, post):
    done = client.post(f"/q/{token}/", answers_for(post))
    assert "Answers sent" in done.content.decode()
    invitation = Invitation.objects.get()
    assert invitation.response.scale_scores.get(scale__code="knowledge").score == 100.0

    again = client.post(f"/q/{token}/", answers_for(post, likert="1"))
    assert "You have already answered this questionnaire. Thank you." in again.content.decode()
    assert Response.objects.count() == 1
    assert "You have already answered" in client.get(f"/q/{token}/").content.decode()


def test_a_submission_that_loses_the_race_is_rolled_back(token, post):
    """Both requests read the invitation before either saved: the database lets one through."""
    first = selectors.invitation_for_token(token=token)
    second = selectors.invitation_for_token(token=token)
    services.invitation_respond(invitation=first, values=answers_for(post))
    assert second.response_id is None  # stale: it looks unanswered
    with pytest.raises(services.InvitationUnavailable, match="already answered"):
        services.invitation_respond(invitation=second, values=answers_for(post, likert="2"))
    assert Response.objects.count() == 1
    assert Invitation.objects.get().response == Response.objects.get()


def test_not_yet_open_shows_the_opening_date(make_session, attach, client):
    session = make_session(start=timezone.now() + dt.timedelta(days=30), people=1)
    pre = attach(session)[0]
    with time_machine.travel(pre.opens_at + dt.timedelta(hours=1)):
        services.invitations_send(administration=pre)
    [token] = tokens_from_outbox().values()

    body = client.get(f"/q/{token}/").content.decode()  # today: two weeks before it opens
    assert "This questionnaire is not open yet" in body
    assert timezone.localtime(pre.opens_at).strftime("%-d %B %Y") in body
    client.post(f"/q/{token}/", answers_for(pre))
    assert not Response.objects.exists()
    with time_machine.travel(pre.opens_at + dt.timedelta(hours=1)):
        assert 'name="k_boys"' in client.get(f"/q/{token}/").content.decode()


def test_closed_window_refuses_answers(client, token, post):
    with time_machine.travel(post.closes_at + dt.timedelta(seconds=1)):
        body = client.post(f"/q/{token}/", answers_for(post)).content.decode()
    assert "This questionnaire has closed" in body
    assert not Response.objects.exists()


def test_unknown_token_is_a_plain_404(client, token, post):
    response = client.get("/q/not-a-real-token-at-all/")
    assert response.status_code == 404
    body = response.content.decode()
    assert post.session.course.title not in body
    assert "Respondent" not in body


def test_opt_out_asks_first_then_stops_reminders(client, token):
    page = client.get(f"/q/{token}/opt-out/")
    assert "Stop reminders" in page.content.decode()
    assert Invitation.objects.get().opted_out_at is None  # a GET changes nothing
    client.post(f"/q/{token}/opt-out/")
    assert Invitation.objects.get().opted_out_at is not None


def test_the_form_needs_few_queries(client, token, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        client.get(f"/q/{token}/")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_submissions_store_exactly_one_response(make_session, attach):
    from concurrent.futures import ThreadPoolExecutor

    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL")
    session = make_session(people=1)
    post = next(a for a in attach(session) if a.phase == Phase.POST)
    services.invitations_create(administration=post)
    invitation = post.invitations.get()
    values = answers_for(post)

    def submit(_):
        try:
            services.invitation_respond(invitation=Invitation.objects.get(pk=invitation.pk), values=values)
            return "stored"
        except services.InvitationUnavailable:
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = sorted(pool.map(submit, range(4)))
    assert outcomes.count("stored") == 1
    assert Response.objects.count() == 1
