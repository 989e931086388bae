"""Anonymous mode: nobody who signs in can reach who answered what, through pages, API or exports,
while answers are still matched per person for the before-and-after summary."""

import datetime as dt

import pytest

from surveys import services
from surveys.models import Phase
from tests.surveys.conftest import answers_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def anonymous_session(make_session, attach):
    session = make_session(people=6)
    pre, post, *_ = attach(session, anonymous=True)
    services.invitations_create(administration=pre)
    for invitation in pre.invitations.select_related("administration__version"):
        services.invitation_respond(
            invitation=invitation,
            values=answers_for(pre, confidence="3"),
            now=session.start - dt.timedelta(hours=2),
        )
    services.invitations_send(administration=post)
    for invitation in post.invitations.select_related("administration__version")[:5]:
        services.invitation_respond(invitation=invitation, values=answers_for(post, confidence="8"))
    return session


def _everything_a_user_can_fetch(client, api, session):
    post = session.administrations.get(phase=Phase.POST)
    pages = [
        f"/sessions/{session.pk}/questionnaires/",
        f"/sessions/{session.pk}/questionnaires/export/long.csv",
        f"/sessions/{session.pk}/questionnaires/export/wide.csv",
        f"/api/v1/administrations/?session={session.pk}",
        f"/api/v1/administrations/{post.pk}/",
        f"/api/v1/administrations/{post.pk}/response-rate/",
    ]
    bodies = []
    for path in pages:
        fetcher = api if path.startswith("/api/") else client
        response = fetcher.get(path)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        bodies.append((path, response.status_code, content.decode()))
    return bodies


@pytest.mark.parametrize("who", ["trainer", "lead", "manager"])
def test_nobody_signed_in_sees_who_answered(request, who, client, api_as, anonymous_session):
    user = request.getfixturevalue(who)
    client.force_login(user)
    api = api_as(user)
    respondents = [a.staff for a in anonymous_session.attendances.select_related("staff")]
    for path, status, body in _everything_a_user_can_fetch(client, api, anonymous_session):
        for person in respondents:
            assert person.name not in body, f"{who} sees {person.name} at {path} ({status})"
            assert person.work_email not in body, f"{who} sees {person.work_email} at {path}"


def test_matching_still_works_in_anonymous_mode(anonymous_session, trainer, client):
    from surveys.selectors import scale_summary, session_administrations

    administrations = list(session_administrations(session=anonymous_session))
    confidence = next(
        row for row in scale_summary(administrations=administrations) if row.code == "confidence"
    )
    before_after = confidence.changes[0]
    assert (before_after.n, before_after.mean_change) == (5, 5.0)
    client.force_login(trainer)
    body = client.get(f"/sessions/{anonymous_session.pk}/questionnaires/").content.decode()
    assert "+5.0" in body
    assert "Anonymous mode" in body


def test_exports_never_carry_names_or_emails_even_when_not_anonymous(make_session, attach, client, trainer):
    session = make_session(people=2)
    post = attach(session)[1]
    services.invitations_create(administration=post)
    for invitation in post.invitations.select_related("administration__version"):
        services.invitation_respond(invitation=invitation, values=answers_for(post))
    client.force_login(trainer)
    for layout in ("long", "wide"):
        response = client.get(f"/sessions/{session.pk}/questionnaires/export/{layout}.csv")
        body = b"".join(response.streaming_content).decode()
        assert "Respondent" not in body
        assert "@council.example" not in body
