"""Trainers' questionnaire pages: set-up, response rates, summaries, exports and scope."""

import csv
import datetime as dt
import io

import pytest

from surveys import services
from surveys.models import Administration, Invitation, Phase
from tests.factories import CourseFactory, UserFactory
from tests.surveys.conftest import answers_for
from training.models import Role

pytestmark = pytest.mark.django_db


def answer_all(administration, **kwargs):
    services.invitations_create(administration=administration)
    for invitation in administration.invitations.select_related("administration__version"):
        services.invitation_respond(invitation=invitation, values=answers_for(administration, **kwargs))


def _csv(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_trainer_sets_up_questionnaires_with_chosen_follow_ups(
    client, trainer, make_session, default_instrument
):
    session = make_session()
    client.force_login(trainer)
    response = client.post(
        f"/sessions/{session.pk}/questionnaires/set-up/",
        {"instrument": default_instrument.pk, "follow_up_offsets": "30, 120", "anonymous": "on"},
    )
    assert response.status_code == 302
    administrations = list(Administration.objects.filter(session=session).order_by("opens_at"))
    assert [(a.phase, a.offset_days) for a in administrations] == [
        ("pre", 0),
        ("post", 0),
        ("follow_up", 30),
        ("follow_up", 120),
    ]
    pre, post, first, _ = administrations
    assert pre.closes_at == session.start == post.opens_at
    assert pre.opens_at == session.start - dt.timedelta(days=14)
    assert first.opens_at == session.end + dt.timedelta(days=30)
    assert first.closes_at == first.opens_at + dt.timedelta(days=21)
    assert all(a.anonymous for a in administrations)


def test_set_up_form_offers_six_weeks_and_three_months(client, trainer, make_session):
    client.force_login(trainer)
    body = client.get(f"/sessions/{make_session().pk}/questionnaires/set-up/").content.decode()
    assert 'value="42, 91"' in body


def test_bad_follow_up_offsets_are_explained(client, trainer, make_session, default_instrument):
    session = make_session()
    client.force_login(trainer)
    body = client.post(
        f"/sessions/{session.pk}/questionnaires/set-up/",
        {"instrument": default_instrument.pk, "follow_up_offsets": "six weeks"},
    ).content.decode()
    assert "There is a problem" in body
    assert 'href="#id_follow_up_offsets"' in body
    assert not Administration.objects.exists()


def test_questionnaires_cannot_change_after_invitations_went_out(trainer, make_session, attach):
    session = make_session()
    post = attach(session)[1]
    services.invitations_send(administration=post)
    with pytest.raises(services.ValidationError, match="sent"):
        attach(session, offsets=[10])


def test_another_trainer_cannot_reach_my_session_questionnaires(client, council, make_session, attach):
    session = make_session()
    attach(session)
    stranger = UserFactory(role=Role.TRAINER, organisation=council)
    CourseFactory(owner=stranger)
    client.force_login(stranger)
    for path in ("", "set-up/", "export/long.csv", "export/wide.csv"):
        assert client.get(f"/sessions/{session.pk}/questionnaires/{path}").status_code == 404
    assert client.post(f"/sessions/{session.pk}/questionnaires/send/").status_code == 404


def test_managers_do_not_get_questionnaire_pages(client, manager, make_session, attach):
    session = make_session()
    attach(session)
    client.force_login(manager)
    assert client.get(f"/sessions/{session.pk}/questionnaires/").status_code == 403


def test_response_rates_and_the_summary_suppress_small_numbers(client, trainer, make_session, attach):
    session = make_session(people=6)
    pre, post, *_ = attach(session)
    services.invitations_create(administration=pre)
    services.invitations_create(administration=post)
    pre_invitations = list(pre.invitations.select_related("administration__version"))
    for invitation in pre_invitations[:5]:
        services.invitation_respond(
            invitation=invitation,
            values=answers_for(pre, knowledge_right=False, confidence="3"),
            now=session.start - dt.timedelta(hours=1),
        )
    for invitation in post.invitations.select_related("administration__version")[:4]:
        services.invitation_respond(invitation=invitation, values=answers_for(post))

    client.force_login(trainer)
    body = client.get(f"/sessions/{session.pk}/questionnaires/").content.decode()
    assert "83.3%" in body  # 5 of 6 before
    assert "66.7%" in body  # 4 of 6 after
    assert "0.0 (5)" in body  # knowledge before: 0% correct, 5 people
    assert ">c<" in body  # after: only 4 people, so suppressed, and so is the matched change


def test_summary_shows_matched_change_for_five_or_more(trainer, make_session, attach):
    from surveys.selectors import scale_summary, session_administrations

    session = make_session(people=5)
    pre, post, *_ = attach(session)
    services.invitations_create(administration=pre)
    for invitation in pre.invitations.select_related("administration__version"):
        services.invitation_respond(
            invitation=invitation,
            values=answers_for(pre, confidence="3", likert="3"),
            now=session.start - dt.timedelta(hours=1),
        )
    answer_all(post, confidence="8", likert="3")
    summary = {
        row.code: row for row in scale_summary(administrations=list(session_administrations(session=session)))
    }
    change = summary["confidence"].changes[0]
    assert (change.n, change.before, change.after, change.mean_change) == (5, 3.0, 8.0, 5.0)
    assert not change.suppressed
    assert summary["reaction"].changes == []  # nothing to compare before the training


def test_exports_use_person_keys_that_match_across_phases(client, trainer, make_session, attach):
    session = make_session(people=2)
    pre, post, *_ = attach(session)
    services.invitations_create(administration=pre)
    for invitation in pre.invitations.select_related("administration__version"):
        services.invitation_respond(
            invitation=invitation, values=answers_for(pre), now=session.start - dt.timedelta(hours=1)
        )
    answer_all(post, confidence="9")
    client.force_login(trainer)

    long = _csv(client.get(f"/sessions/{session.pk}/questionnaires/export/long.csv"))
    assert long[0] == ["person_key", "session", "course", "phase", "instrument", "version", "item", "answer"]
    keys = {row[0] for row in long[1:]}
    assert len(keys) == 2
    assert {row[3] for row in long[1:]} == {"pre", "post"}
    staff_ids = Invitation.objects.values_list("staff_id", flat=True).distinct()
    assert keys == {services.person_key(s) for s in staff_ids}
    assert ["k_age_of_consent", "b"] in [row[6:] for row in long]

    wide = _csv(client.get(f"/sessions/{session.pk}/questionnaires/export/wide.csv"))
    header = wide[0]
    assert header[0] == "person_key"
    assert {"knowledge_pre", "knowledge_post", "confidence_post", "attitudes_follow_up_91"} <= set(header)
    assert len(wide) == 3
    row = dict(zip(header, wide[1], strict=True))
    assert float(row["confidence_pre"]) == 7.0
    assert float(row["confidence_post"]) == 9.0
    assert row["reaction_pre"] == ""


def test_list_pages_have_bounded_queries(
    client, trainer, make_session, attach, django_assert_max_num_queries
):
    sessions = [make_session(people=5) for _ in range(3)]
    for session in sessions:
        post = attach(session)[1]
        answer_all(post)
    client.force_login(trainer)
    with django_assert_max_num_queries(12):
        assert client.get(f"/sessions/{sessions[0].pk}/questionnaires/").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get("/questionnaires/").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get("/questionnaires/cse-default/").status_code == 200


def test_trainer_copies_the_default_and_edits_a_question(client, trainer, default_instrument):
    client.force_login(trainer)
    response = client.post("/questionnaires/cse-default/copy/")
    copy = trainer.instruments.get()
    assert response["Location"] == f"/questionnaires/{copy.slug}/"
    page = client.get(f"/questionnaires/{copy.slug}/questions/k_online/").content.decode()
    assert "*Online sexual exploitation and a crime" in page
    response = client.post(
        f"/questionnaires/{copy.slug}/questions/k_online/",
        {
            "text": "What is this?",
            "choices": "A crime\n*Online sexual exploitation\nNothing",
            "required": "on",
        },
    )
    assert response.status_code == 302
    item = copy.versions.get().items.get(code="k_online")
    assert item.correct_answer == "b"
    assert [o["label"] for o in item.options] == [
        "A crime",
        "Online sexual exploitation",
        "Nothing",
        "I'm not sure",
    ]


def test_editing_a_frozen_copy_says_a_new_version_will_be_made(client, trainer, default_instrument):
    copy = services.instrument_copy(instrument=default_instrument, owner=trainer)
    services.response_save(version=copy.versions.get(), values=answers_for_version(copy.versions.get()))
    client.force_login(trainer)
    page = client.get(f"/questionnaires/{copy.slug}/questions/a_boys/").content.decode()
    assert "saving makes a new version" in page
    client.post(f"/questionnaires/{copy.slug}/questions/a_boys/", {"text": "Boys are victims too."})
    assert copy.versions.count() == 2
    detail = client.get(f"/questionnaires/{copy.slug}/").content.decode()
    assert "version 2" in detail


def answers_for_version(version):
    from tests.surveys.conftest import valid_answers

    return valid_answers(version.items.all())


def test_the_default_cannot_be_edited_through_the_pages(client, trainer):
    client.force_login(trainer)
    assert client.get("/questionnaires/cse-default/questions/k_boys/").status_code == 403
    assert client.post("/questionnaires/cse-default/questions/k_boys/remove/").status_code == 403
    assert "k_boys" in client.get("/questionnaires/cse-default/").content.decode()


def test_send_button_emails_open_questionnaires(client, trainer, make_session, attach, mailoutbox):
    session = make_session(people=2)
    attach(session)
    client.force_login(trainer)
    client.post(f"/sessions/{session.pk}/questionnaires/send/")
    assert len(mailoutbox) == 2  # the post questionnaire is open; the pre has closed


def test_trainer_sees_who_still_has_to_answer_unless_anonymous(client, trainer, make_session, attach):
    named, anonymous = make_session(people=1), make_session(people=1)
    attach(named)
    attach(anonymous, anonymous=True)
    for session in (named, anonymous):
        services.invitations_send(administration=session.administrations.get(phase=Phase.POST))
    client.force_login(trainer)
    assert "still to answer" in client.get(f"/sessions/{named.pk}/questionnaires/").content.decode()
    assert "still to answer" not in client.get(f"/sessions/{anonymous.pk}/questionnaires/").content.decode()


def test_session_page_links_to_questionnaires(client, trainer, make_session):
    session = make_session()
    client.force_login(trainer)
    assert (
        f"/sessions/{session.pk}/questionnaires/" in client.get(f"/sessions/{session.pk}/").content.decode()
    )
