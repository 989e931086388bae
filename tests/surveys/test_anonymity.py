"""Anonymous mode: nobody who signs in can reach who answered what, through pages, API or exports,
while answers are still matched per person for the before-and-after summary."""

import csv
import datetime as dt
import io

import pytest

from surveys import services
from surveys.models import Phase
from tests.factories import AttendanceFactory
from tests.surveys.conftest import answers_for
from training.models import AccessAction, AccessLog

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


# --- Exports of anonymous sessions ---------------------------------------------------------------


def _export(client, session, layout):
    response = client.get(f"/sessions/{session.pk}/questionnaires/export/{layout}.csv")
    assert response.status_code == 200 and response.streaming, response.status_code
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def _keys(client, session) -> set[str]:
    return {row[0] for layout in ("long", "wide") for row in _export(client, session, layout)[1:]}


def _answer(administration, invitations, **kwargs):
    at = administration.opens_at + dt.timedelta(hours=1)
    for invitation in invitations:
        values = {**answers_for(administration, **kwargs), "comments": "Sam on my team said the same"}
        services.invitation_respond(invitation=invitation, values=values, now=at)


@pytest.fixture
def same_people_three_ways(make_session, attach, anonymous_session):
    """The anonymous session's six people also went to a named session and another anonymous one."""
    people = [a.staff for a in anonymous_session.attendances.select_related("staff")]
    sessions = []
    for anonymous in (False, True):
        session = make_session(people=0)
        for person in people:
            AttendanceFactory(session=session, staff=person)
        pre, post, *_ = attach(session, anonymous=anonymous)
        for administration in (pre, post):
            services.invitations_create(administration=administration)
            _answer(administration, administration.invitations.select_related("administration__version"))
        sessions.append(session)
    return anonymous_session, *sessions


def test_anonymous_person_keys_never_appear_in_another_sessions_export(
    client, trainer, same_people_three_ways
):
    anonymous, named, other_anonymous = same_people_three_ways
    client.force_login(trainer)
    keys = {session: _keys(client, session) for session in same_people_three_ways}
    assert len(keys[anonymous]) == 6 and len(keys[named]) == 6 and len(keys[other_anonymous]) == 6
    assert not keys[anonymous] & keys[named]
    assert not keys[anonymous] & keys[other_anonymous]
    assert not keys[other_anonymous] & keys[named]
    # Named sessions keep the key a person has everywhere.
    staff_ids = named.attendances.values_list("staff_id", flat=True)
    assert keys[named] == {services.person_key(s) for s in staff_ids}


def test_anonymous_keys_still_match_a_person_across_phases(client, trainer, anonymous_session):
    client.force_login(trainer)
    wide = _export(client, anonymous_session, "wide")
    header = wide[0]
    rows = [dict(zip(header, row, strict=True)) for row in wide[1:]]
    assert len(rows) == 6  # six people, each on one row, not one row per phase
    both = [r for r in rows if r["confidence_pre"] and r["confidence_post"]]
    assert len(both) == 5
    assert all((float(r["confidence_pre"]), float(r["confidence_post"])) == (3.0, 8.0) for r in both)
    long = _export(client, anonymous_session, "long")
    phases_by_key: dict[str, set[str]] = {}
    for row in long[1:]:
        phases_by_key.setdefault(row[0], set()).add(row[3])
    assert sorted(len(p) for p in phases_by_key.values()) == [1, 2, 2, 2, 2, 2]


def test_free_text_never_appears_in_an_anonymous_export(client, trainer, make_session, attach):
    session = make_session(people=5)
    post = attach(session, anonymous=True)[1]
    services.invitations_create(administration=post)
    _answer(post, post.invitations.select_related("administration__version"))
    client.force_login(trainer)
    for layout in ("long", "wide"):
        body = "\n".join(",".join(row) for row in _export(client, session, layout))
        assert "Sam on my team" not in body
        assert "comments" not in body
    assert len(_export(client, session, "long")) > 1  # the other answers are there


def test_free_text_is_still_exported_for_named_sessions(client, trainer, make_session, attach):
    session = make_session(people=2)
    post = attach(session)[1]
    services.invitations_create(administration=post)
    _answer(post, post.invitations.select_related("administration__version"))
    client.force_login(trainer)
    long = _export(client, session, "long")
    assert ["comments", "Sam on my team said the same"] in [row[6:] for row in long]


@pytest.mark.parametrize("layout", ["long", "wide"])
def test_an_anonymous_export_of_fewer_than_five_people_is_refused(
    client, trainer, make_session, attach, layout
):
    session = make_session(people=6)
    post = attach(session, anonymous=True)[1]
    services.invitations_create(administration=post)
    _answer(post, post.invitations.select_related("administration__version")[:4])
    client.force_login(trainer)
    response = client.get(f"/sessions/{session.pk}/questionnaires/export/{layout}.csv")
    assert response.status_code == 302
    assert response["Location"] == f"/sessions/{session.pk}/questionnaires/"
    page = client.get(response["Location"]).content.decode()
    assert "fewer than 5 people have answered" in page
    assert not AccessLog.objects.filter(action=AccessAction.EXPORT).exists()  # nothing was exported
    _answer(post, post.invitations.select_related("administration__version")[4:5])
    assert len({row[0] for row in _export(client, session, layout)[1:]}) == 5  # five people now


def test_the_threshold_is_the_projects_small_cell_setting(client, trainer, make_session, attach, settings):
    settings.SURVEY_MIN_CELL = 3
    session = make_session(people=3)
    post = attach(session, anonymous=True)[1]
    services.invitations_create(administration=post)
    _answer(post, post.invitations.select_related("administration__version"))
    client.force_login(trainer)
    assert len(_export(client, session, "wide")) == 4


def test_an_anonymous_phase_answered_by_too_few_is_left_out_of_the_export(client, trainer, anonymous_session):
    """Six answered before and five after; a follow-up answered by two is not exported: its rows
    would be one person's answers, which the session's page shows only as "c"."""
    follow_up = anonymous_session.administrations.get(phase=Phase.FOLLOW_UP, offset_days=42)
    services.invitations_create(administration=follow_up)
    _answer(follow_up, follow_up.invitations.select_related("administration__version")[:2])
    client.force_login(trainer)
    long = _export(client, anonymous_session, "long")
    assert {row[3] for row in long[1:]} == {"pre", "post"}
    header = _export(client, anonymous_session, "wide")[0]
    assert "knowledge_post" in header and not any("follow_up_42" in column for column in header)
