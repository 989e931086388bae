"""The impact report on the seeded demo: verdicts match the effects seed_demo built in, scope,
suppression, caching, a constant number of queries, and every way of taking the report away."""

import io
import json

import pandas as pd
import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.test import override_settings

from analysis.frames import Selection, build_frames, selection_from_params
from analysis.reports import impact_report_get
from practice.models import Audit, AuditStatus, Referral
from surveys.models import Answer, Item, ItemKind, ScaleScore
from training.models import Attendance, StaffMember, User

CSE = "cse-recognise-respond-refer"


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Seed the demo once for this module, inside a transaction rolled back at the end."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        call_command("seed_demo", "--seed", "2014", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def lead(demo, db):
    return User.objects.get(username="lead")


def _report(user, **params):
    return impact_report_get(
        user=user, selection=selection_from_params(user=user, params=params), use_cache=False
    )


def test_cse_course_verdicts_match_the_effects_built_into_the_demo(lead):
    report = _report(lead, course=CSE)
    practice = report.section("practice")
    # seed_demo: +0.3 grade points (about +10 on the 0-100 score) at the peak, fading to half by a year.
    assert practice.direction == "rise", practice.verdict
    assert practice.figures["ci_low"] < 10 and practice.figures["ci_high"] > 4
    learning = report.section("learning").figures
    assert learning["knowledge"]["direction"] == "rise"
    # attitudes were built to move less than knowledge, in standard deviations
    assert learning["attitudes"]["d_z"] < learning["knowledge"]["d_z"] or learning["attitudes"]["d_z"] < 1.5
    assert all(0 < v < 100 for v in learning["knowledge"]["retention_percent"].values())  # gains partly fade


def test_a_course_with_no_built_in_effect_is_not_called_a_rise(lead):
    practice = _report(lead, course="online-harm-frontline").section("practice")
    assert practice.direction != "rise"


def test_manager_cannot_select_another_team(demo, db):
    from django.core.exceptions import ValidationError

    manager = User.objects.get(username="manager")
    with pytest.raises(ValidationError) as raised:
        selection_from_params(user=manager, params={"team": "assessment-team-south"})
    assert "that you can see" in raised.value.message_dict["team"][0]


def test_manager_report_covers_only_their_team(demo, db):
    manager = User.objects.get(username="manager")
    frames = build_frames(user=manager, selection=selection_from_params(user=manager, params={}))
    own = set(StaffMember.objects.filter(team__managers=manager).values_list("id", flat=True))
    assert set(frames.audits["staff"]) <= own
    assert set(frames.referrals["staff"]) <= own
    assert set(frames.scores["person"]) <= own


def test_trainer_cannot_report_on_someone_elses_course(demo, client, db):
    from tests.factories import CourseFactory
    from training.models import Course

    trainer2 = User.objects.get(username="trainer2")
    elsewhere = CourseFactory(owner=User.objects.get(username="trainer"), slug="not-theirs")
    assert not Course.objects.for_user(trainer2).filter(pk=elsewhere.pk).exists()
    client.force_login(trainer2)
    response = client.get("/reports/impact/", {"course": "not-theirs"})
    assert response.status_code == 400
    assert "No course called" in response.content.decode()


def test_small_team_figures_are_suppressed_in_page_api_and_csv(demo, client, db):
    lead = User.objects.get(username="lead")
    # A profession x team with few people: every people figure must be "c" everywhere.
    params = {"team": "detached-youth-work", "course": CSE}
    report = _report(lead, **params)
    people_figures = [
        row
        for table in report.tables().values()
        if "n" in table.frame.columns
        for row in table.frame.to_dict(orient="records")
        if isinstance(row["n"], int) and 0 < row["n"] < 5
    ]
    assert people_figures == []  # no count below 5 is ever shown
    client.force_login(lead)
    api = client.get("/api/v1/reports/impact/", params).json()
    shown_counts = [
        row["n"]
        for section in api["sections"]
        for table in section["tables"]
        for row in table["rows"]
        if "n" in row and isinstance(row["n"], int)
    ]
    assert all(n >= 5 for n in shown_counts)


