"""The trainee's form at /q/<token>/: no account, GOV.UK patterns, one submission, clear windows."""

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from surveys import selectors, services
from surveys.models import Answer, Invitation, Phase, Response
from tests.surveys.conftest import answers_for, tokens_from_outbox
from training.models import AccessAction, AccessLog

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
    assert not second.is_answered  # stale: it looks unanswered
    with pytest.raises(services.InvitationUnavailable, match="already answered"):
        services.invitation_respond(invitation=second, values=answers_for(post, likert="2"))
    assert Response.objects.count() == 1
    assert Invitation.objects.get().response == Response.objects.get()
    assert not Answer.objects.exclude(response=Response.objects.get()).exists()  # the loser's rolled back


def test_the_database_refuses_a_second_response_to_an_invitation(token, post):
    """Whatever the code path: a second insert, or pointing another response at the invitation."""
    invitation = selectors.invitation_for_token(token=token)
    services.invitation_respond(invitation=invitation, values=answers_for(post))
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(version=post.version, invitation=invitation)
    other = Response.objects.create(version=post.version)
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.filter(pk=other.pk).update(invitation=invitation)
    with pytest.raises(IntegrityError), transaction.atomic():
        other.invitation = invitation
        other.save()
    assert Response.objects.get(invitation=invitation).answers.exists()


def test_an_integrity_error_that_is_not_a_second_answer_is_not_hidden(token, post, monkeypatch):
    """Only the invitation's unique link is turned into "already answered"."""

    def broken(**kwargs):
        raise IntegrityError("something else")

    monkeypatch.setattr(services, "response_save", broken)
    invitation = selectors.invitation_for_token(token=token)
    with pytest.raises(IntegrityError, match="something else"):
        services.invitation_respond(invitation=invitation, values=answers_for(post))


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


def test_the_form_needs_few_queries(client, token, django_assert_num_queries):
    # The invitation with its questionnaire, state and response (one join), then the items.
    with django_assert_num_queries(2):
        client.get(f"/q/{token}/")


def test_a_submission_reads_the_items_once_and_writes_in_bulk(client, token, post, django_assert_num_queries):
    """Issue 7: 3,000 submissions a minute. The queries of one POST, pinned:
    the invitation (1) and the version's items with their scales (1), read once for validating,
    storing and scoring; then a savepoint (1), the response with its invitation and submission time
    (1), the answers (1), the scale scores from the values in memory (1), release (1), and the
    access log entry (1). The version is frozen by the first response only (2 more, below)."""
    values = answers_for(post)
    services.response_save(version=post.version, values=values)  # someone else answered first
    with django_assert_num_queries(8) as captured:
        page = client.post(f"/q/{token}/", values)
    assert "Answers sent" in page.content.decode()
    sql = [q["sql"] for q in captured.captured_queries]
    assert sum("surveys_item" in q and q.startswith("SELECT") for q in sql) == 1
    assert not any(q.startswith("DELETE") for q in sql)  # a new response has nothing to replace
    [response] = Response.objects.filter(invitation__isnull=False)
    assert response.submitted_at is not None
    assert response.scale_scores.get(scale__code="knowledge").score == 100.0


def test_the_first_submission_also_freezes_the_version(client, token, post, django_assert_num_queries):
    values = answers_for(post)
    with django_assert_num_queries(10):  # the 8 above, and the freeze's UPDATE and re-read
        client.post(f"/q/{token}/", values)
    post.version.refresh_from_db()
    assert post.version.is_frozen


def test_scores_stored_on_submission_match_re_scoring_the_stored_answers(make_session, attach):
    """The submission scores from the values in memory; re-scoring reads them back: the same."""
    session = make_session(start=timezone.now() + dt.timedelta(days=2), people=1)
    pre = attach(session)[0]
    services.invitations_create(administration=pre)
    values = answers_for(pre, likert="2", confidence="6", knowledge_right=False)
    values.update({"a_lifestyle": "5", "a_boys": "1"})  # a reverse-coded item among them
    response = services.invitation_respond(
        invitation=pre.invitations.get(), values=values, now=pre.opens_at + dt.timedelta(hours=1)
    )
    stored = {s.scale.code: (s.score, s.n_answered, s.n_items) for s in response.scale_scores.all()}
    services.response_score(response=response)
    rescored = {s.scale.code: (s.score, s.n_answered, s.n_items) for s in response.scale_scores.all()}
    assert stored == rescored
    assert stored["reaction"] == (None, 0, stored["reaction"][2])  # not asked before the training
    assert stored["knowledge"][0] == 0.0


def test_the_access_log_records_a_submission_without_the_token(client, token, post):
    client.post(f"/q/{token}/", answers_for(post))
    [entry] = AccessLog.objects.filter(action=AccessAction.SUBMIT)
    assert entry.path == "/q/<token>/"
    for row in AccessLog.objects.values_list("object_id", "summary", "path"):
        assert all(token not in str(value) for value in row)


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


def _questions_rendered(response) -> bool:
    return "surveys/_questions.html" in [t.name for t in response.templates]


def _form_part(response) -> str:
    body = response.content.decode()
    # The questions, without the CSRF token before them, which differs per visitor.
    return body[body.index('name="csrfmiddlewaretoken"') :].split(">", 1)[1].split("</form>")[0]


def test_a_frozen_versions_blank_form_is_rendered_once_and_served_to_everyone(make_session, attach, client):
    """Issue 7 (a trainee's GET): the blank form of a frozen version is the same for everyone, so
    its questions are rendered once and kept; answers sent back with errors are never served
    from it, and a version still open to edits is rendered each time."""
    session = make_session(people=3)
    post = next(a for a in attach(session) if a.phase == Phase.POST)
    services.invitations_send(administration=post)
    first, second, third = tokens_from_outbox().values()

    unfrozen = [client.get(f"/q/{first}/"), client.get(f"/q/{first}/")]
    assert all(_questions_rendered(r) for r in unfrozen)

    services.version_freeze(version=post.version)
    views = [client.get(f"/q/{token}/") for token in (first, second, first)]
    assert [_questions_rendered(r) for r in views] == [True, False, False]
    assert _form_part(views[0]) == _form_part(views[1]) == _form_part(views[2]) == _form_part(unfrozen[0])
    assert 'name="k_boys"' in _form_part(views[1]) and "checked" not in _form_part(views[1])

    values = answers_for(post)
    del values["k_boys"]
    sent_back = client.post(f"/q/{third}/", values)
    assert sent_back.status_code == 400 and _questions_rendered(sent_back)
    assert "checked" in _form_part(sent_back)  # the answers given are kept
    assert 'href="#q-k_boys"' in sent_back.content.decode()
    assert "checked" not in _form_part(client.get(f"/q/{second}/"))  # and never shown to anyone else