def test_page_renders_verdicts_charts_and_downloads(demo, client, db):
    client.force_login(User.objects.get(username="lead"))
    response = client.get("/reports/impact/", {"course": CSE})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Referral quality rose by" in body
    assert "<svg" in body and "<figcaption" in body
    csv = client.get("/reports/impact/tables/practice_event_study.csv", {"course": CSE})
    assert csv.status_code == 200
    assert csv.content.decode().splitlines()[0] == "months_since_training,n,att,ci_low,ci_high"
    xlsx = client.get("/reports/impact/tables/learning_change.xlsx", {"course": CSE})
    assert xlsx.content[:2] == b"PK"  # a zip container, as XLSX files are
    assert client.get("/reports/impact/tables/nope.csv").status_code == 404


def test_pdf_renders(demo, client, db):
    client.force_login(User.objects.get(username="lead"))
    response = client.get("/reports/impact/report.pdf", {"course": CSE})
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    from weasyprint import HTML

    from analysis.rendering import report_print_html

    pages = (
        HTML(string=report_print_html(_report(User.objects.get(username="lead"), course=CSE))).render().pages
    )
    assert len(pages) >= 3  # checked by eye as PNG pages too (pdftoppm), see the issue note


def test_bad_dates_get_a_clear_error(demo, client, db):
    client.force_login(User.objects.get(username="lead"))
    response = client.get("/reports/impact/", {"from": "31/02/2025"})
    assert response.status_code == 400
    assert "Enter the date as YYYY-MM-DD" in response.content.decode()
    assert (
        client.get("/api/v1/reports/impact/", {"to": "2024-01-01", "from": "2025-01-01"}).status_code == 400
    )


def test_frames_use_a_constant_number_of_queries(demo, db, django_assert_max_num_queries):
    lead = User.objects.get(username="lead")
    small = selection_from_params(user=lead, params={"team": "assessment-team-north"})
    everything = selection_from_params(user=lead, params={})
    # 14 reads, and the streamed read's savepoint and release (and on PostgreSQL its two SET LOCALs,
    # and the look at the scores table's size that decides on streaming: here never analysed, so
    # streamed). One read fewer than before audits stored their criterion grades (no read of their
    # answers), two more since the reaction questions, and the questions behind Cronbach's alpha,
    # are read before their answers. On PostgreSQL, two more: parallel workers turned off for the
    # reads, and the connection's setting put back.
    with django_assert_max_num_queries(21) as few:
        build_frames(user=lead, selection=small)
    with django_assert_max_num_queries(len(few.captured_queries)):
        build_frames(user=lead, selection=everything)


def _criteria_from_answers() -> pd.DataFrame:
    """The criteria frame as the report read it before audits stored their criterion grades: from
    every submitted audit's answers, criterion by criterion in rubric order, by audit within one."""
    rows = (
        Answer.objects.filter(response__audit__status=AuditStatus.SUBMITTED, item__kind=ItemKind.RUBRIC_4)
        .exclude(value="")
        .order_by("item__position", "item_id", "response__audit__id")
        .values_list("response__audit__id", "item__code", "item__text", "value")
    )
    return pd.DataFrame(list(rows), columns=["audit", "criterion", "label", "grade"]).astype({"grade": int})


def _as_text(criteria: pd.DataFrame) -> pd.DataFrame:
    # The report holds criteria and their wording as categories (see frames._criteria).
    assert isinstance(criteria["criterion"].dtype, pd.CategoricalDtype)
    return criteria.astype({"criterion": str, "label": str})


def test_criteria_from_the_stored_grades_are_the_answers_row_for_row(demo, db):
    """The report decodes each audit's criterion grades from the string stored on it: the frame must
    be exactly the one its answers give, in the same order, or the order or decoding is wrong."""
    admin = User.objects.get(username="admin")
    frames = build_frames(user=admin, selection=Selection())
    assert len(frames.criteria) == 11 * len(frames.audits) == 11 * Audit.objects.count()
    pd.testing.assert_frame_equal(_as_text(frames.criteria), _criteria_from_answers())
    assert not {"version", "criterion_grades", "response"} & set(frames.audits.columns)


def test_scores_are_every_learning_score_and_reaction_only_after_training(lead):
    """Attitudes, knowledge and confidence at every stage; reaction and intention, which the report
    reads only just after training, at that stage alone. Counted from the stored scores in scope."""
    frames = build_frames(user=lead, selection=Selection())
    in_scope = ScaleScore.objects.filter(
        response__submitted_at__isnull=False,
        response__invitation__staff__in=StaffMember.objects.for_user(lead),
    )
    read = frames.scores.groupby(["construct", "phase"], observed=True).size().to_dict()
    stored = {
        (construct, phase): n
        for construct, phase, n in in_scope.values_list(
            "scale__construct", "response__invitation__administration__phase"
        )
        .annotate(n=Count("id"))
        .order_by()
        if construct in ("attitudes", "knowledge", "confidence")
        or (construct in ("reaction", "intention") and phase == "post")
    }
    assert read == stored
    assert {phase for (construct, phase) in read if construct == "knowledge"} == {"pre", "post", "follow_up"}
    assert {phase for (construct, phase) in read if construct == "reaction"} == {"post"}


def _reaction_from_answers(user, selection) -> pd.DataFrame:
    """Each reaction and intention question's n, mean and SD just after training, from every answer
    in scope one by one (the report counts them by value in the database)."""
    from analysis.frames import sessions_in_selection, staff_in_selection
    from surveys.scoring import ItemRule, item_score

    sessions = sessions_in_selection(user=user, selection=selection)
    answers = Answer.objects.filter(
        response__submitted_at__isnull=False,
        response__invitation__staff__in=staff_in_selection(user=user, selection=selection),
        response__invitation__administration__session__in=sessions,
        response__invitation__administration__phase="post",
        item__scale__construct__in=("reaction", "intention"),
    ).exclude(value="")
    if selection.date_from:
        answers = answers.filter(response__submitted_at__date__gte=selection.date_from)
    if selection.date_to:
        answers = answers.filter(response__submitted_at__date__lte=selection.date_to)
    scored = [
        (construct, code, text, item_score(ItemRule(0, None, kind, reverse, ""), value))
        for construct, code, text, kind, reverse, value in answers.values_list(
            "item__scale__construct", "item__code", "item__text", "item__kind", "item__reverse_coded", "value"
        )
    ]
    frame = pd.DataFrame(scored, columns=["construct", "item", "label", "score"])
    return (
        frame.groupby(["construct", "item", "label"])["score"]
        .agg(n="count", mean="mean", sd="std")
        .reset_index()
    )


@pytest.mark.parametrize("params", [{}, {"from": "2025-01-01", "to": "2025-06-30"}, {"course": CSE}])
def test_reaction_questions_are_counted_from_every_answer_in_scope(lead, params):
    """The reaction questions' figures are what every answer in the reader's scope (and period, and
    course) gives, scored one by one: the database's counts by value must lose or add none."""
    selection = selection_from_params(user=lead, params=params)
    got = build_frames(user=lead, selection=selection).reaction_items
    expected = _reaction_from_answers(lead, selection)
    assert len(expected) >= 4 and expected["n"].sum() >= 60  # enough answers to compare
    got = got.sort_values(["construct", "item", "label"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        got[["construct", "item", "label", "n", "mean", "sd"]].astype({"n": "int64"}),
        expected.astype({"n": "int64"}),
        check_dtype=False,
    )


def test_item_scores_for_reliability_are_every_pre_training_answer_scored_one_by_one(lead, monkeypatch):
    """With the sample large enough to hold every response before training, the item scores behind
    Cronbach's alpha are each answer scored by the questionnaire's rules (reverse coding, the
    knowledge questions' right answers), none lost and none added."""
    from analysis import frames as frames_module
    from surveys.scoring import ItemRule, item_score

    monkeypatch.setattr(frames_module, "ALPHA_SAMPLE_RESPONSES", 10**9)
    got = build_frames(user=lead, selection=Selection()).item_scores
    answers = Answer.objects.filter(
        response__submitted_at__isnull=False,
        response__invitation__staff__in=StaffMember.objects.for_user(lead),
        response__invitation__administration__phase="pre",
        item__scale__construct__in=("attitudes", "knowledge", "confidence"),
    ).exclude(item__kind=ItemKind.FREE_TEXT)
    expected = [
        (response, construct, item, score, "pre")
        for response, construct, item, kind, reverse, correct, value in answers.values_list(
            "response_id",
            "item__scale__construct",
            "item_id",
            "item__kind",
            "item__reverse_coded",
            "item__correct_answer",
            "value",
        )
        if (score := item_score(ItemRule(item, None, kind, reverse, correct), value)) is not None
    ]
    expected = pd.DataFrame(expected, columns=["response", "construct", "item", "value", "phase"])
    assert len(expected) > 500 and expected["value"].nunique() > 2
    assert set(got["construct"]) == {"attitudes", "knowledge", "confidence"}
    key = ["response", "item"]
    pd.testing.assert_frame_equal(
        got.sort_values(key).reset_index(drop=True),
        expected.sort_values(key).reset_index(drop=True),
        check_dtype=False,
    )


def test_criteria_of_two_rubric_versions_and_ungraded_criteria_are_the_answers_row_for_row(demo, db):
    """A second version of the rubric (new audits use it) whose criteria share the first's
    positions, and audits on it that leave a criterion ungraded: the report still lists every
    grade of the answers, in rubric order over both versions, and none for the ungraded ones."""
    from practice import services
    from surveys.services import version_clone

    manager = User.objects.get(username="manager")
    first = services.rubric_current()
    second = version_clone(version=first)
    Item.objects.filter(version=second, code__in=["consent", "timely"]).update(required=False)
    assert services.rubric_current() == second
    codes = list(second.items.order_by("position").values_list("code", flat=True))
    unaudited = Referral.objects.filter(staff__team__managers=manager, audits__isnull=True).order_by("pk")
    for k, referral in enumerate(unaudited[:6]):
        audit = services.audit_start(referral=referral, by=manager)
        grades = {code: str(1 + (k + i) % 4) for i, code in enumerate(codes)}
        if k % 2:  # every other audit leaves two criteria ungraded
            grades["consent"] = grades["timely"] = ""
        audit = services.audit_save(
            audit=audit, by=manager, grades=grades, evidence={}, revision=1, submit=True
        )
        assert audit.criterion_grades.count("0") == (2 if k % 2 else 0)

    frames = build_frames(user=User.objects.get(username="admin"), selection=Selection())
    pd.testing.assert_frame_equal(_as_text(frames.criteria), _criteria_from_answers())
    on_second = frames.criteria[
        frames.criteria["audit"].isin(Audit.objects.filter(version=second).values_list("pk", flat=True))
    ]
    assert len(on_second) == 6 * 11 - 3 * 2


def test_repeated_views_are_cached_until_new_data_arrives(demo, db, django_assert_max_num_queries):
    lead = User.objects.get(username="lead")
    selection = selection_from_params(user=lead, params={"team": "assessment-team-north"})
    first = impact_report_get(user=lead, selection=selection)
    with django_assert_max_num_queries(1):  # only the data stamp is read
        assert impact_report_get(user=lead, selection=selection) is not None
    Attendance.objects.filter(pk=Attendance.objects.first().pk).update(status="attended")
    attendance = Attendance.objects.first()
    attendance.save()  # a new attendance mark changes the stamp
    again = impact_report_get(user=lead, selection=selection)
    assert again.generated_at > first.generated_at


def test_impact_report_command_writes_every_format(demo, db, tmp_path):
    for fmt in ("json", "csv", "html", "pdf"):
        out = tmp_path / f"report.{fmt}"
        call_command(
            "impact_report", "--course", CSE, "--format", fmt, "--output", str(out), stdout=io.StringIO()
        )
        assert out.stat().st_size > 1000
    data = json.loads((tmp_path / "report.json").read_text())
    assert [s["key"] for s in data["sections"]][:3] == ["reaction", "learning", "practice"]


def test_impact_report_command_refuses_bad_input(demo, db, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No course called 'nope'"):
        call_command("impact_report", "--course", "nope", "--format", "json", "--output", str(tmp_path / "x"))


# --- the verdicts against every effect seed_demo builds in ------------------------------------------
#
# Built in (practice/demo.py, surveys/demo.py):
# - level 3: only the CSE course moves referral quality (about +10 on the 0-100 score at the peak,
#   fading to half by a year); no other course does, and there is no secular trend;
# - level 4a: at the full CSE effect the share accepted rises by 8 points and NFA falls by 8
#   (scaled like the grades: so the built-in average is 8 x the mean effect multiplier over the
#   referrals made after training); no other course changes outcomes; re-referrals are not
#   changed by any training;
# - level 2: knowledge +20 percentage points in the chance of a right answer just after, 11 at six
#   weeks and 9 at three months (55% and 45% kept); confidence +2.6 on 0-10 just after;
#   attitudes +0.30 on 1-5;
# - level 1: reaction and intention items centred on 4.1 (sd 0.5 between people), on 1-5;
# - no link between a person's learning gain and their practice change (their traits are drawn
#   independently).

COURSES = (
    CSE,
    "cce-county-lines",
    "good-referrals-front-door",
    "neglect-graded-care",
    "online-harm-frontline",
)


@pytest.fixture(scope="module")
def reports(demo, django_db_blocker):
    """The whole partnership's report and each course's, built once for the verdict checks."""
    with django_db_blocker.unblock():
        lead = User.objects.get(username="lead")
        built = {"all": _report(lead, partnership="northbridge")}
        built.update({slug: _report(lead, course=slug) for slug in COURSES})
        return built


def _built_in_outcome_shift() -> float:
    """Percentage points by which seed_demo moves the shares accepted (up) and NFA (down), on
    average over the decided referrals CSE-trained staff made after their training."""
    from django.db.models import Min
    from django.utils import timezone

    from practice.demo import EFFECT_PEAK, training_effect
    from practice.models import Referral

    first = {
        staff: timezone.localtime(start).date()
        for staff, start in Attendance.objects.trained()
        .filter(session__course__slug=CSE)
        .values("staff_id")
        .annotate(start=Min("session__start"))
        .values_list("staff_id", "start")
    }
    effects = [
        training_effect((made_on - first[staff]).days) / EFFECT_PEAK
        for staff, made_on in Referral.objects.exclude(outcome="pending")
        .filter(staff_id__in=first)
        .values_list("staff_id", "made_on")
        if made_on >= first[staff]
    ]
    return 8 * sum(effects) / len(effects)


def _se(figures) -> float:
    return (figures["ci_high"] - figures["ci_low"]) / (2 * 1.96)


def test_level_4a_on_the_demo_matches_the_outcome_effects_built_in(reports, db):
    shift = _built_in_outcome_shift()
    assert 4 < shift < 8  # the built-in average: build-up and fade keep it under the peak of 8
    outcomes = reports[CSE].section("outcomes").figures
    accepted, nfa = outcomes["accepted"], outcomes["nfa"]
    assert accepted["direction"] == "rise", reports[CSE].section("outcomes").verdict
    assert nfa["direction"] == "fall", reports[CSE].section("outcomes").verdict
    # "About what the seed builds": within 3.5 standard errors of the built-in shift. (The demo's
    # NFA estimate is about 2.8 standard errors from it: one draw, from one seed.)
    assert abs(accepted["change"] - shift) < 3.5 * _se(accepted)
    assert abs(nfa["change"] + shift) < 3.5 * _se(nfa)
    for slug in COURSES[1:]:
        other = reports[slug].section("outcomes").figures
        assert other["accepted"]["direction"] not in ("rise", "fall"), slug
        assert other["nfa"]["direction"] not in ("rise", "fall"), slug


def test_rereferrals_are_not_called_a_rise_on_the_demo(reports):
    """No training changes re-referrals in the seed; early referrals have a shorter look-back,
    which made them "rise" by 10 to 12 points on every report before they were left out."""
    for name, report in reports.items():
        section = report.section("outcomes")
        rereferral = section.figures["rereferral"]
        assert rereferral.get("direction") not in ("rise", "fall"), (name, section.verdict)
        assert "re-referred within 12 months rose" not in section.verdict


def test_knowledge_gain_and_its_partial_fade_on_the_demo(reports):
    for name in ("all", CSE):
        knowledge = reports[name].section("learning").figures["knowledge"]
        # +20 points in the chance of a right answer, a little less once chances near certainty
        # are capped at 97%: about 19.
        assert knowledge["ci_low"] < 19 < knowledge["ci_high"], name
        kept = knowledge["retention_percent"]
        assert 30 < kept["6 weeks on"] < 80, (name, kept)  # 55% built in
        assert 10 < kept["3 months on"] < 75, (name, kept)  # 45% built in
        assert kept["3 months on"] < 100 and kept["6 weeks on"] < 100  # it fades, partly
    assert "of that change was still there 6 weeks later" in reports[CSE].section("learning").verdict


def test_confidence_and_attitude_gains_on_the_demo(reports):
    for name in ("all", CSE):
        learning = reports[name].section("learning").figures
        # +2.6 built in; answers are whole numbers clipped to 0-10, so within 0.3.
        assert learning["confidence"]["direction"] == "rise"
        assert abs(learning["confidence"]["mean_diff"] - 2.6) < 0.3, name
        assert learning["attitudes"]["direction"] == "rise"
        assert abs(learning["attitudes"]["mean_diff"] - 0.30) < 0.15, name


def test_reaction_on_the_demo(reports):
    reaction = reports["all"].section("reaction")
    assert abs(reaction.figures["reaction"]["mean"] - 4.0) < 0.25
    assert reaction.verdict.startswith("Staff rated the training 4.0 out of 5")
    (chart,) = reaction.charts
    assert "The training was relevant to my work." in set(chart.table["question"])


def test_the_course_comparison_picks_out_only_the_course_built_to_work(reports):
    courses = reports["all"].section("courses")
    assert courses.figures["clear"] == ["Child sexual exploitation: recognise, respond, refer"]
    assert courses.verdict == (
        "Referral quality rose clearly after: Child sexual exploitation: recognise, respond, refer."
    )


def test_only_the_cse_course_is_called_a_rise_in_referral_quality(reports):
    assert reports[CSE].section("practice").direction == "rise"
    for slug in COURSES[1:]:
        assert reports[slug].section("practice").direction != "rise", slug


def test_the_chain_claims_no_link_the_seed_did_not_build(reports):
    for name, report in reports.items():
        chain = report.section("chain")
        assert chain.direction not in ("positive_link", "negative_link"), (name, chain.verdict)
        assert not chain.verdict.startswith(("Yes", "People who learnt more", "The reverse"))
    # The referrals course ran its questionnaires anonymously: never linked to referrals.
    assert reports["good-referrals-front-door"].section("chain").direction == "not_available"


# --- the command's selections ------------------------------------------------------------------------


def _command_json(tmp_path, *args) -> dict:
    out = tmp_path / "report.json"
    call_command("impact_report", *args, "--format", "json", "--output", str(out), stdout=io.StringIO())
    return json.loads(out.read_text())


def _referrals_base(data) -> int:
    quality = next(s for s in data["sections"] if s["key"] == "data_quality")
    rows = {row["measure"]: row for row in quality["tables"][0]["rows"]}
    return rows["Referrals audited"]["base"]


def test_command_without_a_selection_reports_on_the_whole_demo_partnership(demo, db, tmp_path):
    from practice.models import Referral

    data = _command_json(tmp_path)
    assert data["scope"] == "Partnership: Northbridge Safeguarding Children Partnership"
    assert (
        _referrals_base(data)
        == Referral.objects.filter(staff__team__organisation__partnership__slug="northbridge").count()
    )


def test_command_organisation(demo, db, tmp_path):
    from practice.models import Referral

    data = _command_json(tmp_path, "--organisation", "northbridge-police")
    assert data["scope"] == "Organisation: Northbridge Police"
    assert (
        _referrals_base(data)
        == Referral.objects.filter(staff__team__organisation__slug="northbridge-police").count()
    )


def test_command_team(demo, db, tmp_path):
    from practice.models import Referral

    data = _command_json(tmp_path, "--team", "assessment-team-north")
    assert data["scope"] == "Team: Assessment Team North"
    assert _referrals_base(data) == Referral.objects.filter(staff__team__slug="assessment-team-north").count()


def test_command_period(demo, db, tmp_path):
    import datetime as dt

    from django.utils import timezone

    from practice.models import Referral

    today = timezone.localdate()
    start, end = today - dt.timedelta(days=365), today - dt.timedelta(days=30)
    data = _command_json(tmp_path, "--from", start.isoformat(), "--to", end.isoformat())
    assert data["scope"] == f"Period: {start} to {end}"
    assert _referrals_base(data) == Referral.objects.filter(made_on__range=(start, end)).count()
    # Staff trained before the period still count as trained: the CSE effect is still found.
    practice = next(s for s in data["sections"] if s["key"] == "practice")
    assert practice["figures"]["n_treated_units"] >= 20


# --- anonymous questionnaires ------------------------------------------------------------------------


ANONYMOUS = "good-referrals-front-door"  # its questionnaires run in anonymous mode (surveys/demo.py)


def _people_in_anonymous_course():
    return StaffMember.objects.filter(
        questionnaire_invitations__administration__anonymous=True,
        questionnaire_invitations__administration__session__course__slug=ANONYMOUS,
    ).distinct()


def test_an_anonymous_administration_is_broken_down_to_no_one(demo, client, db, tmp_path):
    lead = User.objects.get(username="lead")
    client.force_login(lead)
    page = client.get("/reports/impact/", {"course": ANONYMOUS}).content.decode()
    api = client.get("/api/v1/reports/impact/", {"course": ANONYMOUS}).json()
    out = tmp_path / "report.csv"
    call_command(
        "impact_report",
        "--course",
        ANONYMOUS,
        "--user",
        "lead",
        "--format",
        "csv",
        "--output",
        str(out),
        stdout=io.StringIO(),
    )
    exported = out.read_text()
    people = _people_in_anonymous_course()
    assert people.count() >= 20
    for person in people:
        for text in (page, json.dumps(api), exported):
            assert person.name not in text and person.work_email not in text
    sections = {s["key"]: s for s in api["sections"]}
    # Linking anonymous answers to the referrals a person makes is a breakdown to individuals.
    chain = sections["chain"]
    assert chain["direction"] == "not_available" and chain["tables"] == [] and chain["figures"] == {}
    for section in api["sections"]:
        for table in section["tables"] + section["charts"]:
            columns = set(table["rows"][0]) if table["rows"] else set()
            assert not columns & {"person", "staff", "name", "person_key", "response"}, table["key"]
            for row in table["rows"]:
                n = row.get("n")
                assert n in (None, "c") or n >= 5, (table["key"], row)
    learning = sections["learning"]["figures"]["knowledge"]
    assert learning["n"] >= 5  # reported in aggregate, as it may be


def test_an_anonymous_administration_in_a_small_team_is_suppressed(demo, client, db):
    client.force_login(User.objects.get(username="lead"))
    api = client.get("/api/v1/reports/impact/", {"course": ANONYMOUS, "team": "detached-youth-work"}).json()
    for section in api["sections"]:
        if section["key"] in ("reaction", "learning", "chain"):
            assert section["direction"] in ("not_enough_data", "not_available"), section["verdict"]
            assert section["tables"] == [] and section["figures"] == {}


# --- charts: every chart has its data table beneath it, on the page and in print ---------------------


def _chart_blocks(html: str) -> list[str]:
    """For each chart, the markup from its figure to the next figure, table caption or section end."""
    import re

    return [
        m.group(0) for m in re.finditer(r"<figure.*?</figure>\s*<div[^>]*>\s*<table.*?</table>", html, re.S)
    ]


def test_every_chart_is_followed_by_its_data_table_on_the_page_and_in_print(reports, client, db):
    from analysis.rendering import report_print_html

    report = reports["all"]
    charts = [c for s in report.sections for c in s.charts]
    keys = {c.key for c in charts}
    assert {"reaction_chart", "chain_chart", "practice_event_study", "outcomes_chart"} <= keys
    client.force_login(User.objects.get(username="lead"))
    page = client.get("/reports/impact/", {"partnership": "northbridge"}).content.decode()
    for html in (page, report_print_html(report)):
        assert html.count("<figure") == len(charts)
        blocks = _chart_blocks(html)
        assert len(blocks) == len(charts)
        for chart, block in zip(charts, blocks, strict=True):
            assert f"Data behind the chart: {chart.title}" in block
            first_column = chart.table.columns[0]
            from analysis.templatetags.report_tags import column_label

            assert column_label(first_column) in block


def test_the_report_keeps_a_constant_number_of_queries_with_its_new_charts(
    demo, db, django_assert_max_num_queries
):
    lead = User.objects.get(username="lead")
    small = selection_from_params(user=lead, params={"team": "assessment-team-north"})
    with django_assert_max_num_queries(22) as few:  # the data stamp and the frames
        impact_report_get(user=lead, selection=small, use_cache=False)
    with django_assert_max_num_queries(len(few.captured_queries)):
        impact_report_get(user=lead, selection=selection_from_params(user=lead, params={}), use_cache=False)


# --- the printed report's numbers -------------------------------------------------------------------


def test_printed_numbers_are_whole_and_never_negative_zero(reports):
    import re

    from analysis.rendering import report_print_html

    html = report_print_html(reports["all"])
    cells = re.findall(r'<td class="govuk-table__cell[^"]*">([^<]*)</td>', html)
    assert "-0.0" not in cells and "-0" not in cells
    agreement = html.split('caption--s">How far auditors agree</caption>')[1].split("</table>")[0]
    assert re.search(r"Referrals audited twice \(blind\)</td><td[^>]*>\d+</td>", agreement)
    assert "overflow-wrap: anywhere" not in html
    quality = html.split("<caption")[-1]
    assert "Out of" in quality and "Counting" in quality and ">People<" not in quality
